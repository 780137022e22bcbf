// Command testplugin is the host tests' plugin: a channel (or, built with
// -ldflags "-X main.kind=integration", an integration) that misbehaves on
// request.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

var (
	kind = "channel"
	name = "testchan"
	// plain, built with -X main.plain=yes, is a channel of sdk.Channel's
	// calls only: it neither polls nor fetches media.
	plain = ""
)

type channel struct {
	mu   sync.Mutex
	conf map[string]string
}

// channelSchema is the channel's config schema, unless the file named by
// $TESTPLUGIN_SCHEMA has another (read at every launch, so that a test
// can give a restarted plugin a new manifest).
const channelSchema = `{"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}}`

func (c *channel) Manifest() sdk.ChannelManifest {
	schema := []byte(channelSchema)
	if f := os.Getenv("TESTPLUGIN_SCHEMA"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		schema = b
	}
	return sdk.ChannelManifest{Name: name, Version: "0.0.1", ConfigSchema: schema, Secrets: []string{"/token"},
		Capabilities: sdk.Capabilities{Buttons: true, ReplyWindow: 24 * time.Hour}}
}

func (c *channel) Configure(_ context.Context, instance string, config json.RawMessage) error {
	var v struct{ Token string }
	if err := json.Unmarshal(config, &v); err != nil || v.Token == "" {
		return sdk.ConfigError("/token", "a token is required")
	}
	c.mu.Lock()
	c.conf[instance] = v.Token
	c.mu.Unlock()
	return nil
}

func (c *channel) HandleWebhook(_ context.Context, instance string, r *sdk.WebhookRequest) (*sdk.WebhookResult, error) {
	return &sdk.WebhookResult{Status: 202, Body: r.Body, Messages: []sdk.InboundMessage{{Sender: "u", Content: sdk.Content{Text: string(r.Body)}}}}, nil
}

func (c *channel) Send(ctx context.Context, instance string, m *sdk.OutboundMessage) (string, error) {
	c.mu.Lock()
	token, ok := c.conf[instance]
	c.mu.Unlock()
	if !ok {
		return "", sdk.Final(fmt.Errorf("instance %s is not configured", instance))
	}
	if m.Content.Text == "leak" { // a careless plugin
		sdk.Logger().Info("sending with token "+token, "token", token)
	}
	return act(ctx, m.Content.Text)
}

// act does what text says.
func act(ctx context.Context, text string) (string, error) {
	switch text {
	case "hang": // ignores ctx: the host must restart the plugin
		time.Sleep(time.Hour)
	case "crash":
		os.Exit(2)
	case "spam":
		for i := 0; i < 300; i++ {
			sdk.Logger().Info("spam", "i", i)
		}
	case "pid":
		return strconv.Itoa(os.Getpid()), nil
	case "slow":
		select {
		case <-time.After(time.Hour):
		case <-ctx.Done():
			return "", sdk.Retryable(ctx.Err(), 0)
		}
	}
	return "ok:" + text, nil
}

// Poll emits one message a tick.
func (c *channel) Poll(ctx context.Context, instance string, emit func(context.Context, sdk.Received) error) error {
	for i := 1; ; i++ {
		err := emit(ctx, sdk.Received{Messages: []sdk.InboundMessage{{Sender: strconv.Itoa(os.Getpid()), ID: strconv.Itoa(i)}}})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return nil
		}
	}
}

// FetchMedia fetches "tp:<what>": a small file, "big" (2 MiB of unknown
// size), "slow" (never ends, but honours ctx), "leak" (an error that
// carries the instance's token); any other URL is not its own.
func (c *channel) FetchMedia(ctx context.Context, instance, url string) (io.ReadCloser, sdk.MediaInfo, error) {
	c.mu.Lock()
	token, configured := c.conf[instance]
	c.mu.Unlock()
	what, ok := strings.CutPrefix(url, "tp:")
	switch {
	case !configured:
		return nil, sdk.MediaInfo{}, sdk.Final(fmt.Errorf("instance %s is not configured", instance))
	case !ok:
		return nil, sdk.MediaInfo{}, fmt.Errorf("%w: %s", sdk.ErrUnknownMedia, url)
	case what == "big":
		return io.NopCloser(bytes.NewReader(make([]byte, 2<<20))), sdk.MediaInfo{ContentType: "application/octet-stream"}, nil
	case what == "slow":
		select {
		case <-time.After(time.Hour):
		case <-ctx.Done():
		}
		return nil, sdk.MediaInfo{}, sdk.Retryable(ctx.Err(), 0)
	case what == "leak": // a careless plugin
		return nil, sdk.MediaInfo{}, sdk.Final(fmt.Errorf("GET https://files.example.com/%s/1: 404", token))
	}
	data := "file:" + what
	return io.NopCloser(strings.NewReader(data)), sdk.MediaInfo{ContentType: "text/plain", Name: what + ".txt", Size: int64(len(data))}, nil
}

type integration struct{}

func (integration) Manifest() sdk.IntegrationManifest {
	return sdk.IntegrationManifest{
		Name: name, Version: "0.0.2",
		ConfigSchema: json.RawMessage(`{"type": "object", "properties": {"key": {"type": "string", "minLength": 40}}, "additionalProperties": false}`),
		Secrets:      []string{"/key"},
		Actions: []sdk.Action{{
			Name: "act", Description: "does what text says",
			Params: json.RawMessage(`{"type": "object", "required": ["Text"], "properties": {"Text": {"type": "string"}}}`),
			Result: json.RawMessage(`{"type": "object", "required": ["out"], "properties": {"out": {"type": "string"}}}`),
		}},
	}
}

// Invoke answers act with what text says, the bot and the invocation id;
// "badresult" breaks the result schema.
func (integration) Invoke(ctx context.Context, action string, params json.RawMessage, conv sdk.Conversation) (json.RawMessage, error) {
	if action != "act" {
		return nil, sdk.Final(errors.New("no such action"))
	}
	var p struct{ Text string }
	_ = json.Unmarshal(params, &p)
	if p.Text == "badresult" {
		return json.RawMessage(`{"out": 42}`), nil
	}
	out, err := act(ctx, p.Text)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]string{"out": out, "bot": conv.Bot, "id": conv.InvocationID})
}

func main() {
	if kind == "integration" {
		sdk.ServeIntegration(integration{})
		return
	}
	if plain == "yes" {
		sdk.ServeChannel(struct{ sdk.Channel }{&channel{conf: map[string]string{}}})
		return
	}
	sdk.ServeChannel(&channel{conf: map[string]string{}})
}
