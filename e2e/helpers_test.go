// Package e2e holds end-to-end tests: they build the real switchboard
// binary, run `switchboard serve` as a separate process on a loopback
// port, and talk to it over HTTP (and, in browser_test.go, through a real
// browser).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// adminPassword is the admin's password in every server these tests start
// (SWITCHBOARD_ADMIN_PASSWORD).
const adminPassword = "e2e-admin-password-1234"

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// repoRoot is the module root: the parent of this file's folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the e2e folder")
	}
	return filepath.Dir(filepath.Dir(file))
}

// binary builds ./cmd/switchboard once per test run and returns its path.
// SWITCHBOARD_E2E_BIN, when set, names a binary to test instead.
func binary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SWITCHBOARD_E2E_BIN"); bin != "" {
		return bin
	}
	root := repoRoot(t)
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "switchboard-e2e-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(binDir, "switchboard")
		// The binary as shipped, built with the compiler's profile
		// (cmd/switchboard/default.pgo): on a cold build cache that
		// compiles every dependency again, beside the other tests.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", builtBin, "./cmd/switchboard")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// syncBuffer collects a process's output for failure messages.
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

// tail is the end of the output, enough to see why something failed.
func (s *syncBuffer) tail() string {
	out := s.String()
	if len(out) > 4000 {
		out = "…" + out[len(out)-4000:]
	}
	return out
}

// server is one running `switchboard serve` process.
type server struct {
	cmd    *exec.Cmd
	base   string
	out    *syncBuffer
	done   chan struct{}
	waitEr error
}

// startServer runs `switchboard serve` with args plus --addr on a free
// loopback port, and waits until /healthz answers. The process is killed
// at the end of the test whatever happens.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	bin := binary(t)
	addr := freeAddr(t)
	s := &server{base: "http://" + addr, out: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	s.cmd.Dir = repoRoot(t)
	s.cmd.Env = append(os.Environ(), "SWITCHBOARD_ADMIN_PASSWORD="+adminPassword)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.waitEr = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("server %s output:\n%s", s.base, s.out.tail())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("switchboard serve exited before it was ready (%v):\n%s", s.waitEr, s.out.tail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("switchboard serve not ready on %s within 20s:\n%s", s.base, s.out.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits (bounded) for the process to be gone.
func (s *server) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
}

// login signs in as the admin and returns a bearer token.
func (s *server) login(t *testing.T) string {
	t.Helper()
	body := fmt.Sprintf(`{"email":"admin@localhost","password":%q}`, adminPassword)
	var out struct {
		Token string `json:"token"`
	}
	s.do(t, "", http.MethodPost, "/api/v1/auth/login", body, &out)
	if out.Token == "" {
		t.Fatal("sign-in returned no token")
	}
	return out.Token
}

// do makes one request, fails the test unless it answers 200, and decodes
// the JSON answer into out.
func (s *server) do(t *testing.T, token, method, path, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, b, err)
		}
	}
}
