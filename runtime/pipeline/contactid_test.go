package pipeline_test

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/runtime/pipeline"
)

// TestContactIDIsStable: contact ids are stored everywhere, so the id of a
// sender never changes: it is "c" and the base32 of the first 15 bytes of
// the SHA-256 of bot, channel and sender joined by NUL bytes, for short and
// long names alike.
func TestContactIDIsStable(t *testing.T) {
	want := func(bot, channel, sender string) string {
		h := sha256.Sum256([]byte(bot + "\x00" + channel + "\x00" + sender))
		return "c" + base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:15])
	}
	if got := pipeline.ContactID("shop", "rest", "u1"); got != "cBHH6J6RUSVQJOIRGN03PBVLE" {
		t.Errorf("ContactID(shop, rest, u1) = %q, the id stores already hold is cBHH6J6RUSVQJOIRGN03PBVLE", got)
	}
	long := strings.Repeat("x", 300)
	for _, c := range [][3]string{
		{"shop", "rest", "u1"}, {"", "", ""}, {"support", "webchat", "v-0123456789abcdef"},
		{"bot", "telegram", long}, {long, long, long}, {"b", "c\x00", "s"}, {"b", "c", "\x00s"}, {"ünï", "cödé", "😀"},
	} {
		if got, w := pipeline.ContactID(c[0], c[1], c[2]), want(c[0], c[1], c[2]); got != w {
			t.Errorf("ContactID(%q, %q, %.20q) = %q, want %q", c[0], c[1], c[2], got, w)
		}
	}
}

func BenchmarkContactID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		pipeline.ContactID("support", "rest", "load-1a2b3c4d-1234")
	}
}
