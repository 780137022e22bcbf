package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startServer runs the real server with the example bots on a free
// loopback port and returns its base URL.
func startServer(t *testing.T) string {
	t.Helper()
	// The data folder is made first, so that it is removed after the
	// server stops (cleanups run last first).
	data := filepath.Join(t.TempDir(), "data")
	return startServerWith(t, serveConfig{Addr: "127.0.0.1:0", Data: data, Bots: filepath.Join("..", "..", "flows", "examples")})
}

// startServerWith runs the real server with cfg and returns its base URL.
func startServerWith(t *testing.T, cfg serveConfig) string {
	t.Helper()
	var out, errOut syncBuf
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, &out, &errOut, cfg)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Errorf("server did not stop:\n%s", tail(errOut.String(), 3000))
		}
	})
	re := regexp.MustCompile(`POST (http://[0-9.:]+)/webhooks`)
	for i := 0; i < 1000; i++ {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("server did not start:\n%s\n%s", out.String(), errOut.String())
	return ""
}

func runLoadCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(stdio{ctx: context.Background(), out: &out, err: &errOut}, append([]string{"load"}, args...))
	return code, out.String(), errOut.String()
}

// TestLoadAgainstServer drives the support bot through the whole script
// several times per user and checks every reply.
func TestLoadAgainstServer(t *testing.T) {
	base := startServer(t)
	code, out, errOut := runLoadCmd("--url", base, "--users", "50", "--conns", "4", "--messages", "600")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"messages:  600 in ", "messages/s", "p50 ", "p99 ", "errors:    0"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	// A duration bounds the run too. Enough users that none of them reaches
	// the server's per-sender rate limit, however fast the server is.
	start := time.Now()
	code, out, errOut = runLoadCmd("--url", base, "--users", "5000", "--conns", "2", "--duration", "300ms")
	if code != exitOK || time.Since(start) > 5*time.Second || !strings.Contains(out, "errors:    0") {
		t.Fatalf("exit %d after %s\n%s\n%s", code, time.Since(start), out, errOut)
	}
}

// TestLoadFailsOnMismatch: a bot that does not follow the script fails the
// run, with the first mismatch reported.
func TestLoadFailsOnMismatch(t *testing.T) {
	base := startServer(t)
	code, out, errOut := runLoadCmd("--url", base, "--bot", "shop", "--users", "5", "--conns", "2", "--messages", "50", "--max-errors", "3")
	if code != exitFail || !strings.Contains(errOut, "want \"Hi there! I'm Acme's assistant.\"") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !regexp.MustCompile(`errors:    [345]\n`).MatchString(out) {
		t.Fatalf("the run did not stop at --max-errors:\n%s", out)
	}
}

func TestLoadRefusesOtherHostsAndBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--url", "http://example.com:8080"},
		{"--url", "http://10.0.0.1:8080"},
		{"--url", "https://127.0.0.1:8080"},
		{"--users", "0"},
		{"--conns", "5000"},
		{"--duration", "1h"},
		{"--messages", "-1"},
	} {
		code, _, errOut := runLoadCmd(args...)
		if code != exitUsage || errOut == "" {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
	// Nothing listening: a clear error, no hang.
	code, _, errOut := runLoadCmd("--url", "http://127.0.0.1:1", "--timeout", "1s")
	if code != exitFail || !strings.Contains(errOut, "no server at") {
		t.Errorf("exit %d %s", code, errOut)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestLoadWithConsoles: agent consoles watch some users' conversations
// during the load and time the message events they get.
func TestLoadWithConsoles(t *testing.T) {
	t.Setenv("SWITCHBOARD_ADMIN_PASSWORD", "console load password")
	base := startServer(t)
	// 200 messages for 20 users: about 10 each, within the per-user rate
	// limit's burst of 30 however unevenly the workers share them.
	code, out, errOut := runLoadCmd("--url", base, "--bot", "support", "--users", "20", "--conns", "4", "--messages", "200",
		"--console", "5", "--admin-password", "console load password")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	m := regexp.MustCompile(`consoles:  5 sockets, (\d+) message events, send → console p50 [0-9.]+ms  p99 [0-9.]+ms`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Fatalf("no console figures:\n%s", out)
	}
	// 5 of 20 users are watched: about a quarter of the 200 messages
	// (workers share the messages unevenly).
	if n, _ := strconv.Atoi(m[1]); n < 20 || n > 90 {
		t.Fatalf("%d message events timed for 5 watched users of 20 over 200 messages:\n%s", n, out)
	}
	code, _, errOut = runLoadCmd("--url", base, "--bot", "support", "--users", "20", "--conns", "4", "--messages", "10",
		"--console", "2", "--admin-password", "wrong")
	if code != exitFail || !strings.Contains(errOut, "signing in for --console") {
		t.Fatalf("a wrong password: exit %d\n%s", code, errOut)
	}
}

// TestLoadHook drives a plugin channel's webhook (the example echo plugin,
// built here) and plays its provider: every message is stored and every
// reply comes back through the plugin.
func TestLoadHook(t *testing.T) {
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	build := exec.Command("go", "build", "-o", filepath.Join(plugins, "echo"), "../../plugins/examples/echo-channel")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the echo plugin: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink := l.Addr().String()
	l.Close()
	bots := filepath.Join(dir, "bots")
	os.MkdirAll(bots, 0o755)
	os.WriteFile(filepath.Join(bots, "relay.yaml"), []byte(`id: relay
channels:
  - {type: echo, name: e1, config: {url: "http://`+sink+`/send", token: "${ECHO_LOAD_TOKEN}"}}
skills:
  /start:
    - text: "got {{ message.text }}"
  /default:
    - text: "got {{ message.text }}"
`), 0o644)
	t.Setenv("ECHO_LOAD_TOKEN", "load-token")
	base := startServerWith(t, serveConfig{Addr: "127.0.0.1:0", Data: filepath.Join(dir, "data"), Bots: bots, Plugins: plugins})
	code, out, errOut := runLoadCmd("--url", base, "--hook", "/hooks/relay/e1", "--sink", sink, "--users", "20", "--conns", "4", "--messages", "200")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"messages:  200 in ", "provider:  200 replies delivered through the plugin", "errors:    0"} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in:\n%s", want, out)
		}
	}
	if code, _, errOut := runLoadCmd("--url", base, "--hook", "/webhooks/rest/webhook"); code != exitUsage || !strings.Contains(errOut, "--hook") {
		t.Fatalf("a hook path that is not /hooks/…: exit %d %s", code, errOut)
	}
}
