// Command whatsapp is the WhatsApp channel: the WhatsApp Business Cloud API
// of Meta's Graph API.
//
//   - inbound: Meta POSTs webhooks (entry[].changes[].value) signed with
//     X-Hub-Signature-256 to /hooks/{bot}/{channel}, after a GET
//     verification handshake (webhook.go);
//   - outbound: POST {graph_url}/{phone_number_id}/messages with the access
//     token (send.go). Outside the 24-hour customer service window only a
//     pre-approved template may be sent (template.go).
//
// make plugins builds it into bin/plugins/whatsapp.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/meta"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

func main() {
	sdk.ServeChannel(New())
}

// Window is WhatsApp's customer service window: a business may write
// freely within 24 hours of the user's last message, and only send
// templates after it.
const Window = 24 * time.Hour

// WhatsApp is the channel; one process serves every instance.
type WhatsApp struct {
	client *http.Client
	// files downloads media: its requests are bounded by their context
	// alone, since a file takes longer to read than an API answer.
	files *http.Client
	now   func() time.Time
	mu    sync.RWMutex
	conf  map[string]config
}

// config is one instance's configuration.
type config struct {
	PhoneNumberID string `json:"phone_number_id"`
	AccessToken   string `json:"access_token"`
	AppSecret     string `json:"app_secret"`
	VerifyToken   string `json:"verify_token"`
	GraphURL      string `json:"graph_url"`
	// DefaultTemplate is sent when a message must go out after the window
	// closed and the message names no template itself.
	DefaultTemplate *template `json:"default_template"`
}

// template is a pre-approved message template.
type template struct {
	Name     string `json:"name"`
	Language string `json:"language"`
	// TextParam passes the message's text as the template body's first
	// parameter ({{1}}), for templates such as "You have a new message:
	// {{1}}".
	TextParam bool `json:"text_param"`
}

// New returns the channel with an HTTP client whose every request is
// bounded (each call is bounded by its ctx too).
func New() *WhatsApp {
	return &WhatsApp{client: sdk.HTTPClient(10 * time.Second), files: sdk.DownloadClient(), now: time.Now, conf: map[string]config{}}
}

var _ sdk.Channel = (*WhatsApp)(nil)

// Manifest: text up to 1024 characters (the limit of a caption and of an
// interactive message's body; the runtime splits longer text), reply
// buttons and lists, images, documents, templates, a 24-hour window.
func (w *WhatsApp) Manifest() sdk.ChannelManifest {
	return sdk.ChannelManifest{
		Name:         "whatsapp",
		Version:      "1.0.0",
		Description:  "WhatsApp Business Cloud API (Meta Graph API).",
		ConfigSchema: json.RawMessage(configSchema),
		Secrets:      []string{"/access_token", "/app_secret", "/verify_token"},
		Capabilities: sdk.Capabilities{
			Buttons: true, Images: true, Media: true, Files: true,
			MaxText: 1024, ReplyWindow: Window, Templates: true,
		},
	}
}

const configSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["phone_number_id", "access_token", "app_secret", "verify_token"],
  "additionalProperties": false,
  "properties": {
    "phone_number_id": {"type": "string", "description": "the business phone number's id (WhatsApp Manager, API Setup)"},
    "access_token":    {"type": "string", "description": "a system user's access token with whatsapp_business_messaging", "writeOnly": true},
    "app_secret":      {"type": "string", "description": "the Meta app's secret: checks X-Hub-Signature-256", "writeOnly": true},
    "verify_token":    {"type": "string", "description": "the verify token you enter with the webhook URL in the app dashboard", "writeOnly": true},
    "graph_url":       {"type": "string", "format": "uri", "default": "` + meta.DefaultGraphURL + `"},
    "default_template": {
      "type": "object",
      "description": "the template sent when the 24-hour window has closed",
      "required": ["name", "language"],
      "additionalProperties": false,
      "properties": {
        "name":       {"type": "string"},
        "language":   {"type": "string", "description": "the template's language code, such as en_US"},
        "text_param": {"type": "boolean", "description": "pass the message's text as the body's {{1}}"}
      }
    }
  }
}`

// Configure checks and keeps an instance's configuration. Error messages
// name the field and never repeat a secret.
func (w *WhatsApp) Configure(ctx context.Context, instance string, raw json.RawMessage) error {
	var c config
	if err := meta.DecodeConfig(raw, &c); err != nil {
		return err
	}
	for _, f := range []struct{ v, field string }{
		{c.PhoneNumberID, "/phone_number_id"}, {c.AccessToken, "/access_token"},
		{c.AppSecret, "/app_secret"}, {c.VerifyToken, "/verify_token"},
	} {
		if f.v == "" {
			return sdk.ConfigError(f.field, "%s is required", f.field[1:])
		}
	}
	if t := c.DefaultTemplate; t != nil && (t.Name == "" || t.Language == "") {
		return sdk.ConfigError("/default_template", "give the template's name and language (such as en_US)")
	}
	u, err := meta.CheckGraphURL(c.GraphURL)
	if err != nil {
		return err
	}
	c.GraphURL = u
	w.mu.Lock()
	w.conf[instance] = c
	w.mu.Unlock()
	sdk.Logger().Info("instance configured", "instance", instance, "phone_number_id", c.PhoneNumberID, "graph_url", c.GraphURL)
	return nil
}

func (w *WhatsApp) config(instance string) (config, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	c, ok := w.conf[instance]
	if !ok {
		return c, sdk.Final(fmt.Errorf("%w: %q", meta.ErrNotConfigured, instance))
	}
	return c, nil
}
