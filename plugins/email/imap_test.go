package main

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/mailx/mailxtest"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

func imapConfig(s *mailxtest.IMAPServer) string { return imapConfigTLS(s, "none") }

func imapConfigTLS(s *mailxtest.IMAPServer, tls string) string {
	return fmt.Sprintf(`{
  "smtp_host": "127.0.0.1", "smtp_port": 2525, "smtp_tls": "none",
  "smtp_username": "bot", "smtp_password": %q,
  "from_address": "support@example.com",
  "inbound": "imap", "imap_host": %q, "imap_port": %d, "imap_tls": %q,
  "imap_username": "support@example.com", "imap_password": %q, "poll_interval": "1s"
}`, smtpPassword, s.Host, s.Port, tls, imapPassword)
}

const (
	mailAlice = "From: Alice Martin <alice@example.org>\r\n" +
		"To: support@example.com\r\n" +
		"Subject: Re: Your order\r\n" +
		"Date: Sat, 21 Nov 2026 08:00:00 +0000\r\n" +
		"Message-ID: <a2@example.org>\r\n" +
		"In-Reply-To: <sb.1@example.com>\r\n" +
		"References: <a1@example.org> <sb.1@example.com>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Yes please.\r\n\r\nOn Fri, 20 Nov 2026, Example Support wrote:\r\n> Shall we send it?\r\n"
	mailBob = "From: bob@example.net\r\n" +
		"To: support@example.com\r\n" +
		"Subject: Invoice\r\n" +
		"Message-ID: <b1@example.net>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: multipart/alternative; boundary=A\r\n\r\n" +
		"--A\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nWrong amount =E2=82=AC on the invoice.\r\n" +
		"--A\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Wrong amount</p>\r\n--A--\r\n" +
		"--B\r\nContent-Type: application/pdf; name=invoice.pdf\r\nContent-Disposition: attachment; filename=invoice.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--B--\r\n"
	mailOutOfOffice = "From: carol@example.net\r\nSubject: Out of office\r\nMessage-ID: <c1@example.net>\r\n" +
		"Auto-Submitted: auto-replied\r\n\r\nI am away.\r\n"
	mailDave = "From: dave@example.net\r\nSubject: Hi\r\nMessage-ID: <d1@example.net>\r\n\r\nHello?\r\n"
	mailNoID = "From: erin@example.net\r\nSubject: Hi\r\n\r\nNo id here.\r\n"
)

var (
	wantAlice = sdk.InboundMessage{
		Sender: "alice@example.org", ID: "<a2@example.org>", Name: "Alice Martin",
		Content: sdk.Content{Text: "Yes please."}, Time: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC),
		ReplyTo: "<sb.1@example.com>", Thread: "<a1@example.org>",
	}
	wantBob = sdk.InboundMessage{
		Sender: "bob@example.net", ID: "<b1@example.net>",
		Content: sdk.Content{Text: "Wrong amount € on the invoice.\n\n(Attached: invoice.pdf)"}, Thread: "<b1@example.net>",
	}
	wantDave = sdk.InboundMessage{Sender: "dave@example.net", ID: "<d1@example.net>", Content: sdk.Content{Text: "Hello?"}, Thread: "<d1@example.net>"}
)

// TestIMAP: messages are marked \Seen only once the runtime stored them;
// a message the runtime refused comes again in the next round.
func TestIMAP(t *testing.T) {
	srv := mailxtest.NewIMAPServer(t, mailxtest.Plain, "support@example.com", imapPassword)
	srv.Deliver(t, mailAlice)
	srv.Deliver(t, mailBob)
	srv.Deliver(t, mailOutOfOffice)
	p := sdktest.Start(t, New())
	if err := p.Configure("mail", []byte(imapConfig(srv))); err != nil {
		t.Fatal(err)
	}

	// Round 1: the runtime cannot store the first message.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var refused []sdk.InboundMessage
	err := p.Receive(ctx, "mail", func(_ context.Context, r sdk.Received) error {
		refused = append(refused, r.Messages...)
		if n := srv.Unseen(); n != 3 {
			t.Errorf("while emitting: %d unseen, want 3", n)
		}
		return errors.New("the store is down")
	})
	if err == nil || ctx.Err() != nil {
		t.Fatalf("Receive = %v (ctx %v), want the poll's error", err, ctx.Err())
	}
	if !strings.Contains(err.Error(), "the store is down") {
		t.Errorf("error = %v", err)
	}
	if len(refused) != 1 || !reflect.DeepEqual(refused[0], wantAlice) {
		t.Errorf("refused = %+v, want alice's message", refused)
	}
	if n := srv.Unseen(); n != 3 {
		t.Fatalf("after a refused emit: %d unseen, want 3", n)
	}

	// Round 2: everything is stored; each is seen only after its emit.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	var mu sync.Mutex
	var got []sdk.InboundMessage
	go func() {
		for ctx2.Err() == nil {
			mu.Lock()
			n := len(got)
			mu.Unlock()
			if n == 2 && srv.Unseen() == 0 {
				cancel2()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	err = p.Receive(ctx2, "mail", func(_ context.Context, r sdk.Received) error {
		mu.Lock()
		defer mu.Unlock()
		if want := 3 - len(got); srv.Unseen() != want {
			t.Errorf("while emitting message %d: %d unseen, want %d", len(got)+1, srv.Unseen(), want)
		}
		got = append(got, r.Messages...)
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Receive = %v, want it cancelled once all were seen (unseen: %d)", err, srv.Unseen())
	}
	if !reflect.DeepEqual(got, []sdk.InboundMessage{wantAlice, wantBob}) {
		t.Errorf("received\n  %+v\nwant alice's and bob's (the out-of-office reply skipped)", got)
	}

	// Round 3: only what is new arrives.
	srv.Deliver(t, mailDave)
	ctx3, cancel3 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel3()
	var third []sdk.InboundMessage
	_ = p.Receive(ctx3, "mail", func(_ context.Context, r sdk.Received) error {
		third = append(third, r.Messages...)
		cancel3()
		return nil
	})
	if !reflect.DeepEqual(third, []sdk.InboundMessage{wantDave}) {
		t.Errorf("third round: %+v, want dave's message", third)
	}
	p.CheckSecrets(t, secrets)
}

func TestIMAPWrongPassword(t *testing.T) {
	srv := mailxtest.NewIMAPServer(t, mailxtest.Plain, "support@example.com", "another-password-1234")
	p := sdktest.Start(t, New())
	if err := p.Configure("mail", []byte(imapConfig(srv))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.Receive(ctx, "mail", func(context.Context, sdk.Received) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "imap login as support@example.com") {
		t.Errorf("Receive = %v, want a login error", err)
	}
	p.CheckSecrets(t, append(secrets, "another-password-1234"), fmt.Sprint(err))
}

// A webhook instance has nothing to poll: Poll waits for the end.
func TestPollWebhookInstance(t *testing.T) {
	p := sdktest.Start(t, New())
	if err := p.Configure("hook", []byte(webhookConfig("127.0.0.1", 2525, "none"))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := p.Receive(ctx, "hook", func(context.Context, sdk.Received) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Receive = %v, want it to run until ctx ends", err)
	}
}

// TestIMAPOverTLS receives over implicit TLS and over STARTTLS.
func TestIMAPOverTLS(t *testing.T) {
	for _, c := range []struct {
		mode mailxtest.TLS
		tls  string
	}{{mailxtest.Implicit, "tls"}, {mailxtest.StartTLS, "starttls"}} {
		t.Run(c.tls, func(t *testing.T) {
			srv := mailxtest.NewIMAPServer(t, c.mode, "support@example.com", imapPassword)
			old := imapRootCAs
			imapRootCAs = srv.RootCAs
			t.Cleanup(func() { imapRootCAs = old })
			srv.Deliver(t, mailDave)
			p := sdktest.Start(t, New())
			if err := p.Configure("mail", []byte(imapConfigTLS(srv, c.tls))); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var got []sdk.InboundMessage
			err := p.Receive(ctx, "mail", func(_ context.Context, r sdk.Received) error {
				got = append(got, r.Messages...)
				cancel()
				return nil
			})
			if !errors.Is(err, context.Canceled) || !reflect.DeepEqual(got, []sdk.InboundMessage{wantDave}) {
				t.Errorf("Receive = %v, got %+v", err, got)
			}
			p.CheckSecrets(t, secrets)
		})
	}
}

// A message without a Message-ID gets a stable id from its UID: the same
// on every delivery of it.
func TestIMAPWithoutMessageID(t *testing.T) {
	srv := mailxtest.NewIMAPServer(t, mailxtest.Plain, "support@example.com", imapPassword)
	srv.Deliver(t, mailNoID)
	p := sdktest.Start(t, New())
	if err := p.Configure("mail", []byte(imapConfig(srv))); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = p.Receive(ctx, "mail", func(_ context.Context, r sdk.Received) error {
			ids = append(ids, r.Messages[0].ID)
			return errors.New("not now")
		})
		cancel()
	}
	if len(ids) != 2 || ids[0] != ids[1] || !strings.HasPrefix(ids[0], "<imap.") {
		t.Errorf("ids = %q, want the same synthetic id twice", ids)
	}
}
