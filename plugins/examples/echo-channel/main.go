// Command echo-channel is a complete, minimal Switchboard channel plugin,
// the one docs/plugins.md walks through. Its "provider" is any HTTP
// service:
//
//   - inbound: the provider POSTs {"from": "...", "text": "...", "id": "..."}
//     to the bot's webhook URL (/hooks/{bot}/{channel}); each request is one
//     message from the user "from". With "image": "{file id}" the message
//     carries an image the provider keeps at {url}/files/{file id}, which
//     only the token opens: the plugin fetches it when an agent looks
//     (FetchMedia);
//   - outbound: the plugin POSTs {"to": "...", "text": "..."} to the
//     configured url with "Authorization: Bearer <token>", and the provider
//     answers {"id": "..."}.
//
// Build it into the runtime's plugins folder:
//
//	go build -o bin/plugins/echo ./plugins/examples/echo-channel
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

func main() {
	sdk.ServeChannel(New())
}

// Echo is the channel. One process serves every instance (every bot's
// echo channel), so it keeps one configuration per instance.
type Echo struct {
	client *http.Client
	mu     sync.RWMutex
	conf   map[string]config
}

// config is one instance's configuration.
type config struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

// New returns the channel with an HTTP client whose every request is
// bounded (the runtime bounds each call too, through ctx).
func New() *Echo {
	return &Echo{client: sdk.HTTPClient(10 * time.Second), conf: map[string]config{}}
}

var (
	_ sdk.Channel      = (*Echo)(nil)
	_ sdk.MediaFetcher = (*Echo)(nil)
)

// Manifest says what the channel is: text only, up to 1000 characters (the
// runtime turns buttons into numbered options and splits longer text).
func (e *Echo) Manifest() sdk.ChannelManifest {
	return sdk.ChannelManifest{
		Name:        "echo",
		Version:     "1.0.0",
		Description: "Example channel: JSON webhooks in, JSON POSTs out.",
		ConfigSchema: json.RawMessage(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["url", "token"],
  "additionalProperties": false,
  "properties": {
    "url":   {"type": "string", "format": "uri", "description": "where outbound messages are POSTed"},
    "token": {"type": "string", "description": "bearer token for the provider", "writeOnly": true}
  }
}`),
		Secrets:      []string{"/token"},
		Capabilities: sdk.Capabilities{MaxText: 1000},
	}
}

// Configure checks and keeps an instance's configuration. Error messages
// name the field and never repeat a secret.
func (e *Echo) Configure(ctx context.Context, instance string, raw json.RawMessage) error {
	var c config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return sdk.ConfigError("", "the configuration is not valid: %v", err)
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return sdk.ConfigError("/url", "write an http or https URL")
	}
	if c.Token == "" {
		return sdk.ConfigError("/token", "the token is required")
	}
	e.mu.Lock()
	e.conf[instance] = c
	e.mu.Unlock()
	sdk.Logger().Info("instance configured", "instance", instance, "url", c.URL)
	return nil
}

func (e *Echo) config(instance string) (config, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	c, ok := e.conf[instance]
	if !ok {
		return c, sdk.Final(fmt.Errorf("instance %q is not configured", instance))
	}
	return c, nil
}

// inbound is what the provider POSTs to the webhook.
type inbound struct {
	ID    string `json:"id"`
	From  string `json:"from"`
	Text  string `json:"text"`
	Image string `json:"image"`
}

// fileRef is the URL of a file the user sent: the provider's file id, no
// token, no address (FetchMedia knows both).
const fileRef = "echo-file:"

var fileIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// HandleWebhook turns one POST into one message. A request it refuses gets
// a 4xx answer and no message: the provider must not retry it.
func (e *Echo) HandleWebhook(ctx context.Context, instance string, r *sdk.WebhookRequest) (*sdk.WebhookResult, error) {
	if r.Method != http.MethodPost {
		return answer(http.StatusMethodNotAllowed, `{"error":"POST only"}`), nil
	}
	var in inbound
	if err := json.Unmarshal(r.Body, &in); err != nil {
		return answer(http.StatusBadRequest, `{"error":"the body must be a JSON object"}`), nil
	}
	if in.From == "" || (in.Text == "" && in.Image == "") {
		return answer(http.StatusBadRequest, `{"error":"from and text are required"}`), nil
	}
	if in.Image != "" && !fileIDRe.MatchString(in.Image) {
		return answer(http.StatusBadRequest, `{"error":"image is a file id: letters, digits, _ and -"}`), nil
	}
	content := sdk.Content{Text: in.Text}
	if in.Image != "" {
		content.Attachments = []sdk.Media{{URL: fileRef + in.Image, Kind: "image"}}
	}
	res := answer(http.StatusOK, `{"ok":true}`)
	res.Messages = []sdk.InboundMessage{{Sender: in.From, ID: in.ID, Content: content}}
	return res, nil
}

func answer(status int, body string) *sdk.WebhookResult {
	return &sdk.WebhookResult{
		Status: status,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   []byte(body),
	}
}

// Send POSTs the message to the provider and returns its id. The
// provider's answer decides what happens on failure: 429 and 5xx are tried
// again (after Retry-After, when given), any other error is final.
func (e *Echo) Send(ctx context.Context, instance string, m *sdk.OutboundMessage) (string, error) {
	c, err := e.config(instance)
	if err != nil {
		return "", err
	}
	body, _ := json.Marshal(map[string]string{"to": m.Recipient, "text": m.Content.Text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.URL, "/")+"/messages", bytes.NewReader(body))
	if err != nil {
		return "", sdk.Final(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Idempotency-Key", m.ID)
	resp, err := e.client.Do(req)
	if err != nil {
		// A network failure or a timeout: worth another try. The error
		// names the URL, never the token.
		return "", sdk.Retryable(err, 0)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return "", sdk.Retryable(errors.New("rate limited by the provider"), sdk.RetryAfter(resp.Header.Get("Retry-After")))
	case resp.StatusCode >= 500:
		return "", sdk.Retryable(fmt.Errorf("provider error %d", resp.StatusCode), 0)
	case resp.StatusCode >= 300:
		return "", sdk.Final(fmt.Errorf("provider refused the message: %d %s", resp.StatusCode, strings.TrimSpace(string(b))))
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", sdk.Final(fmt.Errorf("provider answer is not JSON: %v", err))
	}
	sdk.Logger().Debug("sent", "instance", instance, "id", out.ID)
	return out.ID, nil
}

// FetchMedia downloads a file the user sent, by its reference
// (echo-file:{id}), from the provider's {url}/files/{id} with the token.
// Anything else is refused before any request: the token goes to the
// configured provider only.
func (e *Echo) FetchMedia(ctx context.Context, instance, ref string) (io.ReadCloser, sdk.MediaInfo, error) {
	id, ok := strings.CutPrefix(ref, fileRef)
	if !ok || !fileIDRe.MatchString(id) {
		return nil, sdk.MediaInfo{}, fmt.Errorf("%w: not an %s reference", sdk.ErrUnknownMedia, fileRef)
	}
	c, err := e.config(instance)
	if err != nil {
		return nil, sdk.MediaInfo{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.URL, "/")+"/files/"+id, nil)
	if err != nil {
		return nil, sdk.MediaInfo{}, sdk.Final(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, sdk.MediaInfo{}, sdk.Retryable(err, 0)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err := fmt.Errorf("provider error %d for file %s", resp.StatusCode, id)
		return nil, sdk.MediaInfo{}, sdk.StatusError(resp, err)
	}
	// The SDK reads the body to its end and closes it.
	return resp.Body, sdk.MediaInfo{ContentType: resp.Header.Get("Content-Type"), Size: max(resp.ContentLength, 0)}, nil
}
