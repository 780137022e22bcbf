// Command smtp is Switchboard's SMTP integration plugin: one action,
// email.send, that the EMAIL block and the e-mail notifications of waiting
// handovers call (as smtp.email.send). It submits the message to the
// configured SMTP server (STARTTLS, implicit TLS or none, PLAIN
// authentication), with the files the attachments' URLs point to attached.
// See docs/plugins.md for the configuration.
package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/mailx"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

func main() {
	sdk.ServeIntegration(New())
}

// SMTP is the integration.
type SMTP struct {
	mu   sync.RWMutex
	conf *config
	// http fetches attachments; every request is bounded.
	http *http.Client
}

// New returns the integration, unconfigured.
func New() *SMTP {
	return &SMTP{http: sdk.HTTPClient(20 * time.Second)}
}

var (
	_ sdk.Integration           = (*SMTP)(nil)
	_ sdk.IntegrationConfigurer = (*SMTP)(nil)
)

type config struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	From     string `json:"from"`
	FromName string `json:"from_name,omitempty"`
	TLS      string `json:"tls,omitempty"`

	server mailx.Server
	from   mail.Address
}

// rootCAs, when set, replaces the system's roots (tests only).
var rootCAs *x509.CertPool

// Bounds on what one action may carry.
const (
	maxRecipients     = 50
	maxAttachments    = 10
	maxAttachmentSize = 10 << 20
	maxAttachmentsAll = 20 << 20
)

const configSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["host", "from"],
  "additionalProperties": false,
  "properties": {
    "host":      {"type": "string", "description": "SMTP server"},
    "port":      {"type": "integer", "minimum": 1, "maximum": 65535, "default": 587},
    "username":  {"type": "string"},
    "password":  {"type": "string", "writeOnly": true},
    "from":      {"type": "string", "format": "email", "description": "sender address"},
    "from_name": {"type": "string"},
    "tls":       {"enum": ["starttls", "tls", "none"], "description": "starttls (default; port 587), tls (implicit, port 465) or none"}
  }
}`

const paramsSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["to", "subject", "body"],
  "additionalProperties": false,
  "properties": {
    "to": {
      "description": "recipient address, or a list of them",
      "oneOf": [
        {"type": "string", "minLength": 3},
        {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 50}
      ]
    },
    "subject": {"type": "string", "minLength": 1},
    "body":    {"type": "string", "description": "the text, already rendered by the runtime; sent as text/plain with an HTML alternative"},
    "attachments": {
      "type": "array", "maxItems": 10,
      "items": {
        "type": "object", "required": ["url"], "additionalProperties": false,
        "properties": {
          "url":  {"type": "string", "format": "uri", "description": "fetched when the e-mail is sent (10 MiB at most)"},
          "name": {"type": "string", "description": "file name; default: the URL's last segment"}
        }
      }
    }
  }
}`

const resultSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["message_id"],
  "properties": {"message_id": {"type": "string", "description": "the Message-ID header of the e-mail sent"}}
}`

// Manifest lists the one action.
func (s *SMTP) Manifest() sdk.IntegrationManifest {
	return sdk.IntegrationManifest{
		Name:         "smtp",
		Version:      "1.0.0",
		Description:  "Sends e-mail through an SMTP server: the EMAIL block and handover notifications.",
		ConfigSchema: json.RawMessage(configSchema),
		Secrets:      []string{"/password"},
		Actions: []sdk.Action{{
			Name:        "email.send",
			Description: "Send an e-mail (to, subject, body, attachments by URL); returns its Message-ID.",
			Params:      json.RawMessage(paramsSchema),
			Result:      json.RawMessage(resultSchema),
		}},
	}
}

// Configure checks and keeps the configuration.
func (s *SMTP) Configure(ctx context.Context, raw json.RawMessage) error {
	var c config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return sdk.ConfigError("", "the configuration is not valid: %v", err)
	}
	server, err := mailx.ServerConfig("", c.Host, c.Port, c.TLS, c.Username, c.Password, rootCAs)
	if err != nil {
		return err
	}
	if c.from, err = mailx.FromConfig("from", c.From, c.FromName); err != nil {
		return err
	}
	c.server = server
	s.mu.Lock()
	s.conf = &c
	s.mu.Unlock()
	sdk.Logger().Info("configured", "server", c.server.Addr(), "tls", string(c.server.TLS), "from", c.from.Address)
	return nil
}

// sendParams are email.send's parameters.
type sendParams struct {
	To          json.RawMessage `json:"to"`
	Subject     string          `json:"subject"`
	Body        string          `json:"body"`
	Attachments []struct {
		URL  string `json:"url"`
		Name string `json:"name"`
	} `json:"attachments"`
}

// Invoke runs email.send. Errors: bad parameters and the server's 5xx are
// final; its 4xx, a broken connection and an attachment's server failing
// are retryable.
func (s *SMTP) Invoke(ctx context.Context, action string, params json.RawMessage, conv sdk.Conversation) (json.RawMessage, error) {
	if action != "email.send" {
		return nil, sdk.Final(fmt.Errorf("unknown action %q", action))
	}
	s.mu.RLock()
	c := s.conf
	s.mu.RUnlock()
	if c == nil {
		return nil, sdk.Final(errors.New("the smtp integration is not configured"))
	}
	var p sendParams
	if err := json.Unmarshal(params, &p); err != nil {
		return nil, sdk.Final(fmt.Errorf("email.send: the parameters are not valid: %v", err))
	}
	to, err := recipients(p.To)
	if err != nil {
		return nil, sdk.Final(fmt.Errorf("email.send: to: %v", err))
	}
	if strings.TrimSpace(p.Subject) == "" {
		return nil, sdk.Final(errors.New("email.send: the subject is empty"))
	}
	if len(p.Attachments) > maxAttachments {
		return nil, sdk.Final(fmt.Errorf("email.send: %d attachments, at most %d", len(p.Attachments), maxAttachments))
	}
	// The Message-ID derives from the invocation id: a retried call sends
	// the same one, and mail systems that see it twice keep one copy.
	msg := mailx.Message{
		From: c.from, To: to, Subject: p.Subject,
		MessageID: mailx.NewMessageID(conv.InvocationID, mailx.Domain(c.from.Address)),
		Text:      p.Body, HTML: mailx.TextToHTML(p.Body),
	}
	total := 0
	for _, a := range p.Attachments {
		att, err := s.fetch(ctx, a.URL, a.Name)
		if err != nil {
			return nil, err
		}
		total += len(att.Data)
		if total > maxAttachmentsAll {
			return nil, sdk.Final(fmt.Errorf("email.send: the attachments exceed %d MiB together", maxAttachmentsAll>>20))
		}
		msg.Attachments = append(msg.Attachments, att)
	}
	rcpt := make([]string, len(to))
	for i, a := range to {
		rcpt[i] = a.Address
	}
	srv := c.server
	if err := mailx.Send(ctx, &srv, c.from.Address, rcpt, msg.Bytes()); err != nil {
		sdk.Logger().Warn("email.send failed", "bot", conv.Bot, "retryable", sdk.IsRetryable(err), "error", err)
		return nil, err
	}
	sdk.Logger().Debug("email sent", "bot", conv.Bot, "message_id", msg.MessageID, "recipients", len(rcpt))
	out, _ := json.Marshal(map[string]string{"message_id": msg.MessageID})
	return out, nil
}

// recipients reads "to": an address list in one string ("a@x, B <b@y>")
// or an array of them.
func recipients(raw json.RawMessage) ([]mail.Address, error) {
	var list []string
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		list = []string{one}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("write an address or a list of addresses")
	}
	var out []mail.Address
	for _, s := range list {
		as, err := mail.ParseAddressList(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an e-mail address", s)
		}
		for _, a := range as {
			out = append(out, *a)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no recipient")
	}
	if len(out) > maxRecipients {
		return nil, fmt.Errorf("%d recipients, at most %d", len(out), maxRecipients)
	}
	return out, nil
}

// fetch downloads one attachment: its server's 4xx is final, a 5xx, a
// 429 or a network failure retryable.
func (s *SMTP) fetch(ctx context.Context, rawURL, name string) (mailx.Attachment, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return mailx.Attachment{}, sdk.Final(fmt.Errorf("email.send: attachment %q is not an http(s) URL", rawURL))
	}
	// The URL may carry a token in its query: errors name the host and
	// path only.
	where := u.Host + u.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return mailx.Attachment{}, sdk.Final(fmt.Errorf("email.send: attachment %s: %v", where, err))
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return mailx.Attachment{}, sdk.Retryable(fmt.Errorf("email.send: fetching attachment %s failed", where), 0)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return mailx.Attachment{}, sdk.StatusError(resp, fmt.Errorf("email.send: attachment %s: the server answered %d", where, resp.StatusCode))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAttachmentSize+1))
	if err != nil {
		return mailx.Attachment{}, sdk.Retryable(fmt.Errorf("email.send: reading attachment %s failed", where), 0)
	}
	if len(data) > maxAttachmentSize {
		return mailx.Attachment{}, sdk.Final(fmt.Errorf("email.send: attachment %s is larger than %d MiB", where, maxAttachmentSize>>20))
	}
	if name == "" {
		name = path.Base(u.Path)
		if name == "/" || name == "." {
			name = "attachment"
		}
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt == "application/octet-stream" || mt == "" {
		ct = mime.TypeByExtension(path.Ext(name))
	}
	return mailx.Attachment{Name: name, ContentType: ct, Data: data}, nil
}
