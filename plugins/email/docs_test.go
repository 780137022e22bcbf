package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

// docBlock returns the first fenced block of lang in docs/plugins.md's
// section heading whose first line is first ("" for any).
func docBlock(t *testing.T, heading, lang, first string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "plugins.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(doc), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("docs/plugins.md has no %q", heading)
	}
	if i := strings.Index(sec, "\n### "); i >= 0 {
		sec = sec[:i]
	}
	for _, b := range strings.Split(sec, "```"+lang+"\n")[1:] {
		code, _, _ := strings.Cut(b, "```")
		if first == "" || strings.HasPrefix(code, first+"\n") {
			return code
		}
	}
	t.Fatalf("docs/plugins.md, %s: no %s block starting %q", heading, lang, first)
	return ""
}

// TestDocsExamples runs the examples of the email section: the bot-file
// configuration is accepted and the webhook body makes one message.
func TestDocsExamples(t *testing.T) {
	var bot struct {
		Channels []struct {
			Type   string         `yaml:"type"`
			Config map[string]any `yaml:"config"`
		} `yaml:"channels"`
	}
	if err := yaml.Unmarshal([]byte(docBlock(t, "### email", "yaml", "# email channel, webhook inbound")), &bot); err != nil {
		t.Fatal(err)
	}
	if len(bot.Channels) != 1 || bot.Channels[0].Type != "email" {
		t.Fatalf("channels: %+v", bot.Channels)
	}
	cfg := bot.Channels[0].Config
	cfg["smtp_password"], cfg["webhook_secret"] = smtpPassword, webhookSecret
	raw, _ := json.Marshal(cfg)
	p := sdktest.Start(t, New())
	if err := p.Configure("mail-support", raw); err != nil {
		t.Fatalf("the documented configuration: %v", err)
	}
	body := docBlock(t, "### email", "json", "")
	res, err := p.HandleWebhook("mail-support", &sdk.WebhookRequest{
		Method: "POST", Path: "/hooks/support/mail-support", Body: []byte(body),
		Header: http.Header{"X-Switchboard-Secret": {webhookSecret}},
	})
	if err != nil || res.Status != 200 || len(res.Messages) != 1 {
		t.Fatalf("the documented webhook body: %v %+v", err, res)
	}
	if m := res.Messages[0]; m.Content.Text != "Yes, please send it." || m.Sender != "alice@example.org" || m.ID != "<CAB-2@mail.example.org>" {
		t.Errorf("message: %+v", m)
	}
}
