// Command twilio is the Switchboard integration for Twilio: the action
// sms.send sends a text message, for the SMS block and for SMS
// notifications of waiting handovers. It creates the message with Twilio's
// Messages API (POST /2010-04-01/Accounts/{sid}/Messages.json) and returns
// its SID and first status.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/twilio"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

func main() {
	sdk.ServeIntegration(New())
}

// Twilio is the integration: one account, configured once.
type Twilio struct {
	http *http.Client
	mu   sync.RWMutex
	conf *config
}

type config struct {
	AccountSID string `json:"account_sid"`
	AuthToken  string `json:"auth_token"`
	From       string `json:"from"`
	APIURL     string `json:"api_url"`
}

// New returns the integration, not yet configured.
func New() *Twilio {
	return &Twilio{http: sdk.HTTPClient(10 * time.Second)}
}

var (
	_ sdk.Integration           = (*Twilio)(nil)
	_ sdk.IntegrationConfigurer = (*Twilio)(nil)
)

// maxText is the longest Body Twilio's Messages API takes.
const maxText = 1600

// Manifest lists the one action, sms.send.
func (t *Twilio) Manifest() sdk.IntegrationManifest {
	return sdk.IntegrationManifest{
		Name:        "twilio",
		Version:     "1.0.0",
		Description: "Send SMS through Twilio Programmable Messaging.",
		ConfigSchema: json.RawMessage(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["account_sid", "auth_token", "from"],
  "additionalProperties": false,
  "properties": {
    "account_sid": {"type": "string", "pattern": "^AC[0-9a-fA-F]{32}$", "description": "the Twilio account (AC…)"},
    "auth_token":  {"type": "string", "description": "the account's auth token", "writeOnly": true},
    "from":        {"type": "string", "description": "the sending phone number (E.164, +15005550006) or a messaging service (MG…)"},
    "api_url":     {"type": "string", "format": "uri", "default": "https://api.twilio.com", "description": "Twilio's API base URL"}
  }
}`),
		Secrets: []string{"/auth_token"},
		Actions: []sdk.Action{{
			Name:        "sms.send",
			Description: "Send an SMS to a phone number; the result is Twilio's message SID and its first status (queued, usually).",
			Params: json.RawMessage(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["to", "text"],
  "additionalProperties": false,
  "properties": {
    "to":   {"type": "string", "pattern": "^\\+[1-9][0-9]{6,14}$", "description": "the recipient in E.164 form, +14155552671"},
    "text": {"type": "string", "minLength": 1, "maxLength": 1600, "description": "the message"}
  }
}`),
			Result: json.RawMessage(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["sid", "status"],
  "properties": {
    "sid":    {"type": "string", "description": "Twilio's message SID (SM…)"},
    "status": {"type": "string", "description": "the message's status at Twilio: queued, accepted, sent …"}
  }
}`),
		}},
	}
}

// Configure checks and keeps the account's configuration.
func (t *Twilio) Configure(ctx context.Context, raw json.RawMessage) error {
	var c config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return sdk.ConfigError("", "the configuration is not valid: %v", err)
	}
	if !strings.HasPrefix(c.AccountSID, "AC") || len(c.AccountSID) != 34 {
		return sdk.ConfigError("/account_sid", "write the account SID from the Twilio console (AC followed by 32 hex digits)")
	}
	if c.AuthToken == "" {
		return sdk.ConfigError("/auth_token", "the auth token is required")
	}
	if c.From == "" {
		return sdk.ConfigError("/from", "write the sending number (+15005550006) or a messaging service SID (MG…)")
	}
	if c.APIURL == "" {
		c.APIURL = twilio.DefaultAPIURL
	} else if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return sdk.ConfigError("/api_url", "write an http or https URL")
	}
	t.mu.Lock()
	t.conf = &c
	t.mu.Unlock()
	sdk.Logger().Info("configured", "account", c.AccountSID, "from", c.From)
	return nil
}

type smsParams struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

type smsResult struct {
	SID    string `json:"sid"`
	Status string `json:"status"`
}

// Invoke runs an action. Errors are final for bad parameters and as
// Twilio says otherwise (429 and 5xx retryable).
func (t *Twilio) Invoke(ctx context.Context, action string, params json.RawMessage, conv sdk.Conversation) (json.RawMessage, error) {
	if action != "sms.send" {
		return nil, sdk.Final(fmt.Errorf("unknown action %q", action))
	}
	t.mu.RLock()
	c := t.conf
	t.mu.RUnlock()
	if c == nil {
		return nil, sdk.Final(fmt.Errorf("the twilio integration is not configured"))
	}
	var p smsParams
	if err := json.Unmarshal(params, &p); err != nil {
		return nil, sdk.Final(fmt.Errorf("sms.send: parameters: %v", err))
	}
	if p.To == "" || strings.TrimSpace(p.Text) == "" {
		return nil, sdk.Final(fmt.Errorf("sms.send: to and text are required"))
	}
	if n := len([]rune(p.Text)); n > maxText {
		return nil, sdk.Final(fmt.Errorf("sms.send: the text has %d characters; Twilio takes at most %d", n, maxText))
	}
	form := url.Values{"To": {p.To}, "Body": {p.Text}}
	twilio.SetSender(form, c.From)
	api := &twilio.Client{APIURL: c.APIURL, AccountSID: c.AccountSID, AuthToken: c.AuthToken, HTTP: t.http}
	m, err := api.CreateMessage(ctx, form)
	if err != nil {
		return nil, err
	}
	sdk.Logger().Debug("sms sent", "sid", m.SID, "status", m.Status, "bot", conv.Bot)
	return json.Marshal(smsResult{SID: m.SID, Status: m.Status})
}
