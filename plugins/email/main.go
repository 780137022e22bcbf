// Command email is Switchboard's e-mail channel plugin.
//
//   - Out: Send submits a message over SMTP (STARTTLS, implicit TLS or
//     none) with a generated Message-ID, which is the external id, and
//     In-Reply-To and References that thread it under the customer's last
//     message. The body is text/plain with a text/html alternative; images
//     and files are sent as links.
//   - In, by webhook: a mail provider's inbound parse service (or any
//     relay) POSTs the parsed e-mail as JSON to /hooks/{bot}/{channel},
//     authenticated by a shared secret (see webhook.go for the shape).
//   - In, by IMAP: the plugin polls a mailbox for unseen messages and marks
//     each \Seen only once the runtime has stored it.
//
// The Message-ID is the inbound message's id, so a redelivered e-mail is
// handled once. See docs/plugins.md for the configuration.
package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/mailx"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

func main() {
	sdk.ServeChannel(New())
}

// Email is the channel; one process serves every instance.
type Email struct {
	mu      sync.RWMutex
	conf    map[string]*config
	threads *threads
	// now is the clock (tests fix it).
	now func() time.Time
}

// New returns the channel.
func New() *Email {
	return &Email{conf: map[string]*config{}, threads: newThreads(maxThreads), now: time.Now}
}

var (
	_ sdk.Channel = (*Email)(nil)
	_ sdk.Poller  = (*Email)(nil)
)

// smtpRootCAs, when set, replaces the system's roots for SMTP over TLS
// (tests only).
var smtpRootCAs *x509.CertPool

// Inbound modes.
const (
	inboundWebhook = "webhook"
	inboundIMAP    = "imap"
)

// config is one instance's configuration, as the bot file writes it.
type config struct {
	SMTPHost     string `json:"smtp_host"`
	SMTPPort     int    `json:"smtp_port"`
	SMTPUsername string `json:"smtp_username,omitempty"`
	SMTPPassword string `json:"smtp_password,omitempty"`
	SMTPTLS      string `json:"smtp_tls,omitempty"`
	FromAddress  string `json:"from_address"`
	FromName     string `json:"from_name,omitempty"`
	Subject      string `json:"subject,omitempty"`

	Inbound       string `json:"inbound,omitempty"`
	WebhookSecret string `json:"webhook_secret,omitempty"`

	IMAPHost     string `json:"imap_host,omitempty"`
	IMAPPort     int    `json:"imap_port,omitempty"`
	IMAPUsername string `json:"imap_username,omitempty"`
	IMAPPassword string `json:"imap_password,omitempty"`
	IMAPTLS      string `json:"imap_tls,omitempty"`
	IMAPMailbox  string `json:"imap_mailbox,omitempty"`
	PollInterval string `json:"poll_interval,omitempty"`

	// Derived by Configure.
	smtp     mailx.Server
	imapTLS  mailx.TLSMode
	interval time.Duration
	from     mail.Address
}

// Defaults and bounds.
const (
	defaultPollInterval = time.Minute
	minPollInterval     = time.Second
	// maxThreads bounds the threading memory (see threads.go), over all
	// instances.
	maxThreads = 10000
)

const configSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["smtp_host", "from_address"],
  "additionalProperties": false,
  "properties": {
    "smtp_host":      {"type": "string", "description": "SMTP server for outbound mail"},
    "smtp_port":      {"type": "integer", "minimum": 1, "maximum": 65535, "default": 587},
    "smtp_username":  {"type": "string"},
    "smtp_password":  {"type": "string", "writeOnly": true},
    "smtp_tls":       {"enum": ["starttls", "tls", "none"], "description": "starttls (default; port 587), tls (implicit, port 465) or none"},
    "from_address":   {"type": "string", "format": "email"},
    "from_name":      {"type": "string"},
    "subject":        {"type": "string", "description": "subject of messages that start a thread; replies use \"Re: <the customer's subject>\""},
    "inbound":        {"enum": ["webhook", "imap"], "default": "webhook"},
    "webhook_secret": {"type": "string", "minLength": 16, "writeOnly": true, "description": "shared secret of the inbound webhook: the X-Switchboard-Secret header, or the key of an X-Switchboard-Signature HMAC-SHA256 of the body"},
    "imap_host":      {"type": "string"},
    "imap_port":      {"type": "integer", "minimum": 1, "maximum": 65535, "default": 993},
    "imap_username":  {"type": "string"},
    "imap_password":  {"type": "string", "writeOnly": true},
    "imap_tls":       {"enum": ["starttls", "tls", "none"], "description": "tls (default; port 993), starttls or none"},
    "imap_mailbox":   {"type": "string", "default": "INBOX"},
    "poll_interval":  {"type": "string", "default": "60s", "description": "a Go duration, at least 1s"}
  }
}`

// Manifest: text with links. Buttons and quick replies are not e-mail
// things: the runtime turns them into numbered options. Images and files
// are sent as links in the text.
func (e *Email) Manifest() sdk.ChannelManifest {
	return sdk.ChannelManifest{
		Name:         "email",
		Version:      "1.0.0",
		Description:  "E-mail: SMTP out with threading headers; in by an inbound-parse webhook or IMAP polling.",
		ConfigSchema: json.RawMessage(configSchema),
		Secrets:      []string{"/smtp_password", "/webhook_secret", "/imap_password"},
		Capabilities: sdk.Capabilities{Images: true, Files: true, Media: true},
	}
}

// Configure checks and keeps an instance's configuration.
func (e *Email) Configure(ctx context.Context, instance string, raw json.RawMessage) error {
	var c config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return sdk.ConfigError("", "the configuration is not valid: %v", err)
	}
	server, err := mailx.ServerConfig("smtp_", c.SMTPHost, c.SMTPPort, c.SMTPTLS, c.SMTPUsername, c.SMTPPassword, smtpRootCAs)
	if err != nil {
		return err
	}
	if c.from, err = mailx.FromConfig("from_address", c.FromAddress, c.FromName); err != nil {
		return err
	}
	c.smtp = server

	switch c.Inbound {
	case "", inboundWebhook:
		c.Inbound = inboundWebhook
		if len(c.WebhookSecret) < 16 {
			return sdk.ConfigError("/webhook_secret", "a webhook secret of at least 16 characters is required with inbound \"webhook\"")
		}
	case inboundIMAP:
		if c.IMAPHost == "" {
			return sdk.ConfigError("/imap_host", "the IMAP server's host name is required with inbound \"imap\"")
		}
		if c.IMAPPort == 0 {
			c.IMAPPort = 993
		}
		if c.IMAPPort < 1 || c.IMAPPort > 65535 {
			return sdk.ConfigError("/imap_port", "write a port number between 1 and 65535")
		}
		if c.imapTLS, err = mailx.ParseTLSMode(c.IMAPTLS, c.IMAPPort); err != nil {
			return sdk.ConfigError("/imap_tls", "%v", err)
		}
		if c.IMAPUsername == "" || c.IMAPPassword == "" {
			return sdk.ConfigError("/imap_username", "the IMAP username and password are required with inbound \"imap\"")
		}
		if c.IMAPMailbox == "" {
			c.IMAPMailbox = "INBOX"
		}
		c.interval = defaultPollInterval
		if c.PollInterval != "" {
			d, err := time.ParseDuration(c.PollInterval)
			if err != nil || d < minPollInterval {
				return sdk.ConfigError("/poll_interval", "write a duration of at least 1s, like \"60s\"")
			}
			c.interval = d
		}
	default:
		return sdk.ConfigError("/inbound", "write \"webhook\" or \"imap\"")
	}

	e.mu.Lock()
	e.conf[instance] = &c
	e.mu.Unlock()
	sdk.Logger().Info("instance configured", "instance", instance, "smtp", c.smtp.Addr(), "smtp_tls", string(c.smtp.TLS),
		"from", c.from.Address, "inbound", c.Inbound)
	return nil
}

func (e *Email) config(instance string) (*config, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	c, ok := e.conf[instance]
	if !ok {
		return nil, sdk.Final(fmt.Errorf("instance %q is not configured", instance))
	}
	return c, nil
}

// inbound turns a received e-mail into a message and remembers its thread
// for the replies.
func (e *Email) inbound(instance string, from *mail.Address, p *mailx.Parsed, attachments []sdk.Media) sdk.InboundMessage {
	addr := strings.ToLower(from.Address)
	thread := p.MessageID
	switch {
	case len(p.References) > 0:
		thread = p.References[0]
	case p.InReplyTo != "":
		thread = p.InReplyTo
	}
	text := mailx.TrimQuoted(p.Text)
	msg := sdk.InboundMessage{
		Sender:  addr,
		ID:      p.MessageID,
		Name:    from.Name,
		Content: sdk.Content{Text: text, Attachments: attachments},
		Time:    p.Date,
		ReplyTo: p.InReplyTo,
		Thread:  thread,
	}
	if !msg.Time.IsZero() {
		msg.Time = msg.Time.UTC()
	}
	if p.MessageID != "" {
		refs := append(append([]string(nil), p.References...), p.MessageID)
		if len(p.References) == 0 && p.InReplyTo != "" {
			refs = []string{p.InReplyTo, p.MessageID}
		}
		e.threads.remember(instance, addr, threadInfo{last: p.MessageID, refs: refs, subject: p.Subject})
	}
	return msg
}
