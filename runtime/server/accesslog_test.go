package server

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"testing"
	"time"
)

// textHandlerLine is a's line as slog's TextHandler writes it.
func textHandlerLine(t testing.TB, a *access) string {
	t.Helper()
	var buf bytes.Buffer
	h := slog.NewTextHandler(&buf, nil)
	r := slog.NewRecord(a.at, a.level, accessMsg, 0)
	r.AddAttrs(a.attrs()...)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestAccessLineIsTheTextHandlersLine: the access log's own lines read the
// same as every other line of the log, whatever a client puts in its path.
func TestAccessLineIsTheTextHandlersLine(t *testing.T) {
	at := time.Date(2026, 11, 21, 16, 4, 40, 999_999_999, time.FixedZone("x", 3600))
	for _, a := range []access{
		{at: at, level: slog.LevelInfo, method: []byte("POST"), route: "/webhooks/rest/webhook", path: []byte("/webhooks/rest/webhook"), status: 200, duration: 1234567, id: "0a1b2c3d4e5f0000000000000001", remote: net.ParseIP("127.0.0.1")},
		{at: at.Add(-999 * time.Millisecond), level: slog.LevelWarn, method: []byte("GET"), route: "/api/v1/bots/{id}", path: []byte(`/a b/"q"/c=d/\x/é/` + "\t\x00\x7f\u00a0\u2028\xff"), status: 503, duration: 3 * time.Second, id: "client-id", remote: net.IPv6loopback},
		{at: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), level: slog.LevelError, method: nil, route: "unmatched", path: nil, status: 0, duration: 0, id: "", remote: nil},
		{at: at, level: slog.LevelInfo, route: "/x", status: 200, id: "a", remote: net.IP{10, 0, 0, 7}},
		{at: at, level: slog.LevelInfo, route: "/x", status: 200, id: "a", remote: net.ParseIP("2001:db8::ffff:1")},
		{at: at, level: slog.LevelInfo, route: "/x", status: 200, id: "a", remote: net.IP{1, 2, 3}}, // malformed
	} {
		want := textHandlerLine(t, &a)
		if got := string(appendAccessLine(nil, &a)); got != want {
			t.Errorf("access line\n got %q\nwant %q", got, want)
		}
	}
}

// FuzzAccessLine checks the access line against the TextHandler's for any
// path, route, request id and remote address bytes.
func FuzzAccessLine(f *testing.F) {
	f.Add("/webhooks/rest/webhook", "/webhooks/rest/{bot}/webhook", "abc", int64(1234567), []byte(net.ParseIP("127.0.0.1")))
	f.Add("/a b", "", "x=y", int64(-1), []byte(net.IPv6loopback))
	f.Add("\xff\u00a0\"\\", "é", "\n", int64(1<<40), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, path, route, id string, ns int64, remote []byte) {
		a := access{at: time.Unix(0, ns), level: slog.LevelInfo, method: []byte("POST"), route: route, path: []byte(path),
			status: 200, duration: time.Duration(ns), id: id, remote: net.IP(remote)}
		want := textHandlerLine(t, &a)
		if got := string(appendAccessLine(nil, &a)); got != want {
			t.Fatalf("access line\n got %q\nwant %q", got, want)
		}
	})
}

func BenchmarkAccessLine(b *testing.B) {
	a := access{at: time.Now(), level: slog.LevelInfo, method: []byte("POST"), route: "/webhooks/rest/webhook", path: []byte("/webhooks/rest/webhook"), status: 200, duration: 1234567, id: "0a1b2c3d4e5f0000000000000001", remote: net.ParseIP("127.0.0.1")}
	b.Run("own", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for range b.N {
			buf = appendAccessLine(buf[:0], &a)
		}
	})
	b.Run("slog", func(b *testing.B) {
		b.ReportAllocs()
		h := slog.NewTextHandler(discard{}, nil)
		for range b.N {
			r := slog.NewRecord(a.at, a.level, accessMsg, 0)
			r.AddAttrs(a.attrs()...)
			_ = h.Handle(context.Background(), r)
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
