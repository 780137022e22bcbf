package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuf is a buffer the server writes while the test reads.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startServe runs serve until ctx ends and returns its base URL, once it
// printed it, and where serve's result arrives.
func startServe(t *testing.T, ctx context.Context, out, errOut *syncBuf, cfg serveConfig) (string, <-chan error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, out, errOut, cfg) }()
	re := regexp.MustCompile(`POST (http://[0-9.:]+)/webhooks`)
	for range 500 {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], done
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("server did not start:\n%s\n%s", out.String(), errOut.String())
	return "", nil
}

// TestServe starts the server on a free loopback port with a folder holding
// a good bot, a broken one and a test file, talks to it over REST, and
// stops it.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "good.yaml"), []byte("id: good\nskills:\n  /start:\n    - text: Hello from good\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("id: broken\nskills:\n  /start:\n    - txet: oops\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "good.test.yaml"), []byte("bot: good.yaml\ntests: []\n"), 0o644)
	var out, errOut syncBuf
	ctx, cancel := context.WithCancel(context.Background())
	base, done := startServe(t, ctx, &out, &errOut, serveConfig{Addr: "127.0.0.1:0", Data: filepath.Join(dir, "data"), Bots: dir, Plugins: filepath.Join(dir, "plugins")})
	// A newcomer without plugins is told how to get them.
	if !strings.Contains(out.String(), "plugins:       none in "+filepath.Join(dir, "plugins")+"  (make plugins") {
		t.Fatalf("no word on plugins:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "broken.yaml:4:7: unknown block type \"txet\"") || !strings.Contains(errOut.String(), "broken.yaml: skipped") {
		t.Fatalf("broken bot not reported:\n%s", errOut.String())
	}
	resp, err := http.Post(base+"/webhooks/rest/webhook", "application/json", strings.NewReader(`{"sender":"u","message":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Hello from good") {
		t.Fatalf("reply: %s", body)
	}
	// The empty data folder got an admin account whose one-time password
	// was printed once; it signs in to the API.
	m := regexp.MustCompile(`admin account: (\S+)  one-time password: (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no admin password printed:\n%s", out.String())
	}
	resp, err = http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, m[1], m[2])))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if resp.StatusCode != 200 || login.Token == "" {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/bots", nil)
	req.Header.Set("Authorization", "Bearer "+login.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"good"`) {
		t.Fatalf("bots: %d %s", resp.StatusCode, body)
	}

	// The web chat demo page of the bot is served, with the widget.
	resp, err = http.Get(base + "/webchat/demo?bot=good")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "/webchat/widget.js") {
		t.Fatalf("demo page: %d %s", resp.StatusCode, body)
	}

	// An edit of the bot file is picked up while the server runs.
	later := time.Now().Add(time.Minute)
	path := filepath.Join(dir, "good.yaml")
	os.WriteFile(path, []byte("id: good\nskills:\n  /start:\n    - text: Hello again\n"), 0o644)
	os.Chtimes(path, later, later)
	reloaded := false
	for i := 0; i < 100 && !reloaded; i++ {
		time.Sleep(50 * time.Millisecond)
		resp, err := http.Post(base+"/webhooks/rest/webhook", "application/json", strings.NewReader(fmt.Sprintf(`{"sender":"u%d","message":"hi"}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		reloaded = strings.Contains(string(body), "Hello again")
	}
	if !reloaded {
		t.Fatal("the edited bot was not reloaded")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestServeStopsWhenTheStoreCannotFlush: a store that cannot write its
// memtable out (here its folder is gone) does not hold the stop past its
// deadline, and serve says so.
func TestServeStopsWhenTheStoreCannotFlush(t *testing.T) {
	defer func(d time.Duration) { shutdownTimeout = d }(shutdownTimeout)
	shutdownTimeout = 2 * time.Second
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "good.yaml"), []byte("id: good\nskills:\n  /start:\n    - text: Hello from good\n"), 0o644)
	data := filepath.Join(dir, "data")
	var out, errOut syncBuf
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, done := startServe(t, ctx, &out, &errOut, serveConfig{Addr: "127.0.0.1:0", Data: data, Bots: dir})
	resp, err := http.Post(base+"/webhooks/rest/webhook", "application/json", strings.NewReader(`{"sender":"u","message":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "closing the store in "+data) || !strings.Contains(err.Error(), "did not finish in time") {
			t.Fatalf("serve returned %v, want the store's close reported", err)
		}
		t.Logf("stopped after %s: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(shutdownTimeout + 10*time.Second):
		t.Fatal("serve did not stop: the store's close held it")
	}
}

func TestServeErrors(t *testing.T) {
	dir := t.TempDir()
	if err := serve(context.Background(), io.Discard, io.Discard, serveConfig{Addr: "127.0.0.1:0", Data: filepath.Join(dir, "d"), Bots: filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "bots folder") {
		t.Fatalf("missing folder: %v", err)
	}
	if err := serve(context.Background(), io.Discard, io.Discard, serveConfig{Addr: "127.0.0.1:0", Data: filepath.Join(dir, "d"), Bots: dir}); err == nil || !strings.Contains(err.Error(), "no bot") {
		t.Fatalf("empty folder: %v", err)
	}
}

// resolveWith resolves serve's settings from the config file conf, the one
// environment variable env set to val, and the flags.
func resolveWith(t *testing.T, conf, env, val string, flags ...string) (serveConfig, error) {
	t.Helper()
	fs := newFlags(stdio{out: io.Discard, err: io.Discard}, "serve")
	serveFlags(fs)
	if err := fs.Parse(flags); err != nil {
		t.Fatal(err)
	}
	return resolveServeConfig(fs, conf, func(k string) string {
		if k == env {
			return val
		}
		return ""
	})
}

// TestServeSettingsPrecedence: flag, then environment, then config file,
// then default.
func TestServeSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "switchboard.yaml")
	os.WriteFile(conf, []byte("addr: 127.0.0.1:7000\ndata: /from/file\nbots: /bots/file\nwebchat_rate: 50\n"), 0o644)
	env := map[string]string{"SWITCHBOARD_DATA": "/from/env", "SWITCHBOARD_BOTS": "/bots/env"}
	fs := newFlags(stdio{out: io.Discard, err: io.Discard}, "serve")
	serveFlags(fs)
	if err := fs.Parse([]string{"--bots", "/bots/flag"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := resolveServeConfig(fs, conf, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := serveConfig{Addr: "127.0.0.1:7000", Data: "/from/env", Bots: "/bots/flag", DefaultBot: "", IPRate: 1000, WebchatRate: 50}
	if cfg.Addr != want.Addr || cfg.Data != want.Data || cfg.Bots != want.Bots || cfg.DefaultBot != want.DefaultBot || cfg.IPRate != want.IPRate || cfg.WebchatRate != want.WebchatRate {
		t.Fatalf("got %+v, want %+v", cfg, want)
	}
	// The web chat rate: 5 by default, 0 (no limit) from the environment,
	// and not a negative number.
	for _, c := range []struct {
		env  string
		want float64
		bad  bool
	}{{"", 5, false}, {"0", 0, false}, {"12.5", 12.5, false}, {"-1", 0, true}, {"fast", 0, true}} {
		cfg, err := resolveServeConfig(fs, "", func(k string) string {
			if k == "SWITCHBOARD_WEBCHAT_RATE" {
				return c.env
			}
			return ""
		})
		if c.bad != (err != nil) || err == nil && cfg.WebchatRate != c.want || err != nil && !strings.Contains(err.Error(), "web chat rate") {
			t.Errorf("SWITCHBOARD_WEBCHAT_RATE=%q: %v, %v", c.env, cfg.WebchatRate, err)
		}
	}
	// sync_writes: off by default, on from the config file, off again
	// from the environment, and on from the flag over both.
	os.WriteFile(conf, []byte("sync_writes: true\n"), 0o644)
	for _, c := range []struct {
		env   string
		flags []string
		want  bool
	}{{"", nil, true}, {"false", nil, false}, {"false", []string{"--sync-writes"}, true}} {
		cfg, err := resolveWith(t, conf, "SWITCHBOARD_SYNC_WRITES", c.env, c.flags...)
		if err != nil || cfg.SyncWrites != c.want {
			t.Errorf("sync_writes in the file, env %q, flags %v: %v, %v; want %v", c.env, c.flags, cfg.SyncWrites, err, c.want)
		}
	}
	if cfg, err := resolveServeConfig(fs, "", func(string) string { return "" }); err != nil || cfg.SyncWrites {
		t.Errorf("sync writes by default: %v %v", cfg.SyncWrites, err)
	}
	if _, err := resolveServeConfig(fs, "", func(k string) string {
		if k == "SWITCHBOARD_SYNC_WRITES" {
			return "always"
		}
		return ""
	}); err == nil || !strings.Contains(err.Error(), `sync writes "always" is not true or false`) {
		t.Errorf("a bad sync_writes: %v", err)
	}
	os.WriteFile(conf, []byte("adress: x\n"), 0o644)
	if _, err := resolveServeConfig(fs, conf, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "switchboard.yaml:1:1: unknown setting \"adress\"") {
		t.Fatalf("bad key: %v", err)
	}
}

func TestPprofOnlyOnLoopback(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, addr := range []string{"0.0.0.0:0", "example.com:6060", "nonsense"} {
		if err := servePprof(context.Background(), addr, log); err == nil {
			t.Errorf("%s accepted", addr)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := servePprof(ctx, "127.0.0.1:0", log); err != nil {
		t.Fatal(err)
	}
}
