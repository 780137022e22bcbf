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

// TestScannerDoesNotCopy: skipping a value costs no allocation, however
// long the input, so a body of a million literals is read in linear time
// (a copy of the rest of the input per literal made it quadratic).
func TestScannerDoesNotCopy(t *testing.T) {
	body := []byte(`{"x":[` + strings.Repeat("true,false,null,1,", 50_000) + `0]}`)
	var ok bool
	allocs := testing.AllocsPerRun(3, func() {
		s := Scanner{b: body}
		ok = s.Object(func(key string) bool { return s.Skip() }) && s.End()
	})
	if !ok {
		t.Fatal("the body was not accepted")
	}
	// The key "x" and the closures are all that may allocate.
	if allocs > 4 && !raceEnabled {
		t.Fatalf("%v allocations to skip %d bytes", allocs, len(body))
	}
}
