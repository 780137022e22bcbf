package server

import (
	"encoding/json"
	"strings"
	"testing"
)

var restRequestSeeds = []string{
	`{"sender":"u1","message":"hi"}`,
	` { "message" : "/b/menu/1" , "sender" : "load-1a2b-17" } `,
	`{"sender":"u1","message":"hi","metadata":{"a":1}}`,
	`{"sender":"u1","message":"caf\u00e9"}`,
	`{"sender":"u1","message":null}`,
	`{"Sender":"u1","message":"hi"}`,
	`{"sender":"u1","message":"hi","extra":[1,-2.5e3,true,null,{"x":"y"}]}`,
	`{"sender":"u1","message":"hi"} x`,
	`{"sender":1,"message":"hi"}`,
	`{"sender":"u1","sender":"u2","message":"a"}`,
	`null`, `[]`, `{}`, `{"sender":"\xff","message":"x"}`, `{"sender":"ü","message":"😀"}`,
	`{"sender":"u1","message":"hi","extra":01}`,
}

// TestRestRequestScan: the usual request is read in one pass; everything
// else is left to encoding/json, which the handler then uses.
func TestRestRequestScan(t *testing.T) {
	var req restRequest
	if !scanRestRequest([]byte(restRequestSeeds[1]), &req) || req.Sender != "load-1a2b-17" || req.Message == nil || *req.Message != "/b/menu/1" {
		t.Fatalf("usual request: %+v", req)
	}
	for _, in := range []string{restRequestSeeds[2], restRequestSeeds[3], restRequestSeeds[4], restRequestSeeds[5], restRequestSeeds[7], restRequestSeeds[8], `null`, `{"sender":"u1","message":"hi","extra":01}`} {
		if scanRestRequest([]byte(in), &restRequest{}) {
			t.Errorf("scanned %s: it is encoding/json's", in)
		}
	}
	// Through decodeRestRequest, the declined ones decode as before.
	req, err := decodeRestRequest([]byte(restRequestSeeds[2]))
	if err != nil || req.Sender != "u1" || *req.Message != "hi" || req.Metadata["a"] != 1.0 {
		t.Errorf("with metadata: %+v %v", req, err)
	}
	if _, err := decodeRestRequest([]byte(restRequestSeeds[8])); err == nil {
		t.Error("a number for sender decoded")
	}
}

// FuzzRestRequestScan: whatever the scanner accepts, encoding/json decodes
// to the same request.
func FuzzRestRequestScan(f *testing.F) {
	for _, s := range restRequestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got restRequest
		if !scanRestRequest(b, &got) {
			return
		}
		var want restRequest
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("scanned %q, which encoding/json rejects: %v", b, err)
		}
		if got.Sender != want.Sender || (got.Message == nil) != (want.Message == nil) || got.Message != nil && *got.Message != *want.Message || want.Metadata != nil {
			t.Fatalf("%q: scanned %+v, encoding/json %+v", b, got, want)
		}
	})
}

// BenchmarkRestRequestDecode: the usual request, and one whose unknown key
// holds a megabyte of literals, which the scanner skips in linear time.
func BenchmarkRestRequestDecode(b *testing.B) {
	usual := []byte(`{"sender":"load-1a2b3c4d-1234","message":"/b/menu/1"}`)
	long := []byte(`{"sender":"u","message":"m","x":[` + strings.Repeat("true,", 200_000) + `true]}`)
	b.Run("usual", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeRestRequest(usual); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("1MB-of-literals", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeRestRequest(long); err != nil {
				b.Fatal(err)
			}
		}
	})
}
