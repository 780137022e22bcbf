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
func TestActionThroughIntegration(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	pluginsDir := filepath.Join(dir, "plugins")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(pluginsDir, "webhook"), "./plugins/webhook")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the webhook plugin: %v\n%s", err, out)
	}
	const secret = "integration-secret-0123456789"
	var mu sync.Mutex
	var got []map[string]any
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		if r.Header.Get("X-Switchboard-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m map[string]any
		json.Unmarshal(body, &m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer receiver.Close()

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
	mu.Lock()
	if len(got) != 1 || got[0]["event"] != "signup" || got[0]["data"].(map[string]any)["said"] != "hello" {
		t.Fatalf("the receiver got %v", got)
	}
	mu.Unlock()
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
