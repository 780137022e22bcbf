package mailx

import (
	"net/mail"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTrimQuoted(t *testing.T) {
	for _, c := range []struct{ label, in, want string }{
		{"no quote", "Hello,\nwhere is my order?", "Hello,\nwhere is my order?"},
		{
			"On … wrote: and quoted lines",
			"Yes please.\n\nOn Mon, 2 Nov 2026 at 10:00, Support <s@example.com> wrote:\n> Shall we send it?\n> Bye",
			"Yes please.",
		},
		{
			"the On … wrote: line wrapped by the mailer",
			"Thanks!\n\nOn Mon, 2 Nov 2026 at 10:00, Support\n<s@example.com> wrote:\n\n> Hi",
			"Thanks!",
		},
		{
			"an On … wrote: line not followed by a quote stays",
			"On Monday my friend wrote: nothing\nreally",
			"On Monday my friend wrote: nothing\nreally",
		},
		{"trailing quoted lines", "ok\n> earlier\n>\n> text\n", "ok"},
		{"quote inside stays", "> you said\nI agree\n", "> you said\nI agree"},
		{"Outlook original message", "Sure.\r\n\r\n-----Original Message-----\r\nFrom: x", "Sure."},
		{"all quote is kept", "> only a quote", "> only a quote"},
	} {
		t.Run(c.label, func(t *testing.T) {
			if got := TrimQuoted(c.in); got != c.want {
				t.Errorf("TrimQuoted = %q, want %q", got, c.want)
			}
		})
	}
}

func TestMessageRoundTrip(t *testing.T) {
	m := Message{
		From:       mail.Address{Name: "Support Désk", Address: "support@example.com"},
		To:         []mail.Address{{Address: "alice@example.org"}},
		Subject:    "Re: Où est ma commande?\r\nBcc: evil@example.com",
		MessageID:  "<sb.1@example.com>",
		InReplyTo:  "<a2@example.org>",
		References: []string{"<a1@example.org>", "<a2@example.org>"},
		Date:       time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC),
		Text:       "Bonjour,\nc'est en route. <b>not bold</b>",
		HTML:       TextToHTML("Bonjour,\nc'est en route. <b>not bold</b>"),
	}
	raw := m.Bytes()
	if strings.Contains(string(raw), "\nBcc:") {
		t.Fatalf("a header was injected:\n%s", raw)
	}
	if !strings.Contains(string(raw), "&lt;b&gt;not bold&lt;/b&gt;") {
		t.Errorf("the HTML alternative is not escaped:\n%s", raw)
	}
	p, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.From.Address != "support@example.com" || p.From.Name != "Support Désk" {
		t.Errorf("from = %v", p.From)
	}
	if p.Subject != "Re: Où est ma commande?  Bcc: evil@example.com" {
		t.Errorf("subject = %q", p.Subject)
	}
	if p.MessageID != "<sb.1@example.com>" || p.InReplyTo != "<a2@example.org>" {
		t.Errorf("ids = %q %q", p.MessageID, p.InReplyTo)
	}
	if !reflect.DeepEqual(p.References, m.References) {
		t.Errorf("references = %q", p.References)
	}
	if p.Text != "Bonjour,\nc'est en route. <b>not bold</b>" {
		t.Errorf("text = %q", p.Text)
	}
	if !p.Date.Equal(m.Date) {
		t.Errorf("date = %v", p.Date)
	}
}

func TestMessageAttachments(t *testing.T) {
	m := Message{
		From: mail.Address{Address: "a@example.com"}, To: []mail.Address{{Address: "b@example.com"}},
		Subject: "files", MessageID: "<x@example.com>", Text: "see attached",
		Attachments: []Attachment{{Name: "report.pdf", ContentType: "application/pdf", Data: []byte(strings.Repeat("%PDF", 100))}},
	}
	p, err := Parse(m.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if p.Text != "see attached" || !reflect.DeepEqual(p.Attachments, []string{"report.pdf"}) {
		t.Errorf("text %q, attachments %q", p.Text, p.Attachments)
	}
}

func TestParse(t *testing.T) {
	raw := "From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.org>\r\n" +
		"To: support@example.com\r\n" +
		"Subject: =?utf-8?B?Q29tbWFuZGUgbsKwNDI=?=\r\n" +
		"Message-ID: <m1@example.org> (comment)\r\n" +
		"In-Reply-To: <sb.9@example.com>\r\n" +
		"Auto-Submitted: no\r\n" +
		"Content-Type: multipart/alternative; boundary=XX\r\n\r\n" +
		"--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>HTML &amp; only</p>\r\n" +
		"--XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nD=E9j=E0 pay=E9.\r\n" +
		"--XX--\r\n"
	p, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := &Parsed{
		From:    &mail.Address{Name: "André", Address: "andre@example.org"},
		Subject: "Commande n°42", MessageID: "<m1@example.org>", InReplyTo: "<sb.9@example.com>",
		Text: "Déjà payé.",
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Parse =\n  %+v\nwant\n  %+v", p, want)
	}

	html := "From: b@example.org\r\nAuto-Submitted: auto-replied\r\nContent-Type: text/html\r\n\r\n<html><head><style>p{}</style></head><body><p>Out of office</p><p>until Monday</p></body></html>"
	p, err = Parse([]byte(html))
	if err != nil {
		t.Fatal(err)
	}
	if p.Text != "Out of office\nuntil Monday" || !p.Auto {
		t.Errorf("html text %q, auto %v", p.Text, p.Auto)
	}
}

func TestParseIDs(t *testing.T) {
	if got := ParseIDs("<a@x> <b@x>\r\n <c@x>", 0); !reflect.DeepEqual(got, []string{"<a@x>", "<b@x>", "<c@x>"}) {
		t.Errorf("got %q", got)
	}
	if got := ParseIDs("a@x b@x", 0); !reflect.DeepEqual(got, []string{"<a@x>", "<b@x>"}) {
		t.Errorf("got %q", got)
	}
	if got := ParseIDs("<1> <2> <3> <4> <5>", 3); !reflect.DeepEqual(got, []string{"<1>", "<4>", "<5>"}) {
		t.Errorf("bounded: got %q", got)
	}
}

func TestMessageIDIsStable(t *testing.T) {
	a, b := NewMessageID("msg-1", "example.com"), NewMessageID("msg-1", "example.com")
	if a != b || !strings.HasSuffix(a, "@example.com>") {
		t.Errorf("%q, %q", a, b)
	}
	if NewMessageID("", "example.com") == NewMessageID("", "example.com") {
		t.Error("random ids repeat")
	}
}
