package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-bots/switchboard/runtime/metrics"
	"github.com/switchboard-bots/switchboard/runtime/server"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func do(t *testing.T, method, url string, header map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func errorCode(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not an error body: %s", body)
	}
	return e.Error.Code
}

func TestRequestIDAndAccessLog(t *testing.T) {
	var logs syncBuffer
	base := serveWith(t, func(c *server.Config) {
		c.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	resp, _ := do(t, "POST", base+"/webhooks/rest/shop/webhook", map[string]string{"X-Request-Id": "abc-123"}, `{"sender": "u1", "message": "hi"}`)
	if got := resp.Header.Get("X-Request-Id"); got != "abc-123" {
		t.Fatalf("echoed id %q", got)
	}
	resp, _ = do(t, "GET", base+"/healthz", nil, "")
	gen := resp.Header.Get("X-Request-Id")
	if !regexp.MustCompile(`^[0-9a-f]{28}$`).MatchString(gen) {
		t.Fatalf("generated id %q: want the process's 12 hex digits and a 16-digit counter", gen)
	}
	// A header that could forge log lines is replaced.
	resp, _ = do(t, "GET", base+"/healthz", map[string]string{"X-Request-Id": "a b"}, "")
	if id := resp.Header.Get("X-Request-Id"); id == "a b" || id == gen || id == "" {
		t.Fatalf("id %q", id)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "http request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d access log lines:\n%s", len(lines), logs.String())
	}
	first := lines[0]
	for k, v := range map[string]any{"method": "POST", "route": "/webhooks/rest/{bot}/webhook", "status": 200.0, "request_id": "abc-123", "level": "INFO"} {
		if first[k] != v {
			t.Errorf("log %s = %v, want %v", k, first[k], v)
		}
	}
	if _, ok := first["duration"]; !ok {
		t.Errorf("no duration in %v", first)
	}
	if lines[1]["request_id"] != gen {
		t.Errorf("log id %v, header id %s", lines[1]["request_id"], gen)
	}
}

// TestAccessLogWrittenDirectly: with the handler's writer, the access log
// writes its lines itself, in the text handler's format, at the level the
// handler lets through.
func TestAccessLogWrittenDirectly(t *testing.T) {
	var logs syncBuffer
	base := serveWith(t, func(c *server.Config) {
		c.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		c.AccessLog = &logs
	})
	do(t, "GET", base+"/healthz", map[string]string{"X-Request-Id": "quiet"}, "")
	do(t, "GET", base+"/nowhere", map[string]string{"X-Request-Id": "loud"}, "")
	if strings.Contains(logs.String(), "quiet") || strings.Contains(logs.String(), "loud") {
		t.Fatalf("access lines below the handler's level:\n%s", logs.String())
	}
	var all syncBuffer
	base = serveWith(t, func(c *server.Config) {
		c.Log = slog.New(slog.NewTextHandler(&all, nil))
		c.AccessLog = &all
	})
	do(t, "POST", base+"/webhooks/rest/shop/webhook", map[string]string{"X-Request-Id": "abc-123"}, `{"sender": "u1", "message": "hi"}`)
	line := regexp.MustCompile(`(?m)^time=\S+ level=INFO msg="http request" method=POST route=/webhooks/rest/\{bot\}/webhook path=/webhooks/rest/shop/webhook status=200 duration=\S+ request_id=abc-123 remote=127\.0\.0\.1$`)
	if !line.MatchString(all.String()) {
		t.Fatalf("no access line in:\n%s", all.String())
	}
}

func TestMetricsEndpoint(t *testing.T) {
	m := metrics.NewRuntime()
	base := serveWith(t, func(c *server.Config) { c.Metrics = m })
	post(t, base+"/webhooks/rest/webhook", `{"sender": "u1", "message": "hi"}`)
	post(t, base+"/webhooks/rest/webhook", `{"sender": "u1"}`)
	post(t, base+"/nowhere/at/all", `{}`)
	resp, body := do(t, "GET", base+"/metrics", nil, "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`switchboard_http_requests_total{route="/webhooks/rest/webhook",status="200"} 1`,
		`switchboard_http_requests_total{route="/webhooks/rest/webhook",status="400"} 1`,
		`switchboard_http_requests_total{route="unmatched",status="404"} 1`,
		`switchboard_http_request_duration_seconds_count{route="/webhooks/rest/webhook"} 2`,
		"# TYPE switchboard_open_sockets gauge",
		"# TYPE switchboard_outbox_depth gauge",
		"# TYPE switchboard_timer_lag_seconds histogram",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
}

func TestPerIPRateLimit(t *testing.T) {
	m := metrics.NewRuntime()
	base := serveWith(t, func(c *server.Config) {
		c.Metrics = m
		c.IPRateLimit = server.RateLimit{PerSecond: 0.1, Burst: 3}
	})
	for i := 0; i < 3; i++ {
		if code, body := post(t, base+"/webhooks/rest/webhook", `{"sender": "u`+strconv.Itoa(i)+`", "message": "hi"}`); code != 200 {
			t.Fatalf("request %d: %d %s", i, code, body)
		}
	}
	resp, body := do(t, "POST", base+"/webhooks/rest/webhook", nil, `{"sender": "u9", "message": "hi"}`)
	if resp.StatusCode != 429 || errorCode(t, body) != "rate_limited" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 10 {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	// Probes are never limited.
	if resp, _ := do(t, "GET", base+"/healthz", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	if m.RateLimited.With("ip").Value() != 1 {
		t.Fatalf("rate limited count %d", m.RateLimited.With("ip").Value())
	}
}

func TestPerContactRateLimit(t *testing.T) {
	base := serveWith(t, func(c *server.Config) {
		c.ContactRateLimit = server.RateLimit{PerSecond: 0.1, Burst: 2}
	})
	post(t, base+"/webhooks/rest/webhook", `{"sender": "a", "message": "hi"}`)
	post(t, base+"/webhooks/rest/webhook", `{"sender": "a", "message": "track"}`)
	resp, body := do(t, "POST", base+"/webhooks/rest/webhook", nil, `{"sender": "a", "message": "12345"}`)
	if resp.StatusCode != 429 || errorCode(t, body) != "rate_limited" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `"limit":"contact"`) {
		t.Fatalf("details: %s", body)
	}
	// Another sender is not affected.
	if code, body := post(t, base+"/webhooks/rest/webhook", `{"sender": "b", "message": "hi"}`); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
}

func TestCORSAllowList(t *testing.T) {
	base := serveWith(t, func(c *server.Config) {
		c.AllowedOrigins = []string{"https://shop.example.com"}
	})
	const good, bad = "https://shop.example.com", "https://evil.example.com"
	resp, _ := do(t, "POST", base+"/webhooks/rest/webhook", map[string]string{"Origin": good}, `{"sender": "u1", "message": "hi"}`)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != good || !strings.Contains(resp.Header.Get("Vary"), "Origin") {
		t.Fatalf("allowed origin: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = do(t, "POST", base+"/webhooks/rest/webhook", map[string]string{"Origin": bad}, `{"sender": "u1", "message": "hi"}`)
	for k := range resp.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Fatalf("disallowed origin got %s", k)
		}
	}
	pre := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
	pre["Origin"] = good
	resp, _ = do(t, "OPTIONS", base+"/webhooks/rest/webhook", pre, "")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != good ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") ||
		resp.Header.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	pre["Origin"] = bad
	resp, body := do(t, "OPTIONS", base+"/webhooks/rest/webhook", pre, "")
	if resp.StatusCode != 403 || errorCode(t, body) != "origin_not_allowed" {
		t.Fatalf("disallowed preflight: %d %s", resp.StatusCode, body)
	}
	for k := range resp.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Fatalf("disallowed preflight got %s", k)
		}
	}
}
