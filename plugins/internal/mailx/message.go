package mailx

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Message is an e-mail to build.
type Message struct {
	From    mail.Address
	To      []mail.Address
	Subject string
	// MessageID, InReplyTo and References are message ids in angle
	// brackets ("<a@b>").
	MessageID  string
	InReplyTo  string
	References []string
	Date       time.Time
	// Text is the text/plain body. HTML, when set, is sent beside it as
	// a text/html alternative.
	Text        string
	HTML        string
	Attachments []Attachment
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Bytes renders the message in RFC 5322 form with CRLF line ends: the
// text as quoted-printable UTF-8, the HTML beside it in a
// multipart/alternative, attachments in base64 around them in a
// multipart/mixed. Header values are stripped of line breaks, so no value
// can add a header.
func (m *Message) Bytes() []byte {
	var b bytes.Buffer
	h := func(k, v string) {
		if v != "" {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	h("From", oneLine(m.From.String()))
	to := make([]string, len(m.To))
	for i := range m.To {
		to[i] = oneLine(m.To[i].String())
	}
	h("To", strings.Join(to, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	h("Date", date.Format(time.RFC1123Z))
	h("Message-ID", oneLine(m.MessageID))
	h("In-Reply-To", oneLine(m.InReplyTo))
	if len(m.References) > 0 {
		refs := make([]string, len(m.References))
		for i, r := range m.References {
			refs[i] = oneLine(r)
		}
		// One id per folded line keeps long chains under the 998
		// characters a header line may have.
		h("References", strings.Join(refs, "\r\n "))
	}
	h("MIME-Version", "1.0")

	if len(m.Attachments) == 0 {
		m.writeBody(&b)
		return b.Bytes()
	}
	mw := multipart.NewWriter(&b)
	b.WriteString("Content-Type: multipart/mixed; boundary=\"" + mw.Boundary() + "\"\r\n\r\n")
	var body bytes.Buffer
	m.writeBody(&body)
	hdr, rest, _ := bytes.Cut(body.Bytes(), []byte("\r\n\r\n"))
	pw, _ := mw.CreatePart(parseHeader(hdr))
	_, _ = pw.Write(rest)
	for _, a := range m.Attachments {
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		name := oneLine(a.Name)
		ph := textproto.MIMEHeader{}
		ph.Set("Content-Type", mime.FormatMediaType(ct, map[string]string{"name": name}))
		ph.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		ph.Set("Content-Transfer-Encoding", "base64")
		pw, _ := mw.CreatePart(ph)
		writeBase64(pw, a.Data)
	}
	_ = mw.Close()
	return b.Bytes()
}

// writeBody writes the text (and HTML) part with its headers.
func (m *Message) writeBody(b *bytes.Buffer) {
	if m.HTML == "" {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		writeQP(b, m.Text)
		return
	}
	mw := multipart.NewWriter(b)
	b.WriteString("Content-Type: multipart/alternative; boundary=\"" + mw.Boundary() + "\"\r\n\r\n")
	for _, p := range []struct{ ct, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		ph := textproto.MIMEHeader{}
		ph.Set("Content-Type", p.ct+"; charset=utf-8")
		ph.Set("Content-Transfer-Encoding", "quoted-printable")
		pw, _ := mw.CreatePart(ph)
		writeQP(pw, p.body)
	}
	_ = mw.Close()
}

func parseHeader(raw []byte) textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	for _, line := range strings.Split(string(raw), "\r\n") {
		k, v, ok := strings.Cut(line, ": ")
		if ok {
			h.Set(k, v)
		}
	}
	return h
}

func writeQP(w io.Writer, s string) {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
	qw := quotedprintable.NewWriter(w)
	_, _ = io.WriteString(qw, s)
	_ = qw.Close()
}

func writeBase64(w io.Writer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		_, _ = io.WriteString(w, enc[:76]+"\r\n")
		enc = enc[76:]
	}
	_, _ = io.WriteString(w, enc+"\r\n")
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// TextToHTML is text as a minimal HTML document: escaped, line breaks
// kept, links left as text.
func TextToHTML(text string) string {
	esc := html.EscapeString(strings.ReplaceAll(text, "\r\n", "\n"))
	return "<!DOCTYPE html>\n<html><body><div style=\"white-space: pre-wrap\">" + esc + "</div></body></html>\n"
}

// NewMessageID makes a Message-ID at domain. With a seed (the runtime's
// id of an outbound message, the same on every retry) the id is derived
// from it, so a retried submission carries the same Message-ID and mail
// systems can drop the duplicate; without one it is random.
func NewMessageID(seed, domain string) string {
	var sum []byte
	if seed == "" {
		sum = make([]byte, 16)
		_, _ = rand.Read(sum)
	} else {
		h := sha256.Sum256([]byte("switchboard-message-id\x00" + seed))
		sum = h[:16]
	}
	if domain == "" {
		domain = "switchboard.invalid"
	}
	return "<sb." + hex.EncodeToString(sum) + "@" + domain + ">"
}

// Domain is the domain of an address ("" when it has none).
func Domain(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}

// NormalizeID puts a message id in angle brackets, as headers carry it
// ("" stays "").
func NormalizeID(id string) string {
	id = strings.TrimSpace(oneLine(id))
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	if id == "" {
		return ""
	}
	return "<" + id + ">"
}

// ParseIDs reads a list of message ids (a References header): the
// bracketed ids in order, or, with no brackets at all, the words. At most
// max are kept, the last ones (the nearest ancestors).
func ParseIDs(s string, max int) []string {
	var out []string
	rest := s
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			break
		}
		if id := NormalizeID(rest[i : i+j+1]); id != "" {
			out = append(out, id)
		}
		rest = rest[i+j+1:]
	}
	if len(out) == 0 {
		for _, w := range strings.Fields(s) {
			out = append(out, NormalizeID(w))
		}
	}
	if max > 0 && len(out) > max {
		// Keep the root (the thread's id) and the nearest ancestors.
		out = append(out[:1], out[len(out)-max+1:]...)
	}
	return out
}

// ReplySubject is "Re: subject", unless it already starts so.
func ReplySubject(subject string) string {
	s := strings.TrimSpace(subject)
	if s == "" {
		return ""
	}
	if l := strings.ToLower(s); strings.HasPrefix(l, "re:") || strings.HasPrefix(l, "aw:") {
		return s
	}
	return fmt.Sprintf("Re: %s", s)
}
