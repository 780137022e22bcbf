package web

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Scanner reads JSON in one pass for the hot paths that know the shape
// they read: a REST request, the load tool's answers and frames. Every
// method reports false on what it does not fully accept (a string with an
// escape, a key that differs from a field's name only in case, anything
// malformed), and the caller then decodes with encoding/json, which gives
// the same result or the error to report. So what a Scanner accepts must
// decode with encoding/json to the same values: each user fuzzes that.
type Scanner struct {
	b     []byte
	i     int
	depth int
}

// NewScanner returns a Scanner at the start of b.
func NewScanner(b []byte) *Scanner { return &Scanner{b: b} }

// maxJSONDepth bounds the nesting Skip follows.
const maxJSONDepth = 32

func (s *Scanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\t' || s.b[s.i] == '\r') {
		s.i++
	}
}

// Next consumes c, after white space.
func (s *Scanner) Next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// Peek returns the next byte after white space, 0 at the end.
func (s *Scanner) Peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// End reports whether only white space is left.
func (s *Scanner) End() bool {
	s.space()
	return s.i == len(s.b)
}

// Literal consumes word (true, false, null).
func (s *Scanner) Literal(word string) bool {
	s.space()
	// Only len(word) bytes are compared: converting the rest of the input
	// would copy it at every literal, quadratic in a body full of them.
	if end := s.i + len(word); end <= len(s.b) && string(s.b[s.i:end]) == word {
		s.i = end
		return true
	}
	return false
}

// Raw reads a string without escapes.
func (s *Scanner) Raw() (string, bool) {
	if !s.Next('"') {
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

// Str reads a string, or null (which leaves dst as it is, as
// encoding/json does).
func (s *Scanner) Str(dst *string) bool {
	if s.Peek() == 'n' {
		return s.Literal("null")
	}
	v, ok := s.Raw()
	*dst = v
	return ok
}

// Uint reads a plain unsigned integer of at most 19 digits.
func (s *Scanner) Uint(dst *uint64) bool {
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

// Bool reads true, false or null (which leaves dst as it is).
func (s *Scanner) Bool(dst *bool) bool {
	switch {
	case s.Literal("true"):
		*dst = true
	case s.Literal("false"):
		*dst = false
	default:
		return s.Literal("null")
	}
	return true
}

// Object reads an object, or null, calling field for each key with the
// scanner at its value.
func (s *Scanner) Object(field func(key string) bool) bool {
	if s.Peek() == 'n' {
		return s.Literal("null")
	}
	if !s.Next('{') {
		return false
	}
	if s.Next('}') {
		return true
	}
	for {
		key, ok := s.Raw()
		if !ok || !s.Next(':') || !field(key) {
			return false
		}
		if s.Next('}') {
			return true
		}
		if !s.Next(',') {
			return false
		}
	}
}

// Array reads an array, or null, calling elem at each element.
func (s *Scanner) Array(elem func() bool) bool {
	if s.Peek() == 'n' {
		return s.Literal("null")
	}
	if !s.Next('[') {
		return false
	}
	if s.Next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.Next(']') {
			return true
		}
		if !s.Next(',') {
			return false
		}
	}
}

// Other skips the value of a key that is not a field, declining one that
// encoding/json would take for a field (it matches names regardless of
// case).
func (s *Scanner) Other(key string, fields ...string) bool {
	for _, f := range fields {
		if strings.EqualFold(key, f) {
			return false
		}
	}
	return s.Skip()
}

// Skip reads any value of a key that is not a field; a number must be
// valid JSON (json.Valid), as encoding/json would require.
func (s *Scanner) Skip() bool {
	if s.depth++; s.depth > maxJSONDepth {
		return false
	}
	defer func() { s.depth-- }()
	switch c := s.Peek(); {
	case c == '"':
		_, ok := s.Raw()
		return ok
	case c == '{':
		return s.Object(func(string) bool { return s.Skip() })
	case c == '[':
		return s.Array(s.Skip)
	case c == 't':
		return s.Literal("true")
	case c == 'f':
		return s.Literal("false")
	case c == 'n':
		return s.Literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.i
		for s.i < len(s.b) && strings.IndexByte("+-.eE0123456789", s.b[s.i]) >= 0 {
			s.i++
		}
		return json.Valid(s.b[start:s.i])
	}
	return false
}
