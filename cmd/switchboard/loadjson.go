package main

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// The load tool decodes every answer it checks, on the cores it shares with
// the server it measures; encoding/json took a quarter of its CPU. These
// readers decode the two shapes it reads (the REST answer and a web chat
// frame) in one pass. They accept only what they fully understand: a
// string with an escape, a key that differs from a field's name only in
// case, a number that is not a plain unsigned integer, or anything
// malformed makes them decline, and the caller decodes with encoding/json,
// which gives the same result or the error to report.

// decodeReplies decodes a REST answer; ok false: use encoding/json.
func decodeReplies(b []byte) (out []reply, ok bool) {
	s := jscan{b: b}
	if s.peek() == '[' {
		out = []reply{} // as encoding/json makes of []
	}
	ok = s.array(func() bool {
		var r reply
		ok := s.object(func(key string) bool {
			switch key {
			case "recipient_id":
				return s.str(&r.RecipientID)
			case "text":
				return s.str(&r.Text)
			case "buttons":
				return s.buttons(&r.Buttons)
			}
			return s.other(key, "recipient_id", "text", "buttons")
		})
		out = append(out, r)
		return ok
	})
	return out, ok && s.end()
}

// decodeFrame decodes a web chat frame; ok false: use encoding/json.
func decodeFrame(b []byte, f *wcFrame) (ok bool) {
	s := jscan{b: b}
	ok = s.object(func(key string) bool {
		switch key {
		case "type":
			return s.str(&f.Type)
		case "contact":
			return s.object(func(key string) bool {
				if key == "visitor" {
					return s.str(&f.Contact.Visitor)
				}
				return s.other(key, "visitor")
			})
		case "seq":
			return s.uint(&f.Seq)
		case "id":
			return s.str(&f.ID)
		case "author":
			return s.str(&f.Author)
		case "text":
			return s.str(&f.Text)
		case "buttons":
			return s.buttons(&f.Buttons)
		case "quick_replies":
			return s.buttons(&f.QuickReplies)
		case "duplicate":
			return s.bool(&f.Duplicate)
		case "code":
			return s.str(&f.Code)
		case "message":
			return s.str(&f.Message)
		}
		return s.other(key, "type", "contact", "seq", "id", "author", "text", "buttons", "quick_replies", "duplicate", "code", "message")
	})
	return ok && s.end()
}

// jscan reads JSON from b; every method reports false on what it does not
// accept.
type jscan struct {
	b     []byte
	i     int
	depth int
}

// maxJSONDepth bounds the nesting skip follows.
const maxJSONDepth = 32

func (s *jscan) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\t' || s.b[s.i] == '\r') {
		s.i++
	}
}

// next consumes c, after white space.
func (s *jscan) next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *jscan) peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jscan) end() bool {
	s.space()
	return s.i == len(s.b)
}

func (s *jscan) literal(word string) bool {
	s.space()
	if strings.HasPrefix(string(s.b[s.i:]), word) {
		s.i += len(word)
		return true
	}
	return false
}

// raw reads a string without escapes.
func (s *jscan) raw() (string, bool) {
	if !s.next('"') {
		return "", false
	}
	start, ascii := s.i, true
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			v := string(s.b[start:s.i])
			s.i++
			// encoding/json replaces invalid UTF-8.
			return v, ascii || utf8.ValidString(v)
		case c == '\\' || c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
		s.i++
	}
	return "", false
}

// str reads a string, or null (which leaves dst as it is, as
// encoding/json does).
func (s *jscan) str(dst *string) bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	v, ok := s.raw()
	*dst = v
	return ok
}

func (s *jscan) uint(dst *uint64) bool {
	s.space()
	start, n := s.i, uint64(0)
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' && s.i-start < 19 {
		n = n*10 + uint64(s.b[s.i]-'0')
		s.i++
	}
	if s.i == start || (s.b[start] == '0' && s.i-start > 1) {
		return false
	}
	if s.i < len(s.b) && strings.IndexByte(".eE0123456789", s.b[s.i]) >= 0 {
		return false
	}
	*dst = n
	return true
}

func (s *jscan) bool(dst *bool) bool {
	switch {
	case s.literal("true"):
		*dst = true
	case s.literal("false"):
		*dst = false
	default:
		return s.literal("null")
	}
	return true
}

// object reads an object, or null, calling field for each key with the
// scanner at its value.
func (s *jscan) object(field func(key string) bool) bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		key, ok := s.raw()
		if !ok || !s.next(':') || !field(key) {
			return false
		}
		if s.next('}') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

// array reads an array, or null, calling elem at each element.
func (s *jscan) array(elem func() bool) bool {
	if s.peek() == 'n' {
		return s.literal("null")
	}
	if !s.next('[') {
		return false
	}
	if s.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.next(']') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

func (s *jscan) buttons(dst *[]replyButton) bool {
	if s.peek() == 'n' {
		*dst = nil
		return s.literal("null")
	}
	*dst = []replyButton{}
	return s.array(func() bool {
		var b replyButton
		ok := s.object(func(key string) bool {
			switch key {
			case "title":
				return s.str(&b.Title)
			case "payload":
				return s.str(&b.Payload)
			}
			return s.other(key, "title", "payload")
		})
		*dst = append(*dst, b)
		return ok
	})
}

// other skips the value of a key that is not a field, declining one that
// encoding/json would take for a field (it matches names regardless of
// case).
func (s *jscan) other(key string, fields ...string) bool {
	for _, f := range fields {
		if strings.EqualFold(key, f) {
			return false
		}
	}
	return s.skip()
}

// skip reads any value of a key that is not a field; a number must be
// valid JSON (json.Valid), as encoding/json would require.
func (s *jscan) skip() bool {
	if s.depth++; s.depth > maxJSONDepth {
		return false
	}
	defer func() { s.depth-- }()
	switch c := s.peek(); {
	case c == '"':
		_, ok := s.raw()
		return ok
	case c == '{':
		return s.object(func(string) bool { return s.skip() })
	case c == '[':
		return s.array(s.skip)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.i
		for s.i < len(s.b) && strings.IndexByte("+-.eE0123456789", s.b[s.i]) >= 0 {
			s.i++
		}
		return json.Valid(s.b[start:s.i])
	}
	return false
}
