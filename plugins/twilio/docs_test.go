package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocs keeps this plugin's section of docs/plugins.md honest: every
// configuration key of the manifest is documented, secrets as secrets.
func TestDocs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "plugins.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := New().Manifest()
	_, sec, ok := strings.Cut(string(doc), "\n### "+m.Name+"\n")
	if !ok {
		_, sec, ok = strings.Cut(string(doc), "\n### "+m.Name+" (")
	}
	if !ok {
		t.Fatalf("docs/plugins.md has no section ### %s", m.Name)
	}
	if i := strings.Index(sec, "\n### "); i >= 0 {
		sec = sec[:i]
	}
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(m.ConfigSchema, &schema); err != nil {
		t.Fatal(err)
	}
	secret := map[string]bool{}
	for _, p := range m.Secrets {
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
			t.Errorf("docs/plugins.md, ### %s: the configuration key %s is not documented", m.Name, k)
		case secret[k] != strings.Contains(line, "**secret**"):
			t.Errorf("docs/plugins.md, ### %s: %s is secret: %v, but the docs say %q", m.Name, k, secret[k], line)
		}
	}
	for _, a := range m.Actions {
		if !strings.Contains(sec, "`"+a.Name+"`") {
			t.Errorf("docs/plugins.md, ### %s: the action %s is not documented", m.Name, a.Name)
		}
	}
}
