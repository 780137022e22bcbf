// Package docscheck keeps a plugin's section of docs/plugins.md honest, for
// the plugins' tests: every configuration key of its manifest is
// documented (secrets marked **secret**), and every action.
package docscheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Check reads docs/plugins.md from the plugin's folder (two levels below
// the repository) and checks the section "### name" against the manifest's
// config schema, secrets (JSON pointers) and actions.
func Check(t *testing.T, name string, configSchema json.RawMessage, secrets, actions []string) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "plugins.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(doc), "\n### "+name+"\n")
	if !ok {
		_, sec, ok = strings.Cut(string(doc), "\n### "+name+" (")
	}
	if !ok {
		t.Fatalf("docs/plugins.md has no section ### %s", name)
	}
	if i := strings.Index(sec, "\n### "); i >= 0 {
		sec = sec[:i]
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(configSchema, &schema); err != nil {
		t.Fatal(err)
	}
	secret := map[string]bool{}
	for _, p := range secrets {
		secret[strings.TrimPrefix(p, "/")] = true
	}
	for k := range schema.Properties {
		line := ""
		for _, l := range strings.Split(sec, "\n") {
			if strings.Contains(l, "`"+k+"`") {
				line = l
				break
			}
		}
		switch {
		case line == "":
			t.Errorf("docs/plugins.md, ### %s: the configuration key %s is not documented", name, k)
		case secret[k] != strings.Contains(line, "**secret**"):
			t.Errorf("docs/plugins.md, ### %s: %s is secret: %v, but the docs say %q", name, k, secret[k], line)
		}
	}
	for _, a := range actions {
		if !strings.Contains(sec, "`"+a+"`") {
			t.Errorf("docs/plugins.md, ### %s: the action %s is not documented", name, a)
		}
	}
}
