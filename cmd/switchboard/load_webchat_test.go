package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLoadWebchat drives the support bot over web chat sockets through the
// whole script several times per visitor and checks every reply.
func TestLoadWebchat(t *testing.T) {
	base := startServer(t)
	code, out, errOut := runLoadCmd("--webchat", "--url", base, "--sockets", "20", "--messages", "200")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"load: ws://127.0.0.1:", "/webchat/socket, bot support, 20 sockets", "messages:  200 in ", "(20 sockets)", "messages/s", "p50 ", "p99 ",
		"sockets:   20 open, 0 connect failures, 20 closed cleanly", "errors:    0"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	// A duration bounds the run too, and the sockets close cleanly.
	start := time.Now()
	code, out, errOut = runLoadCmd("--webchat", "--url", base, "--sockets", "5", "--duration", "300ms")
	if code != exitOK || time.Since(start) > 5*time.Second || !strings.Contains(out, "errors:    0") {
		t.Fatalf("exit %d after %s\n%s\n%s", code, time.Since(start), out, errOut)
	}
}

// TestLoadWebchatFailsOnMismatch: a bot that does not follow the script
// fails the run, with the first mismatch reported, and stops at
// --max-errors; a bot that is not there fails every connect.
func TestLoadWebchatFailsOnMismatch(t *testing.T) {
	base := startServer(t)
	code, out, errOut := runLoadCmd("--webchat", "--url", base, "--bot", "shop", "--sockets", "4", "--messages", "50", "--max-errors", "3", "--timeout", "5s")
	if code != exitFail || !strings.Contains(errOut, "want \"Hi there! I'm Acme's assistant.\"") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !regexp.MustCompile(`errors:    [3-6]\n`).MatchString(out) || !strings.Contains(out, "messages:  0 in ") {
		t.Fatalf("the run did not stop at --max-errors:\n%s", out)
	}
	code, out, errOut = runLoadCmd("--webchat", "--url", base, "--bot", "nosuch", "--sockets", "3", "--messages", "10", "--timeout", "5s")
	if code != exitFail || !strings.Contains(out, "sockets:   0 open, 3 connect failures, 0 closed cleanly") || !strings.Contains(errOut, "unknown_bot") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestLoadWebchatRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--webchat", "--url", "http://10.0.0.1:8080"},
		{"--webchat", "--url", "ws://127.0.0.1:8080"},
		{"--webchat", "--users", "5"},
		{"--webchat", "--conns", "5"},
		{"--sockets", "5"},
		{"--webchat", "--sockets", "0"},
		{"--webchat", "--sockets", "1000000"},
		{"--webchat", "--bot", ""},
	} {
		code, _, errOut := runLoadCmd(args...)
		if code != exitUsage || errOut == "" {
			t.Errorf("%v: exit %d %s", args, code, errOut)
		}
	}
	// Nothing listening: a clear error, no hang.
	code, _, errOut := runLoadCmd("--webchat", "--url", "http://127.0.0.1:1", "--timeout", "1s")
	if code != exitFail || !strings.Contains(errOut, "no server at") {
		t.Errorf("exit %d %s", code, errOut)
	}
}
