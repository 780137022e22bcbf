// Command webhook is the webhook integration: signed outbound webhooks,
// for TRIGGER notifications and handover events. Its one action, "post",
// POSTs a JSON event to a URL with an HMAC-SHA256 signature of the body,
// so that the receiver can tell it came from this Switchboard and was not
// altered or replayed:
//
//	POST <url>
//	Content-Type: application/json
//	X-Switchboard-Event: handover.waiting
//	Idempotency-Key: 9c41…                (the event's id)
//	X-Switchboard-Delivery: 5f2b…         (unique per attempt)
//	X-Switchboard-Timestamp: 1763715600   (Unix seconds, also in the body)
//	X-Switchboard-Signature: sha256=<hex of HMAC-SHA256(secret, raw body)>
//
//	{"id": "9c41…", "event": "handover.waiting", "timestamp": 1763715600,
//	 "conversation": {"bot": "support", "contact_id": "c-42", "channel": "wa-main"},
//	 "data": {…}}
//
// The event's id is the runtime's invocation id, the same on every retry
// of the call, so a receiver drops ids it has seen. The timestamp is
// inside the signed body, so it cannot be changed without breaking the
// signature: a receiver checks the signature, then that the timestamp is
// recent (say 5 minutes) and equals the header.
//
// make plugins builds it into bin/plugins/webhook.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

func main() {
	sdk.ServeIntegration(New())
}

// Timeouts of one POST.
const (
	DefaultTimeout = 10 * time.Second
	MaxTimeout     = time.Minute
)

// Webhook is the integration.
type Webhook struct {
	client *http.Client
	now    func() time.Time
	newID  func() string
	mu     sync.RWMutex
	conf   *config
}

type config struct {
	URL     string `json:"url"`
	Secret  string `json:"secret"`
	Timeout string `json:"timeout"`
	timeout time.Duration
}

// New returns the integration. Its client follows no redirects: a POST
// redirected to a GET would lose its body, so a 3xx is an error to fix.
func New() *Webhook {
	return &Webhook{
		client: withoutRedirects(sdk.HTTPClient(0)),
		now:    time.Now,
		newID:  randomID,
	}
}

var (
	_ sdk.Integration           = (*Webhook)(nil)
	_ sdk.IntegrationConfigurer = (*Webhook)(nil)
)

// Manifest lists the one action, post.
func (w *Webhook) Manifest() sdk.IntegrationManifest {
	return sdk.IntegrationManifest{
		Name:         "webhook",
		Version:      "1.0.0",
		Description:  "Signed outbound webhooks (HMAC-SHA256) for notifications and handover events.",
		ConfigSchema: json.RawMessage(configSchema),
		Secrets:      []string{"/secret"},
		Actions: []sdk.Action{{
			Name:        "post",
			Description: "POST a signed JSON event to a URL (the configured url unless the parameters give one).",
			Params:      json.RawMessage(paramsSchema),
			Result:      json.RawMessage(resultSchema),
		}},
	}
}

const configSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["secret"],
  "additionalProperties": false,
  "properties": {
    "url":     {"type": "string", "format": "uri", "description": "where events go unless an action names another URL"},
    "secret":  {"type": "string", "minLength": 16, "description": "the HMAC-SHA256 key of X-Switchboard-Signature", "writeOnly": true},
    "timeout": {"type": "string", "default": "10s", "description": "how long one POST may take, such as 5s (at most 1m)"}
  }
}`

const paramsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["event"],
  "additionalProperties": false,
  "properties": {
    "url":   {"type": "string", "format": "uri"},
    "event": {"type": "string", "minLength": 1, "description": "the event's name, such as trigger.fired or handover.waiting"},
    "data":  {"description": "any JSON value, sent as the body's data"}
  }
}`

const resultSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["status"],
  "properties": {"status": {"type": "integer", "description": "the receiver's HTTP status"}}
}`

// Configure checks and keeps the configuration. Error messages name the
// field and never repeat the secret.
func (w *Webhook) Configure(ctx context.Context, raw json.RawMessage) error {
	var c config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return sdk.ConfigError("", "the configuration is not valid: %v", err)
	}
	if c.URL != "" && !httpURL(c.URL) {
		return sdk.ConfigError("/url", "write an http or https URL")
	}
	if len(c.Secret) < 16 {
		return sdk.ConfigError("/secret", "the secret is required, at least 16 characters (a random string)")
	}
	c.timeout = DefaultTimeout
	if c.Timeout != "" {
		d, err := time.ParseDuration(c.Timeout)
		if err != nil || d <= 0 || d > MaxTimeout {
			return sdk.ConfigError("/timeout", "write a duration up to 1m, such as 10s")
		}
		c.timeout = d
	}
	w.mu.Lock()
	w.conf = &c
	w.mu.Unlock()
	sdk.Logger().Info("configured", "url", redactURL(c.URL), "timeout", c.timeout.String())
	return nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

type params struct {
	URL   string          `json:"url"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// event is the body POSTed, signed as it is sent.
type event struct {
	ID           string          `json:"id"`
	Event        string          `json:"event"`
	Timestamp    int64           `json:"timestamp"`
	Conversation *conversation   `json:"conversation,omitempty"`
	Data         json.RawMessage `json:"data,omitempty"`
}

type conversation struct {
	Bot       string `json:"bot,omitempty"`
	ContactID string `json:"contact_id,omitempty"`
	Channel   string `json:"channel,omitempty"`
}

// Invoke runs post: a 2xx answer is the result {"status": …}; 429, 408,
// 5xx and network failures and timeouts are retryable (after the
// receiver's Retry-After, when given); any other answer is final.
func (w *Webhook) Invoke(ctx context.Context, action string, raw json.RawMessage, conv sdk.Conversation) (json.RawMessage, error) {
	if action != "post" {
		return nil, sdk.Final(fmt.Errorf("unknown action %q: the webhook integration has post", action))
	}
	w.mu.RLock()
	c := w.conf
	w.mu.RUnlock()
	if c == nil {
		return nil, sdk.Final(errors.New("the webhook integration is not configured: give it a secret"))
	}
	var p params
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, sdk.Final(fmt.Errorf("parameters: %v", err))
	}
	target := p.URL
	if target == "" {
		target = c.URL
	}
	switch {
	case p.Event == "":
		return nil, sdk.Final(errors.New("parameters: event is required"))
	case target == "":
		return nil, sdk.Final(errors.New("no URL: give url in the parameters or in the configuration"))
	case !httpURL(target):
		return nil, sdk.Final(errors.New("parameters: url must be an http or https URL"))
	}
	// The event is the call: its id is the invocation's, the same on every
	// retry. A caller that gives none makes every attempt its own event.
	delivery := w.newID()
	id := conv.InvocationID
	if id == "" {
		id = delivery
	}
	ev := event{ID: id, Event: p.Event, Timestamp: w.now().Unix(), Data: p.Data}
	if conv.Bot != "" || conv.ContactID != "" || conv.Channel != "" {
		ev.Conversation = &conversation{Bot: conv.Bot, ContactID: conv.ContactID, Channel: conv.Channel}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, sdk.Final(fmt.Errorf("data: %v", err))
	}
	status, err := w.post(ctx, c, target, ev, delivery, body)
	if err != nil {
		return nil, err
	}
	sdk.Logger().Debug("delivered", "event", ev.Event, "id", ev.ID, "delivery", delivery, "status", status)
	return json.Marshal(map[string]int{"status": status})
}

func (w *Webhook) post(ctx context.Context, c *config, target string, ev event, delivery string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, sdk.Final(err)
	}
	ts := strconv.FormatInt(ev.Timestamp, 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-Webhook/1.0")
	req.Header.Set("X-Switchboard-Event", ev.Event)
	req.Header.Set("Idempotency-Key", ev.ID)
	req.Header.Set("X-Switchboard-Delivery", delivery)
	req.Header.Set("X-Switchboard-Timestamp", ts)
	req.Header.Set("X-Switchboard-Signature", Sign(c.Secret, body))
	resp, err := w.client.Do(req)
	if err != nil {
		// Refused, unreachable or too slow: worth another try. The error
		// names the URL without its query, never the secret.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, sdk.Retryable(fmt.Errorf("POST %s: %w", redactURL(target), err), 0)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	fail := fmt.Errorf("%s answered %d %s", redactURL(target), resp.StatusCode, snippet(b))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return code, nil
	case code == http.StatusRequestTimeout:
		// The receiver gave up waiting for the request: it did not act on
		// it, so sending it again is safe.
		return 0, sdk.Retryable(fail, sdk.RetryAfter(resp.Header.Get("Retry-After")))
	default:
		return 0, sdk.StatusError(resp, fail)
	}
}

// Sign is the X-Switchboard-Signature of body: "sha256=" and the hex of
// its HMAC-SHA256 with the secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redactURL drops a URL's user information and query from error messages:
// receivers often take a token there.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the receiver"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// withoutRedirects makes c return a redirect as it is: following one could
// turn the POST into a GET and drop the body.
func withoutRedirects(c *http.Client) *http.Client {
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}
