package mailx

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Parsed is what a received e-mail says, as far as a conversation needs.
type Parsed struct {
	From      *mail.Address
	Subject   string
	MessageID string
	InReplyTo string
	// References are the thread's ids, root first.
	References []string
	Date       time.Time
	// Text is the text/plain body (or the text of the HTML body when
	// there is no plain one), quoted reply text not trimmed.
	Text string
	// Attachments are the names of the files attached.
	Attachments []string
	// Auto says the message was sent by a machine (an out-of-office
	// reply, a bounce): answering it would start a loop.
	Auto bool
}

// Limits on what user data can drive while parsing.
const (
	maxParts    = 100
	maxDepth    = 8
	maxRefs     = 20
	maxBodyText = 1 << 20
)

var decoder = &mime.WordDecoder{CharsetReader: charsetReader}

// Parse reads an RFC 5322 message: its headers with net/mail, its body
// with mime/multipart, preferring text/plain to text/html. Charsets other
// than UTF-8, US-ASCII and ISO-8859-1 (and Windows-1252, read as
// ISO-8859-1) are kept as they are.
func Parse(raw []byte) (*Parsed, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not an e-mail: %w", err)
	}
	p := &Parsed{}
	hd := msg.Header
	if from := hd.Get("From"); from != "" {
		if a, err := (&mail.AddressParser{WordDecoder: decoder}).Parse(from); err == nil {
			p.From = a
		}
	}
	if s, err := decoder.DecodeHeader(hd.Get("Subject")); err == nil {
		p.Subject = strings.TrimSpace(s)
	} else {
		p.Subject = strings.TrimSpace(hd.Get("Subject"))
	}
	p.MessageID = NormalizeID(firstID(hd.Get("Message-Id")))
	p.InReplyTo = NormalizeID(firstID(hd.Get("In-Reply-To")))
	p.References = ParseIDs(hd.Get("References"), maxRefs)
	if d, err := hd.Date(); err == nil {
		p.Date = d
	}
	auto := strings.ToLower(strings.TrimSpace(hd.Get("Auto-Submitted")))
	p.Auto = (auto != "" && auto != "no") || hd.Get("X-Autoreply") != "" ||
		strings.EqualFold(hd.Get("Precedence"), "bulk") || strings.EqualFold(hd.Get("Precedence"), "auto_reply")

	var plain, htm string
	parts := 0
	var walk func(h map[string][]string, body io.Reader, depth int) error
	walk = func(h map[string][]string, body io.Reader, depth int) error {
		parts++
		if parts > maxParts || depth > maxDepth {
			return errors.New("too many MIME parts")
		}
		get := func(k string) string {
			if v := h[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		ct, params, err := mime.ParseMediaType(get("Content-Type"))
		if err != nil {
			ct, params = "text/plain", map[string]string{"charset": "us-ascii"}
		}
		disp, dparams, _ := mime.ParseMediaType(get("Content-Disposition"))
		if strings.HasPrefix(ct, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				part, err := mr.NextRawPart()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return fmt.Errorf("MIME part: %w", err)
				}
				if err := walk(part.Header, part, depth+1); err != nil {
					return err
				}
			}
		}
		name := dparams["filename"]
		if name == "" {
			name = params["name"]
		}
		if disp == "attachment" || name != "" {
			if n, err := decoder.DecodeHeader(name); err == nil {
				name = n
			}
			if name == "" {
				name = "attachment"
			}
			p.Attachments = append(p.Attachments, name)
			return nil
		}
		if ct != "text/plain" && ct != "text/html" {
			return nil
		}
		if (ct == "text/plain" && plain != "") || (ct == "text/html" && htm != "") {
			return nil
		}
		text, err := decodeBody(body, get("Content-Transfer-Encoding"), params["charset"])
		if err != nil {
			return err
		}
		if ct == "text/plain" {
			plain = text
		} else {
			htm = text
		}
		return nil
	}
	if err := walk(msg.Header, msg.Body, 0); err != nil {
		return nil, err
	}
	switch {
	case plain != "":
		p.Text = plain
	case htm != "":
		p.Text = HTMLText(htm)
	}
	p.Text = strings.TrimSpace(strings.ReplaceAll(p.Text, "\r\n", "\n"))
	return p, nil
}

// firstID is the first bracketed id in a header value (some mailers put a
// comment after it), or the value itself.
func firstID(v string) string {
	if ids := ParseIDs(v, 1); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

func decodeBody(r io.Reader, cte, charset string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &stripSpace{r: r})
	}
	b, err := io.ReadAll(io.LimitReader(r, maxBodyText))
	if err != nil {
		return "", fmt.Errorf("body: %w", err)
	}
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252":
		return latin1(b), nil
	}
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	}
	return string(b), nil
}

// stripSpace drops the line breaks base64 bodies are folded with.
type stripSpace struct{ r io.Reader }

func (s *stripSpace) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252":
		b, err := io.ReadAll(io.LimitReader(input, 64<<10))
		if err != nil {
			return nil, err
		}
		return strings.NewReader(latin1(b)), nil
	}
	return nil, fmt.Errorf("unhandled charset %q", charset)
}

var (
	reBlockEnd = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/tr|/li|/h[1-6])\s*/?>`)
	reTag      = regexp.MustCompile(`(?s)<[^>]*>`)
	reDrop     = regexp.MustCompile(`(?is)<(style|script|head)[^>]*>.*?</(style|script|head)\s*>`)
	reBlank    = regexp.MustCompile(`\n{3,}`)
)

// HTMLText is the text of an HTML body: tags dropped, line breaks kept
// where blocks end, entities decoded. Crude on purpose; it is the fallback
// for mail without a text/plain part.
func HTMLText(s string) string {
	s = reDrop.ReplaceAllString(s, "")
	s = reBlockEnd.ReplaceAllString(s, "\n")
	s = reTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(reBlank.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

var reWrote = regexp.MustCompile(`^\s*On\s.*wrote:\s*$`)

// TrimQuoted cuts the quoted earlier message off a reply, in the obvious
// cases only:
//
//   - an "On … wrote:" line (or two lines, when the mailer wrapped it)
//     followed by lines starting with ">": cut from that line on;
//   - a "-----Original Message-----" line: cut from it on;
//   - ">" lines closing the text: cut.
//
// Anything else is left as it is; a reply that is all quote is kept.
func TrimQuoted(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	cut := len(lines)
	for i, l := range lines {
		if strings.TrimSpace(l) == "-----Original Message-----" {
			cut = i
			break
		}
		start := -1
		switch {
		case reWrote.MatchString(l):
			start = i
		case i > 0 && strings.HasPrefix(strings.TrimSpace(lines[i-1]), "On ") &&
			strings.HasSuffix(strings.TrimSpace(l), "wrote:") && !reWrote.MatchString(lines[i-1]):
			start = i - 1
		}
		if start < 0 {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j < len(lines) && strings.HasPrefix(lines[j], ">") {
			cut = start
			break
		}
	}
	lines = lines[:cut]
	// Trailing quoted lines (and the blank lines between them).
	end := len(lines)
	for end > 0 {
		l := strings.TrimSpace(lines[end-1])
		if l != "" && !strings.HasPrefix(l, ">") {
			break
		}
		end--
	}
	out := strings.TrimSpace(strings.Join(lines[:end], "\n"))
	if out == "" {
		return strings.TrimSpace(text)
	}
	return out
}
