package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/plugins/internal/mailx"
	"github.com/switchboard-bots/switchboard/plugins/internal/mailx/mailxtest"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

const password = "smtp-integration-pa55-never-logged"

func configFor(host string, port int, tls string) string {
	return fmt.Sprintf(`{"host": %q, "port": %d, "tls": %q, "username": "bot", "password": %q,
  "from": "bot@example.com", "from_name": "Switchboard Bot"}`, host, port, tls, password)
}

// start runs the plugin configured for srv, trusting its certificate.
func start(t *testing.T, srv *mailxtest.SMTPServer, tls string) *sdktest.Plugin {
	t.Helper()
	old := rootCAs
	rootCAs = srv.RootCAs
	t.Cleanup(func() { rootCAs = old })
	p := sdktest.Start(t, New())
	if err := p.ConfigureIntegration(json.RawMessage(configFor(srv.Host, srv.Port, tls))); err != nil {
		t.Fatal(err)
	}
	return p
}

var conv = sdk.Conversation{Bot: "support", ContactID: "c-1", Channel: "webchat"}

func TestManifest(t *testing.T) {
	m := New().Manifest()
	if m.Name != "smtp" || len(m.Actions) != 1 || m.Actions[0].Name != "email.send" {
		t.Fatalf("manifest: %+v", m)
	}
	for _, s := range []json.RawMessage{m.ConfigSchema, m.Actions[0].Params, m.Actions[0].Result} {
		if !json.Valid(s) {
			t.Errorf("schema is not JSON: %s", s)
		}
	}
}

func TestSend(t *testing.T) {
	srv := mailxtest.NewSMTPServer(t, mailxtest.StartTLS, "bot", password)
	p := start(t, srv, "starttls")
	files := sdktest.NewProvider(t)
	files.Expect(sdktest.Mock{
		Method: "GET", Path: "/files/report", Response: "%PDF-1.4 test",
		ResponseHeader: map[string]string{"Content-Type": "application/pdf"},
	})
	params := fmt.Sprintf(`{
  "to": "Ops Team <ops@example.net>, lead@example.net",
  "subject": "Handover waiting: Alice (webchat)",
  "body": "A customer waits for an agent.\nOpen: https://switchboard.example.com/console",
  "attachments": [{"url": %q, "name": "report.pdf"}]
}`, files.URL+"/files/report?token=abc")
	res, err := p.Invoke("email.send", json.RawMessage(params), conv)
	if err != nil {
		t.Fatal(err)
	}
	files.Verify(t)
	var out struct {
		MessageID string `json:"message_id"`
	}
	if err := json.Unmarshal(res, &out); err != nil || !strings.HasSuffix(out.MessageID, "@example.com>") {
		t.Fatalf("result %s: %v", res, err)
	}

	mails := srv.Mails()
	if len(mails) != 1 {
		t.Fatalf("the server received %d messages", len(mails))
	}
	got := mails[0]
	if got.From != "bot@example.com" || strings.Join(got.To, ",") != "ops@example.net,lead@example.net" {
		t.Errorf("envelope from %q to %q", got.From, got.To)
	}
	m, err := mail.ReadMessage(strings.NewReader(string(got.Data)))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"From":       `"Switchboard Bot" <bot@example.com>`,
		"To":         `"Ops Team" <ops@example.net>, <lead@example.net>`,
		"Subject":    "Handover waiting: Alice (webchat)",
		"Message-Id": out.MessageID,
	} {
		if v := m.Header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if !strings.HasPrefix(m.Header.Get("Content-Type"), "multipart/mixed;") {
		t.Errorf("Content-Type = %q", m.Header.Get("Content-Type"))
	}
	parsed, err := mailx.Parse(got.Data)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Text != "A customer waits for an agent.\nOpen: https://switchboard.example.com/console" {
		t.Errorf("text = %q", parsed.Text)
	}
	if strings.Join(parsed.Attachments, ",") != "report.pdf" {
		t.Errorf("attachments = %q", parsed.Attachments)
	}
	if !strings.Contains(string(got.Data), "JVBERi0xLjQgdGVzdA==") { // base64 of the PDF
		t.Error("the attachment's content is missing")
	}
	p.CheckSecrets(t, []string{password}, string(res))
}

// TestMessageIDFollowsTheInvocation: a retried call (the same invocation
// id) sends the same Message-ID, another call another one.
func TestMessageIDFollowsTheInvocation(t *testing.T) {
	srv := mailxtest.NewSMTPServer(t, mailxtest.StartTLS, "bot", password)
	p := start(t, srv, "starttls")
	params := json.RawMessage(`{"to": "ops@example.net", "subject": "s", "body": "b"}`)
	var ids []string
	for _, inv := range []string{"9c41d2", "9c41d2", "77ab01"} {
		c := conv
		c.InvocationID = inv
		res, err := p.Invoke("email.send", params, c)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			MessageID string `json:"message_id"`
		}
		_ = json.Unmarshal(res, &out)
		ids = append(ids, out.MessageID)
	}
	if ids[0] != ids[1] || ids[0] == ids[2] || ids[0] != mailx.NewMessageID("9c41d2", "example.com") {
		t.Errorf("Message-IDs %q: want the first two equal, derived from the invocation id", ids)
	}
	for i, m := range srv.Mails() {
		if !strings.Contains(string(m.Data), "Message-ID: "+ids[i]) {
			t.Errorf("mail %d does not carry %s", i+1, ids[i])
		}
	}
}

func TestSendErrors(t *testing.T) {
	srv := mailxtest.NewSMTPServer(t, mailxtest.Implicit, "bot", password)
	p := start(t, srv, "tls")
	files := sdktest.NewProvider(t)
	var texts []string
	send := func(params string) error {
		_, err := p.Invoke("email.send", json.RawMessage(params), conv)
		if err != nil {
			texts = append(texts, err.Error())
		}
		return err
	}
	simple := `{"to": "a@example.net", "subject": "s", "body": "b"}`
	for _, c := range []struct {
		label     string
		fail      *mailxtest.Failure
		mock      *sdktest.Mock
		params    string
		wantError string
		retryable bool
	}{
		{label: "a 4xx is retryable", fail: &mailxtest.Failure{At: "RCPT", Code: 450, Message: "4.2.1 Mailbox busy"}, params: simple, wantError: "450 4.2.1 Mailbox busy", retryable: true},
		{label: "a 5xx is final", fail: &mailxtest.Failure{At: "DATA", Code: 552, Message: "5.3.4 Message too big"}, params: simple, wantError: "552 5.3.4", retryable: false},
		{label: "not an address", params: `{"to": "someone", "subject": "s", "body": "b"}`, wantError: "not an e-mail address"},
		{label: "no subject", params: `{"to": "a@example.net", "subject": " ", "body": "b"}`, wantError: "subject is empty"},
		{
			label: "a missing attachment is final", mock: &sdktest.Mock{Method: "GET", Path: "/gone.pdf", Status: 404},
			params: `{"to": "a@example.net", "subject": "s", "body": "b", "attachments": [{"url": "` + files.URL + `/gone.pdf"}]}`, wantError: "answered 404",
		},
		{
			label: "an attachment server down is retryable", mock: &sdktest.Mock{Method: "GET", Path: "/later.pdf", Status: 503},
			params: `{"to": "a@example.net", "subject": "s", "body": "b", "attachments": [{"url": "` + files.URL + `/later.pdf"}]}`, wantError: "answered 503", retryable: true,
		},
		{label: "an attachment that is no URL", params: `{"to": "a@example.net", "subject": "s", "body": "b", "attachments": [{"url": "file:///etc/passwd"}]}`, wantError: "not an http(s) URL"},
	} {
		t.Run(c.label, func(t *testing.T) {
			if c.fail != nil {
				srv.Fail(*c.fail)
			}
			if c.mock != nil {
				files.Expect(*c.mock)
			} else {
				files.Expect()
			}
			err := send(c.params)
			files.Verify(t)
			var se *sdk.Error
			if !errors.As(err, &se) || !strings.Contains(err.Error(), c.wantError) {
				t.Fatalf("error = %v, want a *sdk.Error containing %q", err, c.wantError)
			}
			if se.Retryable != c.retryable {
				t.Errorf("retryable = %v, want %v", se.Retryable, c.retryable)
			}
		})
	}
	if n := len(srv.Mails()); n != 0 {
		t.Errorf("the server accepted %d messages, want none", n)
	}
	p.CheckSecrets(t, []string{password}, texts...)
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p := sdktest.Start(t, New())
	if err := p.ConfigureIntegration(json.RawMessage(configFor("127.0.0.1", port, "none"))); err != nil {
		t.Fatal(err)
	}
	_, err = p.Invoke("email.send", json.RawMessage(`{"to": "a@example.net", "subject": "s", "body": "b"}`), conv)
	if !sdk.IsRetryable(err) || !strings.Contains(fmt.Sprint(err), "connect") {
		t.Errorf("error = %v, want a retryable connection error", err)
	}
	p.CheckSecrets(t, []string{password}, fmt.Sprint(err))
}

func TestUnconfiguredAndBadConfig(t *testing.T) {
	p := sdktest.Start(t, New())
	if _, err := p.Invoke("email.send", json.RawMessage(`{"to": "a@example.net", "subject": "s", "body": "b"}`), conv); sdk.IsRetryable(err) || err == nil {
		t.Errorf("unconfigured: error = %v, want a final one", err)
	}
	for cfg, field := range map[string]string{
		`{"from": "a@example.com"}`:                                  "/host",
		`{"host": "h", "from": "Bot <a@example.com>"}`:               "/from",
		`{"host": "h", "from": "a@example.com", "tls": "ssl"}`:       "/tls",
		`{"host": "h", "from": "a@example.com", "username": "u"}`:    "/password",
		`{"host": "h", "from": "a@example.com", "port": 70000}`:      "/port",
		`{"host": "h", "from": "a@example.com", "passwd": "secret"}`: "",
	} {
		var se *sdk.Error
		if err := p.ConfigureIntegration(json.RawMessage(cfg)); !errors.As(err, &se) || se.Field != field {
			t.Errorf("%s: error %v, want one at %q", cfg, err, field)
		}
	}
}
