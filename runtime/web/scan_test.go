package web

import (
	"strings"
	"testing"
)

// TestScannerSkip: values that are not fields are skipped when valid JSON,
// and declined when malformed or nested too deep to follow.
func TestScannerSkip(t *testing.T) {
	for in, want := range map[string]bool{
		`{"a":[1,-2.5e3,true,false,null,"x",{"b":{}}]}`: true,
		`{"a":01}`:   false,
		`{"a":1.}`:   false,
		`{"a":"\n"}`: false, // an escape: encoding/json's
		`{"a":tru}`:  false,
		`{"a":[1,]}`: false,
		`{"a":` + strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth) + `}`:     true,
		`{"a":` + strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1) + `}`: false,
	} {
		s := NewScanner([]byte(in))
		got := s.Object(func(key string) bool { return s.Other(key, "b") }) && s.End()
		if got != want {
			t.Errorf("%.60s: accepted %v, want %v", in, got, want)
		}
	}
	// A key that matches a field but for its case is declined:
	// encoding/json would take it for the field.
	s := NewScanner([]byte(`{"Sender":"x"}`))
	if s.Object(func(key string) bool { return s.Other(key, "sender") }) {
		t.Error(`"Sender" skipped`)
	}
}
