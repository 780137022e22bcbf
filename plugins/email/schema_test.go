package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/switchboard-bots/switchboard/plugins/internal/mailx/mailxtest"
)

// TestConfigSchema: the manifest's schema compiles (draft 2020-12, formats
// asserted, as the runtime validates) and agrees with Configure on the
// configurations the tests use.
func TestConfigSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	if err := c.AddResource("email.json", bytes.NewReader(New().Manifest().ConfigSchema)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("email.json")
	if err != nil {
		t.Fatal(err)
	}
	imap := &mailxtest.IMAPServer{Host: "127.0.0.1", Port: 993}
	for _, cfg := range []string{webhookConfig("smtp.example.com", 587, "starttls"), imapConfig(imap), imapConfigTLS(imap, "tls")} {
		var v any
		if err := json.Unmarshal([]byte(cfg), &v); err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("%s: %v", cfg, err)
		}
	}
	var bad any
	_ = json.Unmarshal([]byte(`{"smtp_host": "h", "from_address": "not an address", "smtp_tls": "ssl"}`), &bad)
	if s.Validate(bad) == nil {
		t.Error("the schema accepts a bad configuration")
	}
}
