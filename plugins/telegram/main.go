// Command telegram is the Switchboard channel for Telegram bots (the Bot
// API, https://core.telegram.org/bots/api).
//
//   - Inbound, mode "webhook": Telegram POSTs each Update to the bot's
//     webhook URL (/hooks/{bot}/{channel}, set with setWebhook and a
//     secret_token); the plugin checks X-Telegram-Bot-Api-Secret-Token.
//   - Inbound, mode "polling": the plugin long-polls getUpdates (Poll) and
//     confirms an update only once the runtime has stored it.
//   - Outbound: sendMessage with an inline keyboard for buttons or a reply
//     keyboard for quick replies, sendPhoto for images, sendDocument for
//     files.
//
// Updates handled: message (text, photo, document, video, audio, voice,
// caption) and callback_query (a tapped inline button: its callback_data
// is the message's payload). Edited messages, channel posts and the rest
// are acknowledged and ignored.
//
// Ids: a message's id is "{chat_id}:{message_id}" (message ids are unique
// only within a chat), a button tap's "cq:{callback_query_id}"; a
// redelivered update gets the same id, and the runtime handles it once.
// Send returns "{chat_id}:{message_id}" of the message it sent.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

func main() {
	sdk.ServeChannel(New())
}

// Telegram is the channel; it keeps one configuration per instance.
type Telegram struct {
	// http has no overall timeout: getUpdates holds a request open for
	// pollTimeout. Every call bounds itself with a context instead.
	http *http.Client
	// pollTimeout is getUpdates' long-polling timeout.
	pollTimeout time.Duration

	mu   sync.RWMutex
	conf map[string]config
}

type config struct {
	Token         string `json:"token"`
	Mode          string `json:"mode"`
	WebhookSecret string `json:"webhook_secret"`
	APIURL        string `json:"api_url"`
}

// Modes of receiving.
const (
	modeWebhook = "webhook"
	modePolling = "polling"
)

const defaultAPIURL = "https://api.telegram.org"

// New returns the channel.
func New() *Telegram {
	return &Telegram{http: sdk.HTTPClient(0), pollTimeout: 25 * time.Second, conf: map[string]config{}}
}

var (
	_ sdk.Channel = (*Telegram)(nil)
	_ sdk.Poller  = (*Telegram)(nil)
)

// Telegram's limits: a message's text, a media caption, a button's
// callback_data (bytes).
const (
	maxText         = 4096
	maxCaption      = 1024
	maxCallbackData = 64
)

// Manifest: text up to 4096 characters (the runtime splits longer text),
// buttons, quick replies, images and files.
func (t *Telegram) Manifest() sdk.ChannelManifest {
	return sdk.ChannelManifest{
		Name:        "telegram",
		Version:     "1.0.0",
		Description: "Telegram bots through the Bot API: webhook or long polling.",
		ConfigSchema: json.RawMessage(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["token"],
  "additionalProperties": false,
  "properties": {
    "token":          {"type": "string", "description": "the bot token from @BotFather (123456:ABC…)", "writeOnly": true},
    "mode":           {"enum": ["webhook", "polling"], "default": "webhook", "description": "how updates arrive: Telegram calls the webhook URL, or the plugin long-polls getUpdates"},
    "webhook_secret": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,256}$", "description": "the secret_token given to setWebhook; required in webhook mode", "writeOnly": true},
    "api_url":        {"type": "string", "format": "uri", "default": "https://api.telegram.org", "description": "the Bot API server"}
  }
}`),
		Secrets: []string{"/token", "/webhook_secret"},
		Capabilities: sdk.Capabilities{
			Buttons: true, QuickReplies: true, Images: true, Files: true, MaxText: maxText,
		},
	}
}

var (
	tokenRe  = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	secretRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

// Configure checks and keeps an instance's configuration. Messages never
// repeat a secret.
func (t *Telegram) Configure(ctx context.Context, instance string, raw json.RawMessage) error {
	var c config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return sdk.ConfigError("", "the configuration is not valid: %v", err)
	}
	if !tokenRe.MatchString(c.Token) {
		return sdk.ConfigError("/token", "write the bot token @BotFather gave (digits, a colon, then letters, digits, _ and -)")
	}
	switch c.Mode {
	case "":
		c.Mode = modeWebhook
	case modeWebhook, modePolling:
	default:
		return sdk.ConfigError("/mode", "write webhook or polling")
	}
	if c.Mode == modeWebhook && !secretRe.MatchString(c.WebhookSecret) {
		return sdk.ConfigError("/webhook_secret", "webhook mode needs the secret_token given to setWebhook: 1 to 256 letters, digits, _ and -")
	}
	if c.APIURL == "" {
		c.APIURL = defaultAPIURL
	} else if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return sdk.ConfigError("/api_url", "write an http or https URL")
	}
	t.mu.Lock()
	t.conf[instance] = c
	t.mu.Unlock()
	sdk.Logger().Info("instance configured", "instance", instance, "mode", c.Mode, "api", c.APIURL)
	return nil
}

func (t *Telegram) config(instance string) (config, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c, ok := t.conf[instance]
	if !ok {
		return c, sdk.Final(fmt.Errorf("instance %q is not configured", instance))
	}
	return c, nil
}
