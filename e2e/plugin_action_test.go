package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestActionThroughIntegration: a bot's ACTION block calls the webhook
// integration plugin, configured from the integrations file with a secret
// from the environment; the receiver gets a correctly signed POST and the
// bot goes on with the result. The plugin and its action are listed by the
// API.
// buildPlugin builds the plugin at pkg into dir/plugins/name.
func buildPlugin(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	plugins := filepath.Join(dir, "plugins")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(plugins, name), pkg)
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the %s plugin: %v\n%s", name, err, out)
	}
	return plugins
}

// signedReceiver is a webhook receiver that keeps the JSON of every POST
// correctly signed with secret, and refuses the others.
type signedReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []map[string]any
}

func newSignedReceiver(t *testing.T, secret string) *signedReceiver {
	r := &signedReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		if req.Header.Get("X-Switchboard-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m map[string]any
		json.Unmarshal(body, &m)
		r.mu.Lock()
		r.got = append(r.got, m)
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *signedReceiver) events() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.got...)
}

func TestActionThroughIntegration(t *testing.T) {
	dir := t.TempDir()
	pluginsDir := buildPlugin(t, dir, "webhook", "./plugins/webhook")
	const secret = "integration-secret-0123456789"
	receiver := newSignedReceiver(t, secret)

	botsDir := filepath.Join(dir, "bots")
	os.MkdirAll(botsDir, 0o755)
	bot := `id: notifier
skills:
  /start:
    - action: webhook.post
      with:
        event: '"signup"'
        data: '{"said": message.text}'
      save: res
      save_error: why
      on_error: failed
    - text: "posted {{ res.status }}"
  failed:
    - text: "failed: {{ why }}"
`
	os.WriteFile(filepath.Join(botsDir, "notifier.yaml"), []byte(bot), 0o644)
	integrations := filepath.Join(dir, "integrations.yaml")
	os.WriteFile(integrations, []byte(fmt.Sprintf("webhook:\n  url: %q\n  secret: \"${WEBHOOK_SECRET}\"\n", receiver.URL+"/events")), 0o644)
	t.Setenv("WEBHOOK_SECRET", secret)
	s := startServer(t, "--data", filepath.Join(dir, "data"), "--bots", botsDir, "--plugins", pluginsDir, "--integrations", integrations)

	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(s.base+"/webhooks/rest/notifier/webhook", "application/json", strings.NewReader(`{"sender": "u1", "message": "hello"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"posted 202"`) {
		t.Fatalf("the bot's reply: %s\n%s", body, s.out.tail())
	}
	if got := receiver.events(); len(got) != 1 || got[0]["event"] != "signup" || got[0]["data"].(map[string]any)["said"] != "hello" {
		t.Fatalf("the receiver got %v", got)
	}
	if strings.Contains(s.out.String(), secret) {
		t.Fatal("the integration's secret is in the server's output")
	}

	token := s.login(t)
	var plugins struct {
		Plugins []struct {
			Name, Kind, Status string
			Actions            []struct{ Name string }
		}
	}
	s.do(t, token, "GET", "/api/v1/plugins", "", &plugins)
	if len(plugins.Plugins) != 1 || plugins.Plugins[0].Kind != "integration" || plugins.Plugins[0].Status != "running" ||
		len(plugins.Plugins[0].Actions) != 1 || plugins.Plugins[0].Actions[0].Name != "webhook.post" {
		t.Fatalf("GET /api/v1/plugins: %+v", plugins)
	}
	var catalogue struct{ Actions []struct{ Name string } }
	s.do(t, token, "GET", "/api/v1/blocks", "", &catalogue)
	if len(catalogue.Actions) != 1 || catalogue.Actions[0].Name != "webhook.post" {
		t.Fatalf("the block catalogue's actions: %+v", catalogue.Actions)
	}
}

// TestNotifyTargets: a TRIGGER's notification and the runtime's own
// handover_waiting reach the bot's notify target through the webhook
// integration.
func TestNotifyTargets(t *testing.T) {
	dir := t.TempDir()
	pluginsDir := buildPlugin(t, dir, "webhook", "./plugins/webhook")
	const secret = "notify-secret-0123456789abcdef"
	receiver := newSignedReceiver(t, secret)
	botsDir := filepath.Join(dir, "bots")
	os.MkdirAll(botsDir, 0o755)
	os.WriteFile(filepath.Join(botsDir, "desk.yaml"), []byte(`id: desk
notify:
  - on: [new_lead, handover_waiting]
    webhook: true
skills:
  /start:
    - trigger: new_lead
      with: {said: message.text}
    - live_chat: sales
`), 0o644)
	integrations := filepath.Join(dir, "integrations.yaml")
	os.WriteFile(integrations, []byte(fmt.Sprintf("webhook:\n  url: %q\n  secret: %q\n", receiver.URL, secret)), 0o644)
	s := startServer(t, "--data", filepath.Join(dir, "data"), "--bots", botsDir, "--plugins", pluginsDir, "--integrations", integrations)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Post(s.base+"/webhooks/rest/desk/webhook", "application/json", strings.NewReader(`{"sender": "u1", "message": "I want a quote"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		names := map[string]map[string]any{}
		for _, e := range receiver.events() {
			names[fmt.Sprint(e["event"])] = e
		}
		lead, waiting := names["new_lead"], names["handover_waiting"]
		if lead != nil && waiting != nil {
			if d := lead["data"].(map[string]any); d["bot"] != "desk" || d["data"].(map[string]any)["said"] != "I want a quote" {
				t.Fatalf("new_lead: %v", lead)
			}
			if d := waiting["data"].(map[string]any)["data"].(map[string]any); d["queue"] != "sales" || d["reason"] != "no agent is online" {
				t.Fatalf("handover_waiting: %v", waiting)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s the receiver got %v\n%s", receiver.events(), s.out.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
