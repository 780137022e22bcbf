package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// hdrMessage heads a stored message: kind 5, format version 3 (version 2,
// still read, had no agent).
const (
	hdrMessage   = 0x53
	hdrMessageV2 = 0x52
)

var errCorruptMessage = errors.New("store: corrupt message record")

// appendMessage encodes m without its Contact and Seq, which are in the key.
// The layout follows the flows codec: a header byte, length-prefixed strings,
// times as varint Unix seconds and uvarint nanoseconds (zone dropped, read
// back in UTC; the zero time survives), then the content in
// flows.AppendContent form. The binary content codec is several times faster
// than encoding/json for content (see BenchmarkContentEncoding), so it is
// used here too.
//
//	0x53 {lp id}{time}{lp direction}{lp author}{lp channel}{lp external id}
//	     {lp status}{uvarint attempts}{next attempt time}{lp error}{lp agent}
//	     {content}
func appendMessage(dst []byte, m *Message) []byte {
	return flows.AppendContent(appendMessageHead(dst, m), &m.Content)
}

// appendMessageHead encodes everything of m but its content.
func appendMessageHead(dst []byte, m *Message) []byte {
	dst = append(dst, hdrMessage)
	dst = appendLP(dst, m.ID)
	dst = appendTime(dst, m.Time)
	dst = appendLP(dst, m.Direction)
	dst = appendLP(dst, m.Author)
	dst = appendLP(dst, m.Channel)
	dst = appendLP(dst, m.ExternalID)
	dst = appendLP(dst, m.Status)
	dst = binary.AppendUvarint(dst, uint64(m.Attempts))
	dst = appendTime(dst, m.NextAttempt)
	dst = appendLP(dst, m.Error)
	return appendLP(dst, m.Agent)
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

// decodeMessage decodes a value written by appendMessage into m, whose
// Contact and Seq the caller sets from the key. v may be Badger's own buffer:
// everything kept is copied, the short fields in one string.
func decodeMessage(v []byte, m *Message) error {
	i, err := decodeMessageHead(v, m)
	if err != nil {
		return err
	}
	c, err := flows.UnmarshalContent(v[i:])
	if err != nil {
		return fmt.Errorf("store: message content: %w", err)
	}
	m.Content = c
	return nil
}

// decodeMessageHead decodes all of a stored message but its content, and
// returns where the content starts.
func decodeMessageHead(v []byte, m *Message) (int, error) {
	if len(v) == 0 || (v[0] != hdrMessage && v[0] != hdrMessageV2) {
		return 0, errCorruptMessage
	}
	r := msgReader{v: v, i: 1}
	id := r.span()
	sec, ns := r.time()
	dir, author, channel, ext, status := r.span(), r.span(), r.span(), r.span(), r.span()
	attempts := r.uvarint()
	nextSec, nextNs := r.time()
	errSpan := r.span()
	agent := [2]int{errSpan[1], errSpan[1]}
	if v[0] == hdrMessage {
		agent = r.span()
	}
	if r.bad || !validTime(sec, ns) || !validTime(nextSec, nextNs) || attempts > 1<<31 {
		return 0, errCorruptMessage
	}
	base := id[0]
	s := string(v[base:agent[1]])
	sub := func(sp [2]int) string { return s[sp[0]-base : sp[1]-base] }
	m.ID = sub(id)
	m.Time = time.Unix(sec, int64(ns)).UTC()
	m.Direction = intern(sub(dir))
	m.Author = intern(sub(author))
	m.Channel = sub(channel)
	m.ExternalID = sub(ext)
	m.Status = intern(sub(status))
	m.Attempts = int(attempts)
	m.NextAttempt = time.Unix(nextSec, int64(nextNs)).UTC()
	m.Error = sub(errSpan)
	m.Agent = sub(agent)
	return r.i, nil
}

// validTime bounds a decoded time well beyond any real one, so that a
// corrupt record cannot make time.Unix overflow.
func validTime(sec int64, ns uint64) bool {
	return ns < 1e9 && sec <= 1<<40 && sec >= -1<<40
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

// time reads a time written by appendTime.
func (r *msgReader) time() (int64, uint64) {
	sec := r.varint()
	return sec, r.uvarint()
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
	case StatusRead:
		return StatusRead
	case StatusFailed:
		return StatusFailed
	}
	return s
}
