package main

import (
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/switchboard-bots/switchboard/plugins/internal/mailx"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// Send e-mails one message to the recipient (an address) and returns its
// Message-ID. The id derives from the instance and the runtime's message
// id, so a retried message keeps its Message-ID.
//
// Threading: In-Reply-To is the message being answered (the runtime's
// ReplyTo, else the customer's last e-mail this process received) and
// References the thread's chain; the subject is Metadata["subject"], else
// "Re: " and the customer's subject, else the configured subject.
func (e *Email) Send(ctx context.Context, instance string, m *sdk.OutboundMessage) (string, error) {
	c, err := e.config(instance)
	if err != nil {
		return "", err
	}
	to, err := mail.ParseAddress(m.Recipient)
	if err != nil {
		return "", sdk.Final(fmt.Errorf("the recipient %q is not an e-mail address", m.Recipient))
	}
	addr := strings.ToLower(to.Address)
	inReplyTo, refs, threadSubject := e.threads.replyHeaders(instance, addr, m.ReplyTo, m.Thread)

	subject := strings.TrimSpace(m.Metadata["subject"])
	if subject == "" {
		subject = mailx.ReplySubject(threadSubject)
	}
	if subject == "" {
		subject = c.Subject
	}
	if subject == "" && c.FromName != "" {
		subject = "Message from " + c.FromName
	}
	if subject == "" {
		subject = "New message"
	}

	text := body(&m.Content)
	if strings.TrimSpace(text) == "" {
		return "", sdk.Final(fmt.Errorf("the message has nothing to send"))
	}
	id := mailx.NewMessageID(instance+"\x00"+m.ID, mailx.Domain(c.from.Address))
	if m.ID == "" {
		id = mailx.NewMessageID("", mailx.Domain(c.from.Address))
	}
	msg := mailx.Message{
		From: c.from, To: []mail.Address{{Address: to.Address}},
		Subject: subject, MessageID: id, InReplyTo: inReplyTo, References: refs,
		Date: e.now(), Text: text, HTML: mailx.TextToHTML(text),
	}
	srv := c.smtp
	if err := mailx.Send(ctx, &srv, c.from.Address, []string{to.Address}, msg.Bytes()); err != nil {
		sdk.Logger().Warn("send failed", "instance", instance, "message", m.ID, "retryable", sdk.IsRetryable(err), "error", err)
		return "", err
	}
	sdk.Logger().Debug("sent", "instance", instance, "message", m.ID, "message_id", id)
	return id, nil
}

// body is the message's text with its images, media and files as links
// (buttons arrive already turned into numbered options: the manifest says
// the channel has none).
func body(ct *sdk.Content) string {
	var b strings.Builder
	b.WriteString(ct.Text)
	link := func(what string, m *sdk.Media) {
		if m == nil || m.URL == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		label := m.Caption
		if label == "" {
			label = m.Name
		}
		if label == "" {
			label = what
		}
		b.WriteString(label + ": " + m.URL)
	}
	link("Image", ct.Image)
	link("Media", ct.Media)
	link("File", ct.File)
	// The runtime turns buttons into numbered options before Send; any
	// that still arrive are listed, so none is lost.
	for i, btn := range append(append([]sdk.Button(nil), ct.Buttons...), ct.QuickReplies...) {
		if i == 0 {
			b.WriteString("\n")
		}
		if btn.URL != "" {
			fmt.Fprintf(&b, "\n%s: %s", btn.Title, btn.URL)
		} else {
			fmt.Fprintf(&b, "\n%d. %s", i+1, btn.Title)
		}
	}
	return b.String()
}
