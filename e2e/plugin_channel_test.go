package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/runtime/pipeline"
)

// provider is a fake provider of the example echo channel: it takes the
// plugin's POSTs {"to","text"} and answers {"id"}, and serves the file
// photo at GET /send/files/photo to the token only.
type provider struct {
	mu    sync.Mutex
	got   map[string]int // "to|text" → times received
	auths []string
	next  int
}

// photo is the file the fake provider keeps: a PNG's first bytes.
const photo = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"

func (p *provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if id, ok := strings.CutPrefix(r.URL.Path, "/send/files/"); ok && r.Method == http.MethodGet {
		switch {
		case r.Header.Get("Authorization") != "Bearer secret-echo-token-123":
			http.Error(w, "who are you?", http.StatusUnauthorized)
		case id != "photo":
			http.NotFound(w, r)
		default:
			w.Header().Set("Content-Type", "image/png")
			io.WriteString(w, photo)
		}
		return
	}
	var m struct{ To, Text string }
	body, _ := io.ReadAll(r.Body)
	if json.Unmarshal(body, &m) != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.got[m.To+"|"+m.Text]++
	p.auths = append(p.auths, r.Header.Get("Authorization"))
	p.next++
	id := p.next
	p.mu.Unlock()
	fmt.Fprintf(w, `{"id": "p-%d"}`, id)
}

func (p *provider) times(to, text string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got[to+"|"+text]
}

// TestPluginChannel runs a bot on the example echo channel plugin through
// the real server: webhooks in, replies out through the outbox and the
// plugin to a provider on loopback; a duplicate delivery answered once; the
// plugin killed in the middle, restarted, and no reply lost.
func TestPluginChannel(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	pluginsDir := filepath.Join(dir, "plugins")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(pluginsDir, "echo"), "./plugins/examples/echo-channel")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the echo plugin: %v\n%s", err, out)
	}
	prov := &provider{got: map[string]int{}}
	ps := httptest.NewServer(prov)
	defer ps.Close()
	botsDir := filepath.Join(dir, "bots")
	os.MkdirAll(botsDir, 0o755)
	bot := fmt.Sprintf(`id: relay
channels:
  - type: echo
    name: e1
    config:
      url: %q
      token: "${ECHO_TOKEN}"
skills:
  /start:
    - text: "got {{ message.text }}"
  /default:
    - text: "got {{ message.text }}"
`, ps.URL+"/send")
	if err := os.WriteFile(filepath.Join(botsDir, "relay.yaml"), []byte(bot), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ECHO_TOKEN", "secret-echo-token-123")
	s := startServer(t, "--data", filepath.Join(dir, "data"), "--bots", botsDir, "--plugins", pluginsDir, "--ip-rate", "0")

	client := &http.Client{Timeout: 10 * time.Second}
	post := func(id, from, text string) int {
		t.Helper()
		body := fmt.Sprintf(`{"id": %q, "from": %q, "text": %q}`, id, from, text)
		resp, err := client.Post(s.base+"/hooks/relay/e1", "application/json", strings.NewReader(body))
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("after 20s: %s\nserver output:\n%s", what, s.out.tail())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	if code := post("m1", "u1", "hi"); code != 200 {
		t.Fatalf("webhook: %d\n%s", code, s.out.tail())
	}
	waitFor("the reply reaches the provider", func() bool { return prov.times("u1", "got hi") == 1 })
	prov.mu.Lock()
	auth := prov.auths[0]
	prov.mu.Unlock()
	if auth != "Bearer secret-echo-token-123" {
		t.Fatalf("the plugin's request carried %q: the ${ECHO_TOKEN} secret was not filled in", auth)
	}
	// A duplicate delivery is answered once.
	if code := post("m1", "u1", "hi"); code != 200 {
		t.Fatalf("duplicate webhook: %d", code)
	}
	if code := post("unknown", "u1", "x"); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	waitFor("the next reply", func() bool { return prov.times("u1", "got x") == 1 })
	if n := prov.times("u1", "got hi"); n != 1 {
		t.Fatalf("a duplicate delivery was answered again: %d replies", n)
	}
	checkAttachments(t, s)
	if strings.Contains(s.out.String(), "secret-echo-token-123") {
		t.Fatal("the channel's secret is in the server's output")
	}
	if code := func() int {
		resp, err := client.Post(s.base+"/hooks/relay/nope", "application/json", strings.NewReader("{}"))
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}(); code != 404 {
		t.Fatalf("an unknown channel: %d", code)
	}

	// Kill the plugin in the middle of a stream of messages: webhooks that
	// come while it is down are refused (503) and sent again, the replies
	// wait in the outbox, and none is lost.
	pid := pluginPID(t, s.cmd.Process.Pid, filepath.Join(pluginsDir, "echo"))
	const n = 20
	for i := range n {
		if i == n/2 {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
		id, text := "k"+strconv.Itoa(i), "msg "+strconv.Itoa(i)
		deadline := time.Now().Add(20 * time.Second)
		for post(id, "u2", text) != 200 {
			if time.Now().After(deadline) {
				t.Fatalf("message %d never taken after the plugin was killed:\n%s", i, s.out.tail())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("every reply of the stream reaches the provider", func() bool {
		for i := range n {
			if prov.times("u2", "got msg "+strconv.Itoa(i)) == 0 {
				return false
			}
		}
		return true
	})
	if newPID := pluginPID(t, s.cmd.Process.Pid, filepath.Join(pluginsDir, "echo")); newPID == pid {
		t.Fatal("the plugin was not restarted")
	}
}

// checkAttachments: a customer's image that came through the plugin
// channel, which only the channel's token opens, reaches the agent through
// the API (the plugin fetching it), at the proxy_url its message names.
func checkAttachments(t *testing.T, s *server) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(id, image string) {
		t.Helper()
		body := fmt.Sprintf(`{"id": %q, "from": "u3", "image": %q}`, id, image)
		resp, err := client.Post(s.base+"/hooks/relay/e1", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("webhook with an image: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	send("img1", "photo")
	send("img2", "lost")
	token := s.login(t)
	var page struct {
		Messages []struct {
			Seq       uint64
			Direction string
			Content   struct {
				Attachments []struct {
					URL      string
					ProxyURL string `json:"proxy_url"`
				}
			}
		}
	}
	s.do(t, token, http.MethodGet, "/api/v1/contacts/"+pipeline.ContactID("relay", "e1", "u3")+"/messages", "", &page)
	var proxies []string
	for _, m := range page.Messages {
		for _, a := range m.Content.Attachments {
			if m.Direction == "in" {
				proxies = append(proxies, a.ProxyURL)
			}
		}
	}
	if len(proxies) != 2 || !strings.HasPrefix(proxies[0], "/api/v1/contacts/") || proxies[1] == "" {
		t.Fatalf("the customer's attachments have proxy_url %q", proxies)
	}
	get := func(path, token string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get(proxies[0], token)
	if resp.StatusCode != 200 || body != photo || resp.Header.Get("Content-Type") != "image/png" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("the image: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	if resp, body := get(proxies[1], token); resp.StatusCode != 502 || !strings.Contains(body, "provider error 404") {
		t.Errorf("an image the provider no longer has: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(proxies[0], ""); resp.StatusCode != 401 {
		t.Errorf("the image without a token: %d", resp.StatusCode)
	}
}

// pluginPID finds the plugin process (path) among the children of parent.
func pluginPID(t *testing.T, parent int, path string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if err != nil {
				continue
			}
			// pid (comm) state ppid …
			fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
			if len(fields) < 2 || fields[1] != strconv.Itoa(parent) {
				continue
			}
			if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == path {
				return pid
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no plugin process %s under %d", path, parent)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
