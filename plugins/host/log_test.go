package host

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestLimiterIsATokenBucket(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(2, 3) // 2 a second, bursts of 3
	l.now = func() time.Time { return now }
	allowed := 0
	for i := 0; i < 10; i++ {
		if l.allow() {
			allowed++
		}
	}
	if allowed != 3 || l.total.Load() != 7 {
		t.Fatalf("burst: %d allowed, %d dropped", allowed, l.total.Load())
	}
	now = now.Add(time.Second) // two more tokens
	allowed = 0
	for i := 0; i < 10; i++ {
		if l.allow() {
			allowed++
		}
	}
	if allowed != 2 {
		t.Fatalf("after 1s: %d allowed", allowed)
	}
	now = now.Add(time.Hour) // never more than the burst
	allowed = 0
	for i := 0; i < 10; i++ {
		if l.allow() {
			allowed++
		}
	}
	if allowed != 3 {
		t.Fatalf("after 1h: %d allowed", allowed)
	}
}

func TestLineWriter(t *testing.T) {
	var got []string
	w := &lineWriter{fn: func(s string) { got = append(got, s) }}
	_, _ = w.Write([]byte("a\nb"))
	_, _ = w.Write([]byte("c\r\n\nd\n"))
	if !reflect.DeepEqual(got, []string{"a", "bc", "d"}) {
		t.Fatalf("lines %q", got)
	}
}

func TestSecretValuesAndScrub(t *testing.T) {
	got := secretValues(json.RawMessage(`{"token": "abcdef123", "pin": "12", "keys": [{"k": "kkkkkkk1"}, {"k": "kkkkkkk2"}], "url": "http://x"}`),
		[]string{"/token", "/pin", "/keys/*/k", "/nope"})
	sort.Strings(got)
	if !reflect.DeepEqual(got, []string{"abcdef123", "kkkkkkk1", "kkkkkkk2"}) {
		t.Fatalf("values %q", got)
	}
	var s secretSet
	if s.scrub("abcdef123") != "abcdef123" {
		t.Fatal("nothing to scrub yet")
	}
	s.set(got)
	if v := s.scrub("token=abcdef123!"); v != "token="+Redacted+"!" {
		t.Errorf("scrub = %v", v)
	}
	if v := s.scrub([]string{"kkkkkkk2"}); v != "["+Redacted+"]" {
		t.Errorf("scrub of a slice = %v", v)
	}
	if v := s.scrub(42); v != 42 {
		t.Errorf("scrub of a number = %v", v)
	}
}

// TestGoPluginLinesKeepThePluginsName: go-plugin's own lines name the
// binary "plugin"; in the host's log it is the path, and plugin stays the
// plugin's name.
func TestGoPluginLinesKeepThePluginsName(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil)).With("plugin", "webhook")
	l := newHCLogger(log, newLimiter(100, 100), &secretSet{})
	l.binary = "/srv/plugins/webhook"
	l.Info("plugin process exited", "plugin", "/srv/plugins/webhook", "id", 42, "timestamp", "2026-11-21T16:08:17Z")
	line := buf.String()
	if !strings.Contains(line, `msg="plugin process exited" plugin=webhook path=/srv/plugins/webhook id=42`) || strings.Contains(line, "timestamp") {
		t.Fatalf("line %q", line)
	}
	// A plugin's own attribute of that name is its own business.
	buf.Reset()
	l.Info("routed", "plugin", "billing", "path", "/hook")
	if line := buf.String(); !strings.Contains(line, `plugin=webhook plugin=billing path=/hook`) {
		t.Fatalf("a plugin's own line %q", line)
	}
}
