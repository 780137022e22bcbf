package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

const (
	smtpPassword  = "smtp-pa55word-never-logged"
	webhookSecret = "whsec-0123456789abcdef-never-logged"
	imapPassword  = "imap-pa55word-never-logged"
)

var secrets = []string{smtpPassword, webhookSecret, imapPassword}

// webhookConfig is a webhook instance whose SMTP server is at host:port.
func webhookConfig(host string, port int, tls string) string {
	return fmt.Sprintf(`{
  "smtp_host": %q, "smtp_port": %d, "smtp_tls": %q,
  "smtp_username": "bot", "smtp_password": %q,
  "from_address": "support@example.com", "from_name": "Example Support",
  "inbound": "webhook", "webhook_secret": %q
}`, host, port, tls, smtpPassword, webhookSecret)
}

func sign(body string) string {
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

const aliceReply = `{
  "from": "Alice Martin <Alice@Example.org>",
  "to": "support@example.com",
  "subject": "Re: Your order",
  "text": "Yes, please send it.\n\nOn Fri, 20 Nov 2026 at 10:00, Example Support <support@example.com> wrote:\n> Shall we send it?\n",
  "message_id": "<CAB-2@mail.example.org>",
  "in_reply_to": "<sb.1@example.com>",
  "references": "<CAB-1@mail.example.org> <sb.1@example.com>",
  "date": "2026-11-21T08:00:00Z",
  "attachments": [{"url": "https://files.example.org/receipt.png", "name": "receipt.png", "content_type": "image/png"}]
}`

var aliceMessage = sdk.InboundMessage{
	Sender: "alice@example.org", ID: "<CAB-2@mail.example.org>", Name: "Alice Martin",
	Content: sdk.Content{
		Text:        "Yes, please send it.",
		Attachments: []sdk.Media{{URL: "https://files.example.org/receipt.png", Kind: "image", Name: "receipt.png", MIME: "image/png"}},
	},
	Time:    time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC),
	ReplyTo: "<sb.1@example.com>",
	Thread:  "<CAB-1@mail.example.org>",
}

func TestWebhook(t *testing.T) {
	setup := sdktest.Setup{
		Config:  func(string) string { return webhookConfig("127.0.0.1", 2525, "none") },
		Secrets: secrets,
	}
	first := `{"from": "bob@example.net", "subject": "Hello", "text": "Hi there", "message_id": "m1@example.net"}`
	bob := sdk.InboundMessage{Sender: "bob@example.net", ID: "<m1@example.net>", Content: sdk.Content{Text: "Hi there"}, Thread: "<m1@example.net>"}
	sdktest.RunIncoming(t, New(), setup, []sdktest.IncomingCase{
		{
			Label:        "a reply, authenticated by the secret header, quote trimmed",
			Header:       map[string]string{"X-Switchboard-Secret": webhookSecret},
			Body:         aliceReply,
			WantBody:     `{"ok": true}`,
			WantMessages: []sdk.InboundMessage{aliceMessage},
		},
		{
			Label:        "a first message, authenticated by an HMAC signature",
			Header:       map[string]string{"X-Switchboard-Signature": sign(first)},
			Body:         first,
			WantMessages: []sdk.InboundMessage{bob},
		},
		{
			Label:        "the same e-mail delivered again keeps its id",
			Header:       map[string]string{"X-Switchboard-Signature": sign(first)},
			Body:         first,
			WantMessages: []sdk.InboundMessage{bob},
		},
		{
			Label:      "no secret",
			Body:       first,
			WantStatus: 401,
		},
		{
			Label:      "a wrong secret",
			Header:     map[string]string{"X-Switchboard-Secret": "whsec-guessed-0000000000"},
			Body:       first,
			WantStatus: 403,
			WantBody:   `{"error": "wrong secret or signature"}`,
		},
		{
			Label:      "a signature of another body",
			Header:     map[string]string{"X-Switchboard-Signature": sign(first)},
			Body:       aliceReply,
			WantStatus: 403,
		},
		{
			Label:      "a signature that is not hex",
			Header:     map[string]string{"X-Switchboard-Signature": "sha256=zz"},
			Body:       first,
			WantStatus: 403,
		},
		{
			Label:      "not JSON",
			Header:     map[string]string{"X-Switchboard-Secret": webhookSecret},
			Body:       "from: bob",
			WantStatus: 400,
		},
		{
			Label:      "no sender",
			Header:     map[string]string{"X-Switchboard-Secret": webhookSecret},
			Body:       `{"text": "hi"}`,
			WantStatus: 400,
		},
		{
			Label:      "nothing to say",
			Header:     map[string]string{"X-Switchboard-Secret": webhookSecret},
			Body:       `{"from": "bob@example.net", "text": "  "}`,
			WantStatus: 400,
		},
		{
			Label:        "HTML only",
			Header:       map[string]string{"X-Switchboard-Secret": webhookSecret},
			Body:         `{"from": "bob@example.net", "html": "<p>Hi &amp; bye</p>", "message_id": "<m3@example.net>"}`,
			WantMessages: []sdk.InboundMessage{{Sender: "bob@example.net", ID: "<m3@example.net>", Content: sdk.Content{Text: "Hi & bye"}, Thread: "<m3@example.net>"}},
		},
		{
			Label:  "our own address is ignored",
			Header: map[string]string{"X-Switchboard-Secret": webhookSecret},
			Body:   `{"from": "Support@example.com", "text": "loop", "message_id": "<sb.2@example.com>"}`,
		},
		{
			Label:      "GET",
			Method:     "GET",
			WantStatus: 405,
		},
	})
}

func TestConfigure(t *testing.T) {
	p := sdktest.Start(t, New())
	for _, c := range []struct{ label, config, field string }{
		{"no SMTP host", `{"from_address": "a@example.com", "webhook_secret": "0123456789abcdef"}`, "/smtp_host"},
		{"a named from address", `{"smtp_host": "h", "from_address": "A <a@example.com>", "webhook_secret": "0123456789abcdef"}`, "/from_address"},
		{"a short secret", `{"smtp_host": "h", "from_address": "a@example.com", "webhook_secret": "short"}`, "/webhook_secret"},
		{"an unknown TLS mode", `{"smtp_host": "h", "smtp_tls": "ssl", "from_address": "a@example.com", "webhook_secret": "0123456789abcdef"}`, "/smtp_tls"},
		{"IMAP without a host", `{"smtp_host": "h", "from_address": "a@example.com", "inbound": "imap"}`, "/imap_host"},
		{"IMAP without a password", `{"smtp_host": "h", "from_address": "a@example.com", "inbound": "imap", "imap_host": "h", "imap_username": "u"}`, "/imap_username"},
		{"a poll interval too short", `{"smtp_host": "h", "from_address": "a@example.com", "inbound": "imap", "imap_host": "h", "imap_username": "u", "imap_password": "p", "poll_interval": "10ms"}`, "/poll_interval"},
		{"an unknown key", `{"smtp_host": "h", "from_address": "a@example.com", "webhook_secret": "0123456789abcdef", "smtp_pass": "x"}`, ""},
	} {
		t.Run(c.label, func(t *testing.T) {
			err := p.Configure("x", []byte(c.config))
			se, ok := err.(*sdk.Error)
			if !ok {
				t.Fatalf("error = %v, want a *sdk.Error", err)
			}
			if se.Field != c.field {
				t.Errorf("field = %q, want %q (%v)", se.Field, c.field, err)
			}
		})
	}
}
