package main

import (
	"testing"

	"github.com/switchboard-bots/switchboard/plugins/internal/docscheck"
)

// TestDocs keeps this plugin's section of docs/plugins.md honest: every
// configuration key of the manifest is documented, secrets as secrets.
func TestDocs(t *testing.T) {
	m := New().Manifest()
	docscheck.Check(t, m.Name, m.ConfigSchema, m.Secrets, nil)
}
