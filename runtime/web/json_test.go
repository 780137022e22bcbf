package web

import (
	"encoding/json"
	"testing"
)

var jsonStrings = []string{
	"", "hi", `quote " and \ backslash`, "<script>alert(1)</script> & more",
	"tab\tnew\nline\r\x00\x1f\x7f", "héllo wörld 👋", "bad \xff utf-8 \xc3", "line\u2028sep\u2029",
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonStrings {
		want, _ := json.Marshal(s)
		if got := AppendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendJSONString([]byte("x"), s); string(got[1:]) != string(want) || got[0] != 'x' {
			t.Fatalf("AppendJSONString(%q) = %s, want x%s", s, got, want)
		}
	})
}
