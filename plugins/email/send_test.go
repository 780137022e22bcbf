package main

import (
	"net"
	"net/http"
	"net/mail"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/plugins/internal/mailx"
	"github.com/switchboard-bots/switchboard/plugins/internal/mailx/mailxtest"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

// trustSMTP makes the plugin trust the test server's certificate.
func trustSMTP(t *testing.T, s *mailxtest.SMTPServer) {
	old := smtpRootCAs
	smtpRootCAs = s.RootCAs
	t.Cleanup(func() { smtpRootCAs = old })
}

// received parses the i-th message the server accepted.
func received(t *testing.T, s *mailxtest.SMTPServer, i int) (mailxtest.Mail, *mail.Message, *mailx.Parsed) {
	t.Helper()
	mails := s.Mails()
	if len(mails) <= i {
		t.Fatalf("the server received %d messages, want at least %d", len(mails), i+1)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(mails[i].Data)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := mailx.Parse(mails[i].Data)
	if err != nil {
		t.Fatal(err)
	}
	return mails[i], m, p
}

func TestSendThreads(t *testing.T) {
	srv := mailxtest.NewSMTPServer(t, mailxtest.StartTLS, "bot", smtpPassword)
	trustSMTP(t, srv)
	p := sdktest.Start(t, New())
	if err := p.Configure("test", []byte(webhookConfig(srv.Host, srv.Port, "starttls"))); err != nil {
		t.Fatal(err)
	}
	var answers []string

	// A first message to a new customer: the configured subject, no
	// threading headers, links for the image.
	id, err := p.Send("test", &sdk.OutboundMessage{ID: "out-1", Recipient: "Carol@Example.net", Content: sdk.Content{
		Text:  "Your invoice is ready.",
		Image: &sdk.Media{URL: "https://cdn.example.com/i.png", Caption: "Invoice"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if want := mailx.NewMessageID("test\x00out-1", "example.com"); id != want {
		t.Errorf("external id = %q, want %q", id, want)
	}
	env, m, parsed := received(t, srv, 0)
	if env.From != "support@example.com" || len(env.To) != 1 || env.To[0] != "Carol@Example.net" {
		t.Errorf("envelope from %q to %q", env.From, env.To)
	}
	for k, want := range map[string]string{
		"From":        `"Example Support" <support@example.com>`,
		"To":          "<Carol@Example.net>",
		"Subject":     "Message from Example Support",
		"Message-Id":  id,
		"In-Reply-To": "",
		"References":  "",
	} {
		if got := m.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(m.Header.Get("Content-Type"), "multipart/alternative;") {
		t.Errorf("Content-Type = %q", m.Header.Get("Content-Type"))
	}
	if want := "Your invoice is ready.\n\nInvoice: https://cdn.example.com/i.png"; parsed.Text != want {
		t.Errorf("text = %q, want %q", parsed.Text, want)
	}
	if !strings.Contains(string(env.Data), "text/html") {
		t.Error("no text/html alternative")
	}

	// The customer writes; the reply threads under their e-mail.
	res, err := p.HandleWebhook("test", &sdk.WebhookRequest{
		Method: "POST", Path: "/hooks/bot/test", Body: []byte(aliceReply),
		Header: http.Header{"X-Switchboard-Secret": {webhookSecret}},
	})
	if err != nil || len(res.Messages) != 1 {
		t.Fatalf("webhook: %v %+v", err, res)
	}
	answers = append(answers, string(res.Body))
	id2, err := p.Send("test", &sdk.OutboundMessage{ID: "out-2", Recipient: "alice@example.org", Content: sdk.Content{Text: "Sent!"}})
	if err != nil {
		t.Fatal(err)
	}
	_, m, parsed = received(t, srv, 1)
	for k, want := range map[string]string{
		"Subject":     "Re: Your order",
		"Message-Id":  id2,
		"In-Reply-To": "<CAB-2@mail.example.org>",
		"References":  "<CAB-1@mail.example.org> <sb.1@example.com> <CAB-2@mail.example.org>",
	} {
		if got := strings.Join(strings.Fields(m.Header.Get(k)), " "); got != want {
			t.Errorf("reply %s = %q, want %q", k, got, want)
		}
	}
	if parsed.Text != "Sent!" {
		t.Errorf("reply text = %q", parsed.Text)
	}

	// The runtime's ReplyTo and Thread thread a reply the plugin has no
	// memory of (after a restart); Metadata sets the subject.
	_, err = p.Send("test", &sdk.OutboundMessage{
		ID: "out-3", Recipient: "dave@example.net", ReplyTo: "d2@example.net", Thread: "<d1@example.net>",
		Metadata: map[string]string{"subject": "About your ticket"},
		Content:  sdk.Content{Text: "Noted."},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, m, _ = received(t, srv, 2)
	for k, want := range map[string]string{
		"Subject":     "About your ticket",
		"In-Reply-To": "<d2@example.net>",
		"References":  "<d1@example.net> <d2@example.net>",
	} {
		if got := strings.Join(strings.Fields(m.Header.Get(k)), " "); got != want {
			t.Errorf("runtime-threaded %s = %q, want %q", k, got, want)
		}
	}

	// A retry of out-1 carries the same Message-ID.
	again, err := p.Send("test", &sdk.OutboundMessage{ID: "out-1", Recipient: "carol@example.net", Content: sdk.Content{Text: "Your invoice is ready."}})
	if err != nil || again != id {
		t.Errorf("retry: id %q, error %v; want %q", again, err, id)
	}
	p.CheckSecrets(t, secrets, answers...)
}

func TestSendErrors(t *testing.T) {
	srv := mailxtest.NewSMTPServer(t, mailxtest.Plain, "bot", smtpPassword)
	// One failure per case, consumed in the order of the cases.
	srv.Fail(
		mailxtest.Failure{At: "RCPT", Code: 451, Message: "4.7.1 Greylisted, try again later"},
		mailxtest.Failure{At: "DATA", Code: 554, Message: "5.7.1 Message rejected as spam"},
		mailxtest.Failure{At: "MAIL", Code: 421, Message: "4.3.2 Service shutting down"},
		mailxtest.Failure{At: "RCPT", Code: 550, Message: "5.1.1 No such user"},
	)
	setup := sdktest.Setup{
		Config:  func(string) string { return webhookConfig(srv.Host, srv.Port, "none") },
		Secrets: secrets,
	}
	text := sdk.Content{Text: "hello"}
	sdktest.RunOutgoing(t, New(), setup, []sdktest.OutgoingCase{
		{
			Label: "greylisted: 4xx is retryable", Message: sdk.OutboundMessage{Recipient: "a@example.net", Content: text},
			WantError: "451 4.7.1 Greylisted", WantRetryable: true,
		},
		{
			Label: "spam: 5xx is final", Message: sdk.OutboundMessage{Recipient: "a@example.net", Content: text},
			WantError: "554 5.7.1 Message rejected", WantRetryable: false,
		},
		{
			Label: "shutting down: 421 is retryable", Message: sdk.OutboundMessage{Recipient: "a@example.net", Content: text},
			WantError: "421", WantRetryable: true,
		},
		{
			Label: "no such user: final", Message: sdk.OutboundMessage{Recipient: "nobody@example.net", Content: text},
			WantError: "550 5.1.1 No such user", WantRetryable: false,
		},
		{
			Label: "not an address: final", Message: sdk.OutboundMessage{Recipient: "+15551234567", Content: text},
			WantError: "not an e-mail address", WantRetryable: false,
		},
		{
			Label: "then it goes", Message: sdk.OutboundMessage{ID: "ok-1", Recipient: "a@example.net", Content: text},
			WantExternalID: mailx.NewMessageID("test\x00ok-1", "example.com"),
		},
	})
	if n := len(srv.Mails()); n != 1 {
		t.Errorf("the server accepted %d messages, want 1", n)
	}
}

func TestSendConnectionErrors(t *testing.T) {
	// A port nothing listens on: retryable.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	sdktest.RunOutgoing(t, New(), sdktest.Setup{
		Config:  func(string) string { return webhookConfig("127.0.0.1", port, "none") },
		Secrets: secrets,
	}, []sdktest.OutgoingCase{{
		Label: "connection refused", Message: sdk.OutboundMessage{Recipient: "a@example.net", Content: sdk.Content{Text: "hi"}},
		WantError: "connect", WantRetryable: true,
	}})

	// STARTTLS asked of a server without it: final (configuration).
	plain := mailxtest.NewSMTPServer(t, mailxtest.Plain, "bot", smtpPassword)
	sdktest.RunOutgoing(t, New(), sdktest.Setup{
		Config:  func(string) string { return webhookConfig(plain.Host, plain.Port, "starttls") },
		Secrets: secrets,
	}, []sdktest.OutgoingCase{{
		Label: "no STARTTLS", Message: sdk.OutboundMessage{Recipient: "a@example.net", Content: sdk.Content{Text: "hi"}},
		WantError: "does not offer STARTTLS", WantRetryable: false,
	}})

	// A wrong password: the server's 535 is final, and the password is
	// in no log or error.
	other := mailxtest.NewSMTPServer(t, mailxtest.Implicit, "bot", "the-right-password-0000")
	trustSMTP(t, other)
	sdktest.RunOutgoing(t, New(), sdktest.Setup{
		Config:  func(string) string { return webhookConfig(other.Host, other.Port, "tls") },
		Secrets: append(secrets, "the-right-password-0000"),
	}, []sdktest.OutgoingCase{{
		Label: "wrong password over implicit TLS", Message: sdk.OutboundMessage{Recipient: "a@example.net", Content: sdk.Content{Text: "hi"}},
		WantError: "535", WantRetryable: false,
	}})
	if other.AuthFailures() != 1 {
		t.Errorf("auth failures = %d, want 1", other.AuthFailures())
	}

	// A certificate the plugin does not trust: final.
	untrusted := mailxtest.NewSMTPServer(t, mailxtest.StartTLS, "bot", smtpPassword)
	sdktest.RunOutgoing(t, New(), sdktest.Setup{
		Config:  func(string) string { return webhookConfig(untrusted.Host, untrusted.Port, "starttls") },
		Secrets: secrets,
	}, []sdktest.OutgoingCase{{
		Label: "untrusted certificate", Message: sdk.OutboundMessage{Recipient: "a@example.net", Content: sdk.Content{Text: "hi"}},
		WantError: "certificate", WantRetryable: false,
	}})
}
