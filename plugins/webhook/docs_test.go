package main

import (
	"testing"

	"github.com/switchboard-bots/switchboard/plugins/internal/docscheck"
)

// TestDocs keeps this plugin's section of docs/plugins.md honest: every
// configuration key and action of the manifest is documented, secrets as
// secrets.
func TestDocs(t *testing.T) {
	m := New().Manifest()
	var actions []string
	for _, a := range m.Actions {
		actions = append(actions, a.Name)
	}
	docscheck.Check(t, m.Name, m.ConfigSchema, m.Secrets, actions)
}
