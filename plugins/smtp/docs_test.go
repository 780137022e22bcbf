package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

// TestDocsExample: the integrations-file example of docs/plugins.md's
// smtp section configures the plugin.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "plugins.md"))
	if err != nil {
		t.Fatal(err)
	}
	const first = "# smtp integration, in the integrations file (serve --integrations)\n"
	_, rest, ok := strings.Cut(string(doc), "```yaml\n"+first)
	if !ok {
		t.Fatal("docs/plugins.md has no smtp integration example")
	}
	block, _, _ := strings.Cut(rest, "```")
	var file map[string]map[string]any
	if err := yaml.Unmarshal([]byte(block), &file); err != nil {
		t.Fatal(err)
	}
	cfg, ok := file["smtp"]
	if !ok {
		t.Fatalf("the example configures %v, not smtp", file)
	}
	cfg["password"] = password
	raw, _ := json.Marshal(cfg)
	p := sdktest.Start(t, New())
	if err := p.ConfigureIntegration(raw); err != nil {
		t.Fatalf("the documented configuration: %v", err)
	}
}
