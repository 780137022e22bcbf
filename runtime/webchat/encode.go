package webchat

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// encoder writes message frames as json.Marshal(messageFrame) would, byte
// for byte, with the envelope written by hand and the content through a
// reused json.Encoder: no reflection over the envelope (its time above
// all) and no allocation per frame. One per connection, under wmu.
type encoder struct {
	frame   messageFrame // the frame being encoded, kept off the heap
	payload []byte
	content bytes.Buffer
	enc     *json.Encoder
}

// message returns the frame's JSON; it is valid until the next call.
func (e *encoder) message(f *messageFrame) ([]byte, error) {
	if y := f.Time.Year(); y < 0 || y > 9999 {
		// Out of RFC 3339's range: json.Marshal has the error.
		return json.Marshal(f)
	}
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.content)
	}
	e.content.Reset()
	if err := e.enc.Encode(&f.Content); err != nil {
		return nil, err
	}
	content := bytes.TrimSuffix(e.content.Bytes(), []byte{'\n'})
	b := append(e.payload[:0], `{"type":`...)
	b = appendJSONString(b, f.Type)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, f.Seq, 10)
	if f.ID != "" {
		b = append(b, `,"id":`...)
		b = appendJSONString(b, f.ID)
	}
	b = append(b, `,"author":`...)
	b = appendJSONString(b, f.Author)
	b = append(b, `,"time":"`...)
	b = f.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if len(content) > 2 {
		b = append(b, ',')
		b = append(b, content[1:]...)
	} else {
		b = append(b, '}')
	}
	if cap(b) <= 64<<10 {
		e.payload = b
	}
	if e.content.Cap() > 64<<10 {
		// A rare large message: do not keep its buffer.
		e.content, e.enc = bytes.Buffer{}, nil
	}
	return b, nil
}

// appendAck appends the JSON of an ack frame, as json.Marshal(ackFrame)
// writes it.
func appendAck(dst []byte, id string, duplicate bool) []byte {
	dst = append(dst, `{"type":"ack","id":`...)
	dst = appendJSONString(dst, id)
	if duplicate {
		return append(dst, `,"duplicate":true}`...)
	}
	return append(dst, `,"duplicate":false}`...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it (HTML characters included; invalid UTF-8 becomes U+FFFD).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= ' ' && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
