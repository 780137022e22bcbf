// Command twilio-sms is the Switchboard channel for SMS and MMS through
// Twilio Programmable Messaging.
//
//   - Inbound: Twilio POSTs each message (From, Body, MessageSid,
//     NumMedia, MediaUrl0 …) and each status callback (MessageSid,
//     MessageStatus) form-encoded to the bot's webhook URL
//     (/hooks/{bot}/{channel}), signed with X-Twilio-Signature; the plugin
//     checks the signature against the configured webhook_url and answers
//     an empty TwiML <Response/>.
//   - Outbound: a POST to /2010-04-01/Accounts/{sid}/Messages.json with the
//     webhook URL as StatusCallback, so delivery receipts come back to the
//     same webhook. SMS shows no buttons: the runtime turns them into
//     numbered options before Send. Images go as MMS (MediaUrl).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/twilio"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

func main() {
	sdk.ServeChannel(New())
}

// SMS is the channel; it keeps one configuration per instance.
type SMS struct {
	http *http.Client
	// files downloads media (media.go): its requests are bounded by
	// their context, not a timeout of the client's.
	files *http.Client
	mu    sync.RWMutex
	conf  map[string]config
}

type config struct {
	AccountSID string `json:"account_sid"`
	AuthToken  string `json:"auth_token"`
	From       string `json:"from"`
	WebhookURL string `json:"webhook_url"`
	APIURL     string `json:"api_url"`
}

// New returns the channel.
func New() *SMS {
	return &SMS{http: sdk.HTTPClient(10 * time.Second), files: sdk.DownloadClient(), conf: map[string]config{}}
}

var _ sdk.Channel = (*SMS)(nil)

// maxBody is the longest Body Twilio's Messages API takes; the runtime
// splits longer text.
const maxBody = 1600

// Manifest: text up to 1600 characters and MMS images; no buttons, so the
// runtime degrades them to numbered options.
func (s *SMS) Manifest() sdk.ChannelManifest {
	return sdk.ChannelManifest{
		Name:        "twilio-sms",
		Version:     "1.0.0",
		Description: "SMS and MMS through Twilio Programmable Messaging.",
		ConfigSchema: json.RawMessage(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["account_sid", "auth_token", "from", "webhook_url"],
  "additionalProperties": false,
  "properties": {
    "account_sid": {"type": "string", "pattern": "^AC[0-9a-fA-F]{32}$", "description": "the Twilio account (AC…)"},
    "auth_token":  {"type": "string", "description": "the account's auth token: signs webhooks, authenticates API calls", "writeOnly": true},
    "from":        {"type": "string", "description": "the sending phone number (E.164, +15005550006) or a messaging service (MG…)"},
    "webhook_url": {"type": "string", "format": "uri", "description": "the public URL set at Twilio for incoming messages, https://…/hooks/{bot}/{channel}; Twilio signs it"},
    "api_url":     {"type": "string", "format": "uri", "default": "https://api.twilio.com", "description": "Twilio's API base URL"}
  }
}`),
		Secrets:      []string{"/auth_token"},
		Capabilities: sdk.Capabilities{Images: true, MaxText: maxBody},
	}
}

// Configure checks and keeps an instance's configuration.
func (s *SMS) Configure(ctx context.Context, instance string, raw json.RawMessage) error {
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
	if !httpURL(c.WebhookURL) {
		return sdk.ConfigError("/webhook_url", "write the public https URL set at Twilio, ending in /hooks/{bot}/{channel}")
	}
	if c.APIURL == "" {
		c.APIURL = twilio.DefaultAPIURL
	} else if !httpURL(c.APIURL) {
		return sdk.ConfigError("/api_url", "write an http or https URL")
	}
	s.mu.Lock()
	s.conf[instance] = c
	s.mu.Unlock()
	sdk.Logger().Info("instance configured", "instance", instance, "account", c.AccountSID, "from", c.From)
	return nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (s *SMS) config(instance string) (config, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.conf[instance]
	if !ok {
		return c, sdk.Final(fmt.Errorf("instance %q is not configured", instance))
	}
	return c, nil
}

// emptyTwiML answers every accepted webhook: no reply through TwiML, the
// bot's answers go through the API.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response/>`

// maxMedia bounds the MediaUrlN parameters read (Twilio sends at most 10).
const maxMedia = 10

// HandleWebhook checks the signature and turns the request into a message
// or a delivery receipt. A request with a bad or missing signature is
// refused with 403 and nothing is stored.
func (s *SMS) HandleWebhook(ctx context.Context, instance string, r *sdk.WebhookRequest) (*sdk.WebhookResult, error) {
	c, err := s.config(instance)
	if err != nil {
		return nil, err
	}
	if r.Method != http.MethodPost {
		return answer(http.StatusMethodNotAllowed, "text/plain", "POST only"), nil
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return answer(http.StatusBadRequest, "text/plain", "the body must be form-encoded"), nil
	}
	signed := twilio.SignedURL(c.WebhookURL, r.Query)
	if !twilio.ValidSignature(c.AuthToken, signed, form, r.Header.Get("X-Twilio-Signature")) {
		sdk.Logger().Warn("webhook refused: bad X-Twilio-Signature", "instance", instance, "url", signed, "remote", r.RemoteAddr)
		return answer(http.StatusForbidden, "text/plain", "invalid X-Twilio-Signature"), nil
	}
	res := answer(http.StatusOK, "text/xml", emptyTwiML)
	if st := form.Get("MessageStatus"); st != "" && st != "received" {
		if u, ok := statusUpdate(form); ok {
			res.Statuses = []sdk.StatusUpdate{u}
		}
		return res, nil
	}
	m, ok := inbound(form)
	if !ok {
		return answer(http.StatusBadRequest, "text/plain", "From and MessageSid are required"), nil
	}
	res.Messages = []sdk.InboundMessage{m}
	return res, nil
}

func answer(status int, contentType, body string) *sdk.WebhookResult {
	return &sdk.WebhookResult{
		Status: status,
		Header: http.Header{"Content-Type": {contentType}},
		Body:   []byte(body),
	}
}

// inbound reads an incoming SMS or MMS. The MessageSid is the message id,
// so Twilio's redelivery of the same message is handled once.
func inbound(f url.Values) (sdk.InboundMessage, bool) {
	m := sdk.InboundMessage{Sender: f.Get("From"), ID: f.Get("MessageSid"), Content: sdk.Content{Text: f.Get("Body")}}
	if m.Sender == "" || m.ID == "" {
		return m, false
	}
	n, _ := strconv.Atoi(f.Get("NumMedia"))
	for i := range min(max(n, 0), maxMedia) {
		u := f.Get("MediaUrl" + strconv.Itoa(i))
		if u == "" {
			continue
		}
		mime := f.Get("MediaContentType" + strconv.Itoa(i))
		m.Content.Attachments = append(m.Content.Attachments, sdk.Media{URL: u, MIME: mime, Kind: kind(mime)})
	}
	return m, true
}

func kind(mime string) string {
	for _, k := range []string{"image", "audio", "video"} {
		if strings.HasPrefix(mime, k+"/") {
			return k
		}
	}
	return "file"
}

// statuses maps Twilio's MessageStatus to the runtime's statuses. queued,
// accepted, scheduled and sending say nothing yet and are skipped.
var statuses = map[string]sdk.DeliveryStatus{
	"sent":        sdk.StatusSent,
	"delivered":   sdk.StatusDelivered,
	"read":        sdk.StatusRead,
	"undelivered": sdk.StatusFailed,
	"failed":      sdk.StatusFailed,
	"canceled":    sdk.StatusFailed,
}

func statusUpdate(f url.Values) (sdk.StatusUpdate, bool) {
	st, ok := statuses[f.Get("MessageStatus")]
	if !ok || f.Get("MessageSid") == "" {
		return sdk.StatusUpdate{}, false
	}
	u := sdk.StatusUpdate{ExternalID: f.Get("MessageSid"), Status: st}
	if st == sdk.StatusFailed {
		u.Error = "twilio " + f.Get("MessageStatus")
		if code := f.Get("ErrorCode"); code != "" {
			u.Error += ", error " + code
		}
	}
	return u, true
}

// Send creates the message at Twilio and returns its SID; the webhook URL
// is its StatusCallback.
func (s *SMS) Send(ctx context.Context, instance string, m *sdk.OutboundMessage) (string, error) {
	c, err := s.config(instance)
	if err != nil {
		return "", err
	}
	form := url.Values{"To": {m.Recipient}, "StatusCallback": {c.WebhookURL}}
	twilio.SetSender(form, c.From)
	text := m.Content.Text
	if img := m.Content.Image; img != nil {
		form.Set("MediaUrl", img.URL)
		if text == "" {
			text = img.Caption
		}
	}
	if text != "" {
		form.Set("Body", text)
	}
	if form.Get("Body") == "" && form.Get("MediaUrl") == "" {
		return "", sdk.Final(errors.New("nothing to send: the message has no text and no image"))
	}
	api := &twilio.Client{APIURL: c.APIURL, AccountSID: c.AccountSID, AuthToken: c.AuthToken, HTTP: s.http}
	msg, err := api.CreateMessage(ctx, form)
	if err != nil {
		return "", err
	}
	sdk.Logger().Debug("sent", "instance", instance, "sid", msg.SID, "status", msg.Status)
	return msg.SID, nil
}
