package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// hdrMessage starts a stored message: kind 5, format version 1.
const hdrMessage = 0x51

var errCorruptMessage = errors.New("store: corrupt message record")

// appendMessage encodes m without its Contact and Seq, which are in the key.
// The layout follows the flows codec: a header byte, length-prefixed strings,
// the time as varint Unix seconds and uvarint nanoseconds (zone dropped, read
// back in UTC), then the content in flows.AppendContent form. The binary
// content codec is several times faster than encoding/json for content (see
// BenchmarkContentEncoding), so it is used here too.
func appendMessage(dst []byte, m *Message) []byte {
	dst = append(dst, hdrMessage)
	dst = appendLP(dst, m.ID)
	dst = binary.AppendVarint(dst, m.Time.Unix())
	dst = binary.AppendUvarint(dst, uint64(m.Time.Nanosecond()))
	dst = appendLP(dst, m.Direction)
	dst = appendLP(dst, m.Author)
	dst = appendLP(dst, m.Channel)
	dst = appendLP(dst, m.ExternalID)
	dst = appendLP(dst, m.Status)
	return flows.AppendContent(dst, &m.Content)
}

// decodeMessage decodes a value written by appendMessage into m, whose
// Contact and Seq the caller sets from the key. v may be Badger's own buffer:
// everything kept is copied, the short fields in one string.
func decodeMessage(v []byte, m *Message) error {
	if len(v) == 0 || v[0] != hdrMessage {
		return errCorruptMessage
	}
	r := msgReader{v: v, i: 1}
	id := r.span()
	sec := r.varint()
	ns := r.uvarint()
	dir, author, channel, ext, status := r.span(), r.span(), r.span(), r.span(), r.span()
	if r.bad || ns >= 1e9 || sec > 1<<40 || sec < -1<<40 {
		return errCorruptMessage
	}
	c, err := flows.UnmarshalContent(v[r.i:])
	if err != nil {
		return fmt.Errorf("store: message content: %w", err)
	}
	base := id[0]
	s := string(v[base:status[1]])
	sub := func(sp [2]int) string { return s[sp[0]-base : sp[1]-base] }
	m.ID = sub(id)
	m.Time = time.Unix(sec, int64(ns)).UTC()
	m.Direction = intern(sub(dir))
	m.Author = intern(sub(author))
	m.Channel = sub(channel)
	m.ExternalID = sub(ext)
	m.Status = intern(sub(status))
	m.Content = c
	return nil
}

// msgReader reads the fields of a stored message; bad is sticky.
type msgReader struct {
	v   []byte
	i   int
	bad bool
}

func (r *msgReader) uvarint() uint64 {
	x, n := binary.Uvarint(r.v[r.i:])
	if n <= 0 {
		r.bad, r.i = true, len(r.v)
		return 0
	}
	r.i += n
	return x
}

func (r *msgReader) varint() int64 {
	x, n := binary.Varint(r.v[r.i:])
	if n <= 0 {
		r.bad, r.i = true, len(r.v)
		return 0
	}
	r.i += n
	return x
}

// span reads a length-prefixed field and returns where its bytes are.
func (r *msgReader) span() [2]int {
	l := r.uvarint()
	if l > uint64(len(r.v)-r.i) {
		r.bad, r.i = true, len(r.v)
		return [2]int{r.i, r.i}
	}
	sp := [2]int{r.i, r.i + int(l)}
	r.i += int(l)
	return sp
}

// intern returns the constant for the common enum values, so a page of
// messages does not keep copies of them.
func intern(s string) string {
	switch s {
	case DirectionIn:
		return DirectionIn
	case DirectionOut:
		return DirectionOut
	case AuthorUser:
		return AuthorUser
	case AuthorBot:
		return AuthorBot
	case AuthorAgent:
		return AuthorAgent
	case AuthorSystem:
		return AuthorSystem
	case StatusQueued:
		return StatusQueued
	case StatusSent:
		return StatusSent
	case StatusDelivered:
		return StatusDelivered
	case StatusFailed:
		return StatusFailed
	}
	return s
}
