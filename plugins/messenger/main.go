// Command messenger is the Facebook Messenger channel (Meta's Messenger
// Platform, through the Graph API).
//
//   - inbound: Meta POSTs webhooks (entry[].messaging[]) signed with
//     X-Hub-Signature-256 to /hooks/{bot}/{channel}, after a GET
//     verification handshake (webhook.go);
//   - outbound: the Send API, POST {graph_url}/{page_id}/messages (or
//     /me/messages) with the page access token (send.go): a RESPONSE within
//     24 hours of the user's last message, a MESSAGE_TAG after.
//
// make plugins builds it into bin/plugins/messenger.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/meta"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

func main() {
	sdk.ServeChannel(New())
}

// Window is Messenger's standard messaging window: a page may write
// freely within 24 hours of the user's last message; after it, only with
// a message tag.
const Window = 24 * time.Hour

// Messenger is the channel; one process serves every instance.
type Messenger struct {
	client *http.Client
	// files downloads attachments (media.go): its requests are bounded
	// by their context, not a timeout of the client's.
	files *http.Client
	now   func() time.Time
	mu    sync.RWMutex
	conf  map[string]config
	// sent remembers what was sent, for read receipts and for retries
	// of messages sent in several parts (sent.go).
	sent *sentLog
}

// config is one instance's configuration.
type config struct {
	PageID          string `json:"page_id"`
	PageAccessToken string `json:"page_access_token"`
	AppSecret       string `json:"app_secret"`
	VerifyToken     string `json:"verify_token"`
	GraphURL        string `json:"graph_url"`
	// DefaultTag is the message tag of messages sent after the window
	// closed that name none themselves (HUMAN_AGENT for a live-chat
	// agent's replies, within 7 days).
	DefaultTag string `json:"default_tag"`
	// CDNURL, for tests only, is a base URL whose attachments FetchMedia
	// fetches besides Facebook's CDN (a fake one on loopback); unset, only
	// https URLs of fbcdn.net and fbsbx.com are.
	CDNURL string `json:"cdn_url"`
}

// New returns the channel with an HTTP client whose every request is
// bounded (each call is bounded by its ctx too).
func New() *Messenger {
	return &Messenger{client: sdk.HTTPClient(10 * time.Second), files: sdk.HTTPClient(0), now: time.Now, conf: map[string]config{}, sent: newSentLog()}
}

var _ sdk.Channel = (*Messenger)(nil)

// Manifest: text up to 640 characters (the limit of a button template's
// text; the runtime splits longer text), buttons, quick replies,
// galleries, images, media and files, a 24-hour window.
func (ms *Messenger) Manifest() sdk.ChannelManifest {
	return sdk.ChannelManifest{
		Name:         "messenger",
		Version:      "1.0.0",
		Description:  "Facebook Messenger (Meta Messenger Platform, Send API).",
		ConfigSchema: json.RawMessage(configSchema),
		Secrets:      []string{"/page_access_token", "/app_secret", "/verify_token"},
		Capabilities: sdk.Capabilities{
			Buttons: true, QuickReplies: true, Images: true, Media: true, Files: true, Gallery: true,
			MaxText: 640, ReplyWindow: Window,
		},
	}
}

const configSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["page_access_token", "app_secret", "verify_token"],
  "additionalProperties": false,
  "properties": {
    "page_id":           {"type": "string", "description": "the Facebook Page's id; default: the page of the token (/me)"},
    "page_access_token": {"type": "string", "description": "a page access token with pages_messaging", "writeOnly": true},
    "app_secret":        {"type": "string", "description": "the Meta app's secret: checks X-Hub-Signature-256", "writeOnly": true},
    "verify_token":      {"type": "string", "description": "the verify token you enter with the callback URL in the app dashboard", "writeOnly": true},
    "graph_url":         {"type": "string", "format": "uri", "default": "` + meta.DefaultGraphURL + `"},
    "default_tag":       {"type": "string", "description": "the message tag after the 24-hour window, such as HUMAN_AGENT; none: such messages fail",
                          "enum": ["", "HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"]},
    "cdn_url":           {"type": "string", "format": "uri", "description": "for tests only: a further base URL attachments are fetched from (a fake CDN); unset, only https URLs of fbcdn.net and fbsbx.com are"}
  }
}`

// tags are the message tags the Send API knows.
var tags = map[string]bool{"HUMAN_AGENT": true, "ACCOUNT_UPDATE": true, "CONFIRMED_EVENT_UPDATE": true, "POST_PURCHASE_UPDATE": true}

// Configure checks and keeps an instance's configuration. Error messages
// name the field and never repeat a secret.
func (ms *Messenger) Configure(ctx context.Context, instance string, raw json.RawMessage) error {
	var c config
	if err := meta.DecodeConfig(raw, &c); err != nil {
		return err
	}
	for _, f := range []struct{ v, field string }{
		{c.PageAccessToken, "/page_access_token"}, {c.AppSecret, "/app_secret"}, {c.VerifyToken, "/verify_token"},
	} {
		if f.v == "" {
			return sdk.ConfigError(f.field, "%s is required", f.field[1:])
		}
	}
	if c.DefaultTag != "" && !tags[c.DefaultTag] {
		return sdk.ConfigError("/default_tag", "write one of HUMAN_AGENT, ACCOUNT_UPDATE, CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE")
	}
	u, err := meta.CheckGraphURL(c.GraphURL)
	if err != nil {
		return err
	}
	c.GraphURL = u
	if c.CDNURL != "" {
		b, err := url.Parse(c.CDNURL)
		if err != nil || (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" || b.User != nil || b.RawQuery != "" || b.Fragment != "" {
			return sdk.ConfigError("/cdn_url", "write an http or https base URL without a query, or leave it unset")
		}
		c.CDNURL = strings.TrimRight(c.CDNURL, "/")
	}
	ms.mu.Lock()
	ms.conf[instance] = c
	ms.mu.Unlock()
	sdk.Logger().Info("instance configured", "instance", instance, "page_id", c.PageID, "graph_url", c.GraphURL)
	return nil
}

func (ms *Messenger) config(instance string) (config, error) {
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	c, ok := ms.conf[instance]
	if !ok {
		return c, sdk.Final(fmt.Errorf("%w: %q", meta.ErrNotConfigured, instance))
	}
	return c, nil
}
