package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// TestSchemas: the manifest's schemas compile (draft 2020-12, formats
// asserted, as the runtime validates) and accept what the tests send.
func TestSchemas(t *testing.T) {
	m := New().Manifest()
	for _, c := range []struct {
		name, schema string
		good         []string
		bad          []string
	}{
		{
			"config", string(m.ConfigSchema),
			[]string{configFor("smtp.example.com", 465, "tls")},
			[]string{`{"host": "h", "from": "x", "tls": "ssl"}`},
		},
		{
			"params", string(m.Actions[0].Params),
			[]string{
				`{"to": "a@example.net", "subject": "s", "body": "b"}`,
				`{"to": ["a@example.net", "b@example.net"], "subject": "s", "body": "b", "attachments": [{"url": "https://x.example/f.pdf", "name": "f.pdf"}]}`,
			},
			[]string{`{"to": "a@example.net", "body": "b"}`, `{"to": [], "subject": "s", "body": "b"}`},
		},
		{"result", string(m.Actions[0].Result), []string{`{"message_id": "<x@example.com>"}`}, []string{`{}`}},
	} {
		comp := jsonschema.NewCompiler()
		comp.Draft = jsonschema.Draft2020
		comp.AssertFormat = true
		if err := comp.AddResource(c.name+".json", bytes.NewReader([]byte(c.schema))); err != nil {
			t.Fatal(err)
		}
		s, err := comp.Compile(c.name + ".json")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, doc := range append(c.good, c.bad...) {
			var v any
			if err := json.Unmarshal([]byte(doc), &v); err != nil {
				t.Fatal(err)
			}
			err := s.Validate(v)
			if good := slices.Contains(c.good, doc); good != (err == nil) {
				t.Errorf("%s: %s: valid = %v, want %v (%v)", c.name, doc, err == nil, good, err)
			}
		}
	}
}
