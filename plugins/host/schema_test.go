package host

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

func mustCompile(t *testing.T, config string, actions ...sdk.Action) *schemas {
	t.Helper()
	s, err := compileSchemas(nil, json.RawMessage(config), actions)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// secret is a configuration value that no error may repeat, whatever the
// schema says of it.
const secret = "Sup3r-Secret-Value-4242"

// TestConfigErrorsNameTheFieldNeverTheValue: every keyword's complaint
// names the field (a JSON pointer, as sdk.ConfigError does) and the
// problem, in the schema's terms, and never repeats the value, even where
// the validator's own message would (format, minimum, multipleOf).
func TestConfigErrorsNameTheFieldNeverTheValue(t *testing.T) {
	for _, c := range []struct {
		label, schema, value string
		field, want          string
	}{
		{"format", `{"type": "string", "format": "email"}`, `"` + secret + `"`, "/password", "/password: must be a valid email"},
		{"pattern", `{"type": "string", "pattern": "^\\+[a-z']+$"}`, `"` + secret + `"`, "/password", `/password: must match the pattern ^\+[a-z']+$`},
		{"enum of lists", `{"enum": [[1], [2]]}`, `"` + secret + `"`, "/password", "/password: must be one of the values the schema lists"},
		{"minLength", `{"type": "string", "minLength": 40}`, `"` + secret + `"`, "/password", "/password: must be at least 40 characters long"},
		{"maxLength", `{"type": "string", "maxLength": 4}`, `"` + secret + `"`, "/password", "/password: must be at most 4 characters long"},
		{"enum", `{"enum": ["a", "b"]}`, `"` + secret + `"`, "/password", `/password: must be one of "a", "b"`},
		{"const", `{"const": "a"}`, `"` + secret + `"`, "/password", `/password: must be "a"`},
		{"type", `{"type": "integer"}`, `"` + secret + `"`, "/password", "/password: must be integer, not string"},
		{"not", `{"not": {"type": "string"}}`, `"` + secret + `"`, "/password", "/password: is not allowed"},
		{"minimum", `{"type": "number", "minimum": 99999}`, `4242`, "/password", "/password: must be at least 99999"},
		{"exclusiveMaximum", `{"type": "number", "exclusiveMaximum": 10}`, `4242`, "/password", "/password: must be less than 10"},
		{"multipleOf", `{"type": "number", "multipleOf": 5}`, `4242`, "/password", "/password: must be a multiple of 5"},
		{"nested", `{"type": "object", "properties": {"pin": {"type": "string", "format": "ipv4"}}}`, `{"pin": "` + secret + `"}`, "/password/pin", "/password/pin: must be a valid ipv4"},
		{"array", `{"type": "array", "items": {"type": "string", "format": "uuid"}}`, `["` + secret + `"]`, "/password/0", "/password/0: must be a valid uuid"},
	} {
		t.Run(c.label, func(t *testing.T) {
			s := mustCompile(t, `{"type": "object", "properties": {"password": `+c.schema+`}}`)
			err := s.checkConfig(json.RawMessage(`{"password": ` + c.value + `}`))
			var se *sdk.Error
			if !errors.As(err, &se) || se.Retryable || se.Field != c.field {
				t.Fatalf("checkConfig = %#v, want a final error at %s", err, c.field)
			}
			if got := err.Error(); got != c.want {
				t.Errorf("error = %q, want %q", got, c.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "4242") {
				t.Errorf("the error repeats the value: %q", err)
			}
		})
	}
}

func TestConfigErrorsListEveryField(t *testing.T) {
	s := mustCompile(t, `{
  "type": "object", "required": ["host", "from"], "additionalProperties": false,
  "properties": {"host": {"type": "string"}, "from": {"type": "string"}, "port": {"type": "integer", "maximum": 65535}}
}`)
	for _, c := range []struct{ config, field, want string }{
		{`{"host": "h", "from": "f"}`, "", ""},
		{`{"from": "f", "port": 70000, "hots": "x"}`, "/host", "/host: is required; /hots: is not a known field; /port: must be at most 65535"},
		{`["h"]`, "", "the configuration must be object, not array"},
		{`{"host": "h", "from": "f"`, "", "the configuration is not JSON"},
	} {
		err := s.checkConfig(json.RawMessage(c.config))
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.config, err)
			}
			continue
		}
		var se *sdk.Error
		if !errors.As(err, &se) || se.Field != c.field || err.Error() != c.want {
			t.Errorf("%s: error = %v (field %q), want %q at %q", c.config, err, se.Field, c.want, c.field)
		}
	}
	// A schema that is not given checks nothing.
	if err := mustCompile(t, "").checkConfig(json.RawMessage(`42`)); err != nil {
		t.Errorf("no schema: %v", err)
	}
}

// smtpParams is the shape of the smtp plugin's email.send parameters.
const smtpParams = `{
  "type": "object", "required": ["to", "subject", "body"], "additionalProperties": false,
  "properties": {
    "to": {"oneOf": [{"type": "string", "minLength": 3}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
    "subject": {"type": "string", "minLength": 1},
    "body": {"type": "string"},
    "attachments": {"type": "array", "items": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string", "format": "uri"}}}}
  }
}`

func TestParamsErrorsNameTheParameter(t *testing.T) {
	s := mustCompile(t, "", sdk.Action{Name: "email.send", Params: json.RawMessage(smtpParams)})
	for _, c := range []struct{ params, want string }{
		{`{"to": "a@example.net", "subject": "s", "body": "b"}`, ""},
		{`{"to": ["a@example.net"], "subject": "s", "body": "b", "attachments": [{"url": "https://x.example/f"}]}`, ""},
		{`{"to": 42, "subject": "s", "body": "b"}`, `parameter "to" must be string or array, not number`},
		{`{"to": "", "subject": "s", "body": "b"}`, `parameter "to" must be at least 3 characters long`},
		{`{"to": [], "subject": "s", "body": "b"}`, `parameter "to" must have at least 1 items`},
		{`{"to": "a@example.net", "body": "b", "cc": "x"}`, `parameter "cc" is not a known field; parameter "subject" is required`},
		{`{"to": "a@example.net", "subject": "s", "body": "b", "attachments": [{"url": "not a url"}]}`, `parameter "attachments/0/url" must be a valid uri`},
		{`[1]`, `the parameters must be object, not array`},
		{``, `the parameters must be object, not null`},
		{`{"to": `, `the parameters are not JSON`},
	} {
		err := s.checkParams("email.send", json.RawMessage(c.params))
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.params, err)
			}
			continue
		}
		if err == nil || sdk.IsRetryable(err) || err.Error() != c.want {
			t.Errorf("%s: error = %v, want the final %q", c.params, err, c.want)
		}
	}
	// An action the manifest does not declare is the plugin's business.
	if err := s.checkParams("other", json.RawMessage(`42`)); err != nil {
		t.Errorf("undeclared action: %v", err)
	}
}

func TestResultErrors(t *testing.T) {
	s := mustCompile(t, "", sdk.Action{Name: "post", Result: json.RawMessage(`{"type": "object", "required": ["status"], "properties": {"status": {"type": "integer"}}}`)})
	for _, c := range []struct{ result, want string }{
		{`{"status": 202}`, ""},
		{`{"status": "202"}`, "the plugin's result does not match the action's result schema: /status must be integer, not string"},
		{`{}`, "the plugin's result does not match the action's result schema: /status is required"},
		{``, "the plugin's result does not match the action's result schema: the result must be object, not null"},
	} {
		err := s.checkResult("post", json.RawMessage(c.result))
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.result, err)
			}
			continue
		}
		if err == nil || sdk.IsRetryable(err) || err.Error() != c.want {
			t.Errorf("%s: error = %v, want the final %q", c.result, err, c.want)
		}
	}
}

func TestProblemsAreBounded(t *testing.T) {
	s := mustCompile(t, `{"type": "object", "required": ["a", "b", "c", "d", "e", "f", "g"]}`)
	err := s.checkConfig(json.RawMessage(`{}`))
	if err == nil || !strings.HasSuffix(err.Error(), "/e: is required (and 2 more problems)") {
		t.Errorf("error = %v", err)
	}
}

func TestCompileSchemas(t *testing.T) {
	for _, c := range []struct {
		label   string
		config  string
		actions []sdk.Action
		want    string
	}{
		{"config", `{"type": "objekt"}`, nil, "the config schema does not compile"},
		{"params", "", []sdk.Action{{Name: "send", Params: json.RawMessage(`{"minLength": "three"}`)}}, "the params schema of action send does not compile"},
		{"result", "", []sdk.Action{{Name: "send", Result: json.RawMessage(`{"type": `)}}, "the result schema of action send does not compile"},
		// The host loads nothing a plugin names.
		{"a file", `{"$ref": "file:///etc/passwd"}`, nil, "may refer only to itself"},
		{"a URL", `{"$ref": "https://example.com/schema.json"}`, nil, "may refer only to itself"},
	} {
		_, err := compileSchemas(nil, json.RawMessage(c.config), c.actions)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error = %v, want one containing %q", c.label, err, c.want)
		}
	}
	// A restart with the same schemas keeps the compiled ones; new ones
	// are compiled.
	actions := []sdk.Action{{Name: "a", Params: json.RawMessage(`{"$defs": {"n": {"type": "integer"}}, "properties": {"n": {"$ref": "#/$defs/n"}}}`)}}
	first := mustCompile(t, `{"type": "object"}`, actions...)
	if again, _ := compileSchemas(first, json.RawMessage(`{"type": "object"}`), actions); again != first {
		t.Error("the same schemas were compiled again")
	}
	next, err := compileSchemas(first, json.RawMessage(`{"type": "array"}`), actions)
	if err != nil || next == first || next.checkConfig(json.RawMessage(`[]`)) != nil {
		t.Errorf("a new config schema: %v", err)
	}
	if err := next.checkParams("a", json.RawMessage(`{"n": "x"}`)); err == nil || err.Error() != `parameter "n" must be integer, not string` {
		t.Errorf("a local $ref: %v", err)
	}
}
