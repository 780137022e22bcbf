package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/server"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

const botSrc = `
id: shop
skills:
  /start:
    - text: "Hi! What can I do?"
      buttons: [{title: Track my order, goto: track}, {title: Site, url: "https://example.com"}]
      quick_replies: [{title: Human, goto: /_start_live_chat}]
  track:
    - image: https://example.com/box.png
      caption: Your box
    - text: "Which order?"
    - listen: order
    - text: "Order {{ order }} ships today."
`

// serve runs a server with the shop bot on a loopback port and returns its
// base URL.
func serve(t *testing.T) string {
	t.Helper()
	return serveWith(t, func(*server.Config) {})
}

// serveWith is serve with the configuration adjusted by edit.
func serveWith(t *testing.T, edit func(*server.Config)) string {
	t.Helper()
	st, err := store.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	bot, ds := flows.Load("shop.yaml", []byte(botSrc))
	if bot == nil {
		t.Fatal(ds)
	}
	p := pipeline.New(pipeline.Config{Store: st, Engine: engine.New(nil), Shards: 4})
	p.SetBots(map[string]*flows.Bot{"shop": bot})
	p.Start()
	cfg := server.Config{Pipeline: p, MaxBodySize: 4096}
	edit(&cfg)
	srv := server.New(cfg, func() []string { return []string{"shop"} })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		p.Close(ctx)
		st.Close()
	})
	return "http://" + l.Addr().String()
}

var client = &http.Client{Timeout: 10 * time.Second}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRestChannelSpeaksRasa: the answer has Rasa's REST output shape, and
// a button's payload sent back as the message taps it.
func TestRestChannelSpeaksRasa(t *testing.T) {
	base := serve(t)
	code, body := post(t, base+"/webhooks/rest/webhook", `{"sender": "u1", "message": "hi"}`)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var replies []map[string]any
	if err := json.Unmarshal([]byte(body), &replies); err != nil {
		t.Fatal(err)
	}
	want := `[{"recipient_id":"u1","text":"Hi! What can I do?","buttons":[{"title":"Track my order","payload":"track"},{"title":"Site","url":"https://example.com"},{"title":"Human","payload":"/_start_live_chat"}]}]`
	if strings.TrimSpace(body) != want {
		t.Fatalf("got  %s\nwant %s", body, want)
	}
	_, body = post(t, base+"/webhooks/rest/shop/webhook", `{"sender": "u1", "message": "track"}`)
	want = `[{"recipient_id":"u1","text":"Your box","image":"https://example.com/box.png"},{"recipient_id":"u1","text":"Which order?"}]`
	if strings.TrimSpace(body) != want {
		t.Fatalf("got  %s\nwant %s", body, want)
	}
	_, body = post(t, base+"/webhooks/rest/webhook", `{"sender": "u1", "message": "12345", "metadata": {"x": 1}}`)
	if !strings.Contains(body, `"text":"Order 12345 ships today."`) {
		t.Fatalf("got %s", body)
	}
	// A client reads the answer as JSON, fresh every time.
	resp, err := client.Post(base+"/webhooks/rest/webhook", "application/json", strings.NewReader(`{"sender": "u2", "message": "hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
		t.Fatalf("Content-Type %q, Cache-Control %q; want application/json, no-store", ct, cc)
	}
}

// TestRestChannelTextIsData: what the user types is returned as text, never
// interpreted (the widget escapes it when it renders).
func TestRestChannelTextIsData(t *testing.T) {
	base := serve(t)
	post(t, base+"/webhooks/rest/webhook", `{"sender": "u2", "message": "hi"}`)
	post(t, base+"/webhooks/rest/webhook", `{"sender": "u2", "message": "track"}`)
	_, body := post(t, base+"/webhooks/rest/webhook", `{"sender": "u2", "message": "<script>alert(1)</script>"}`)
	var replies []struct{ Text string }
	if err := json.Unmarshal([]byte(body), &replies); err != nil || len(replies) != 1 || replies[0].Text != "Order <script>alert(1)</script> ships today." {
		t.Fatalf("got %s", body)
	}
}

func TestRestChannelErrors(t *testing.T) {
	base := serve(t)
	for _, c := range []struct {
		url, body string
		status    int
		code      string
	}{
		{"/webhooks/rest/webhook", `{"sender": "u1"`, 400, "invalid_json"},
		{"/webhooks/rest/webhook", `{"message": "hi"}`, 400, "missing_sender"},
		{"/webhooks/rest/webhook", `{"sender": "u1"}`, 400, "missing_message"},
		{"/webhooks/rest/nobot/webhook", `{"sender": "u1", "message": "hi"}`, 404, "unknown_bot"},
		{"/webhooks/rest/webhook", `{"sender": "u1", "message": "` + strings.Repeat("x", 5000) + `"}`, 413, "body_too_large"},
		{"/nowhere", `{}`, 404, "not_found"},
	} {
		status, body := post(t, base+c.url, c.body)
		var e struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || status != c.status || e.Error.Code != c.code || e.Error.Message == "" {
			t.Errorf("%s %.40s: %d %s; want %d %s", c.url, c.body, status, body, c.status, c.code)
		}
	}
}

func TestHealth(t *testing.T) {
	base := serve(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
}

// TestHealthFailing: once Health reports a failure (the store takes no
// more writes), the probes answer 503 with it, so that a supervisor
// restarts the process.
func TestHealthFailing(t *testing.T) {
	failure := errors.New("store: writes stopped: restart the server")
	base := serveWith(t, func(c *server.Config) { c.Health = func() error { return failure } })
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || !strings.Contains(string(body), `"code":"unhealthy"`) || !strings.Contains(string(body), "restart the server") {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}
