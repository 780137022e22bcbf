package host

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/switchboard-bots/switchboard/flows"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// schemas are the JSON Schemas of one manifest, compiled once when the
// plugin launches; a restart compiles again only when the new manifest's
// schemas differ. A nil schema means the manifest declares none, and
// anything goes.
type schemas struct {
	// src is every schema's text, to tell a new manifest's apart.
	src     string
	config  *jsonschema.Schema
	params  map[string]*jsonschema.Schema // by action
	results map[string]*jsonschema.Schema
}

// schemaSource is what identifies a manifest's schemas: the config schema
// and, per action, its params and result schemas.
func schemaSource(config json.RawMessage, actions []sdk.Action) string {
	var b strings.Builder
	b.Write(config)
	for _, a := range actions {
		fmt.Fprintf(&b, "\x00%s\x00%s\x00%s", a.Name, a.Params, a.Result)
	}
	return b.String()
}

// compileSchemas compiles a manifest's schemas, or returns prev when they
// are the same. An error says which schema does not compile and why.
func compileSchemas(prev *schemas, config json.RawMessage, actions []sdk.Action) (*schemas, error) {
	src := schemaSource(config, actions)
	if prev != nil && prev.src == src {
		return prev, nil
	}
	s := &schemas{src: src, params: map[string]*jsonschema.Schema{}, results: map[string]*jsonschema.Schema{}}
	var err error
	if s.config, err = compileSchema("config schema", config); err != nil {
		return nil, err
	}
	for _, a := range actions {
		if s.params[a.Name], err = compileSchema("params schema of action "+a.Name, a.Params); err != nil {
			return nil, err
		}
		if s.results[a.Name], err = compileSchema("result schema of action "+a.Name, a.Result); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// compileSchema compiles one schema as the runtime validates everything:
// draft 2020-12 unless it says otherwise, formats asserted. It may refer
// only to itself: the host loads nothing a plugin names.
func compileSchema(what string, raw json.RawMessage) (*jsonschema.Schema, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("%s: a manifest's schema may refer only to itself", u)
	}
	const url = "switchboard:manifest.json"
	err := c.AddResource(url, bytes.NewReader(raw))
	var s *jsonschema.Schema
	if err == nil {
		s, err = c.Compile(url)
	}
	if err != nil {
		var se *jsonschema.SchemaError
		if errors.As(err, &se) && se.Err != nil {
			err = se.Err
		}
		return nil, fmt.Errorf("the %s does not compile: %s", what, strings.TrimPrefix(err.Error(), "jsonschema: "))
	}
	return s, nil
}

// decode reads a JSON text for validation, numbers kept exact; an empty
// text is null.
func decode(raw json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// checkConfig validates a configuration against the config schema. The
// error is a final configuration error whose Field is the first field at
// fault; it says what is wrong and never repeats a value, so a secret
// cannot leak through it.
func (s *schemas) checkConfig(config json.RawMessage) error {
	ps, err := check(s.config, config)
	if err != nil {
		return &sdk.Error{Err: errors.New("the configuration is not JSON")}
	}
	if len(ps) == 0 {
		return nil
	}
	var b strings.Builder
	for i, p := range ps {
		switch {
		case i > 0:
			fmt.Fprintf(&b, "; %s: %s", p.at, p.what)
		case p.at == "":
			b.WriteString("the configuration " + p.what)
		default:
			b.WriteString(p.what)
		}
	}
	return &sdk.Error{Err: errors.New(b.String()), Field: ps[0].at}
}

// checkParams validates an action's parameters: a final error names each
// parameter at fault and what is wrong with it, never its value.
func (s *schemas) checkParams(action string, params json.RawMessage) error {
	ps, err := check(s.params[action], params)
	if err != nil {
		return sdk.Final(errors.New("the parameters are not JSON"))
	}
	if len(ps) == 0 {
		return nil
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		if p.at == "" {
			parts[i] = "the parameters " + p.what
		} else {
			parts[i] = fmt.Sprintf("parameter %q %s", displayPtr(p.at), p.what)
		}
	}
	return sdk.Final(errors.New(strings.Join(parts, "; ")))
}

// checkResult validates what an action returned: a plugin that breaks its
// own manifest's promise fails the call for good.
func (s *schemas) checkResult(action string, result json.RawMessage) error {
	const prefix = "the plugin's result does not match the action's result schema: "
	ps, err := check(s.results[action], result)
	if err != nil {
		return sdk.Final(errors.New(prefix + "it is not JSON"))
	}
	if len(ps) == 0 {
		return nil
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		if p.at == "" {
			parts[i] = "the result " + p.what
		} else {
			parts[i] = p.at + " " + p.what
		}
	}
	return sdk.Final(errors.New(prefix + strings.Join(parts, "; ")))
}

// check validates raw against sc; nil sc: no schema, no problem. The
// error says raw is not JSON.
func check(sc *jsonschema.Schema, raw json.RawMessage) ([]problem, error) {
	if sc == nil {
		return nil, nil
	}
	v, err := decode(raw)
	if err != nil {
		return nil, err
	}
	return problems(sc, v), nil
}

// displayPtr writes a JSON pointer for people: "/attachments/0/url" is
// "attachments/0/url", "/a~1b" is "a/b".
func displayPtr(p string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimPrefix(p, "/"), "~1", "/"), "~0", "~")
}

// problem is one way a value fails its schema: where (a JSON pointer into
// the value) and what is wrong, as a predicate ("is required", "must be
// string, not number"). It never holds a value of the instance: the
// library's messages that do (format, minimum, multipleOf …) are written
// anew from the schema's side of them.
type problem struct{ at, what string }

// maxProblems bounds the problems one error lists.
const maxProblems = 5

// problems lists why v fails sc, sorted by location, each once; nil when
// it does not.
func problems(sc *jsonschema.Schema, v any) []problem {
	var ve *jsonschema.ValidationError
	if err := sc.Validate(v); err == nil {
		return nil
	} else if !errors.As(err, &ve) {
		return []problem{{what: "cannot be checked against the schema"}}
	}
	var out []problem
	collect(ve, &out)
	if len(out) == 0 {
		out = []problem{{at: ve.InstanceLocation, what: "does not match the schema"}}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].at != out[j].at {
			return out[i].at < out[j].at
		}
		return out[i].what < out[j].what
	})
	out = slices.Compact(out)
	if len(out) > maxProblems {
		n := len(out) - maxProblems
		out = out[:maxProblems]
		out[maxProblems-1].what += fmt.Sprintf(" (and %d more problems)", n)
	}
	return out
}

// collect walks the error tree. Where a value may take one of several
// forms (anyOf, oneOf), only the form that got furthest is reported, or
// one merged "must be a or b" when every form wants another type.
func collect(ve *jsonschema.ValidationError, out *[]problem) {
	kw := keyword(ve.KeywordLocation)
	if (kw == "anyOf" || kw == "oneOf") && len(ve.Causes) > 0 {
		var types []string
		got := ""
		for _, c := range flows.SchemaLeaves(ve) {
			want, g, ok := typeMessage(c)
			if !ok || c.InstanceLocation != ve.InstanceLocation {
				types = nil
				break
			}
			types, got = append(types, want...), g
		}
		if len(types) > 0 {
			*out = append(*out, problem{ve.InstanceLocation, "must be " + strings.Join(uniq(types), " or ") + ", not " + got})
			return
		}
		collect(flows.DeepestSchemaError(ve.Causes), out)
		return
	}
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collect(c, out)
		}
		return
	}
	*out = append(*out, leaf(ve, kw)...)
}

// keywords are the JSON Schema keywords whose failures are reported.
var keywords = map[string]bool{
	"type": true, "required": true, "additionalProperties": true, "unevaluatedProperties": true,
	"enum": true, "const": true, "pattern": true, "format": true,
	"minLength": true, "maxLength": true, "minItems": true, "maxItems": true,
	"minProperties": true, "maxProperties": true, "minimum": true, "maximum": true,
	"exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true, "uniqueItems": true,
	"oneOf": true, "anyOf": true, "not": true, "dependentRequired": true, "dependencies": true,
	"additionalItems": true, "items": true, "unevaluatedItems": true,
	"contains": true, "minContains": true, "maxContains": true,
	"contentEncoding": true, "contentMediaType": true, "contentSchema": true,
}

// keyword is the keyword of a keyword location: its last segment that
// names one ("dependentRequired/b/0" is dependentRequired); "" for a
// false schema.
func keyword(loc string) string {
	segs := strings.Split(loc, "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if keywords[segs[i]] {
			return segs[i]
		}
	}
	return ""
}

var (
	quotedRe = regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`)
	numberRe = regexp.MustCompile(`-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?`)
)

// leaf words one failure without the instance's value.
func leaf(ve *jsonschema.ValidationError, kw string) []problem {
	at, msg := ve.InstanceLocation, ve.Message
	one := func(what string) []problem { return []problem{{at, what}} }
	limit := numberRe.FindString(msg) // the schema's bound comes first in these messages
	switch kw {
	case "type":
		want, got, _ := typeMessage(ve)
		return one("must be " + strings.Join(want, " or ") + ", not " + got)
	case "required", "additionalProperties", "unevaluatedProperties":
		what := "is required"
		if kw != "required" {
			what = "is not a known field"
		}
		var out []problem
		for _, m := range quotedRe.FindAllStringSubmatch(msg, -1) {
			out = append(out, problem{at + "/" + escapePtr(unquote(m[1])), what})
		}
		return out
	case "enum", "const":
		if what, ok := strings.CutPrefix(msg, "value "); ok {
			return one(what) // "must be one of …": the schema's values
		}
		return one("must be one of the values the schema lists") // lists or objects
	case "pattern":
		p := strings.TrimPrefix(msg, "does not match pattern ")
		return one("must match the pattern " + unquote(strings.TrimSuffix(strings.TrimPrefix(p, "'"), "'")))
	case "format":
		// "<the value> is not valid '<format>'": only the format is said.
		f := msg[strings.LastIndex(msg, " is not valid ")+len(" is not valid "):]
		return one("must be a valid " + strings.Trim(f, "'"))
	case "minLength":
		return one("must be at least " + limit + " characters long")
	case "maxLength":
		return one("must be at most " + limit + " characters long")
	case "minItems", "minContains":
		return one("must have at least " + limit + " items")
	case "maxItems", "maxContains":
		return one("must have at most " + limit + " items")
	case "minProperties":
		return one("must have at least " + limit + " fields")
	case "maxProperties":
		return one("must have at most " + limit + " fields")
	case "minimum":
		return one("must be at least " + limit)
	case "maximum":
		return one("must be at most " + limit)
	case "exclusiveMinimum":
		return one("must be more than " + limit)
	case "exclusiveMaximum":
		return one("must be less than " + limit)
	case "multipleOf":
		// "<the value> not multipleOf <the divisor>"
		return one("must be a multiple of " + msg[strings.LastIndex(msg, " ")+1:])
	case "uniqueItems":
		return one("must not repeat an item (" + msg + ")")
	case "oneOf":
		return one("matches more than one of its allowed forms")
	case "dependentRequired", "dependencies":
		return one("is incomplete: " + msg) // names fields, not values
	case "additionalItems", "items", "unevaluatedItems":
		return one("has more items than allowed")
	case "contains":
		return one("has no item of the kind it must have")
	case "", "not":
		return one("is not allowed")
	}
	return one("is not valid (" + kw + ")")
}

// typeMessage reads the library's "expected string or array, but got
// number": the types wanted, and the type (never the value) given.
func typeMessage(ve *jsonschema.ValidationError) (want []string, got string, ok bool) {
	if keyword(ve.KeywordLocation) != "type" {
		return nil, "", false
	}
	w, g, ok := strings.Cut(strings.TrimPrefix(ve.Message, "expected "), ", but got ")
	if !ok {
		return nil, "", false
	}
	return strings.Split(w, " or "), g, true
}

func uniq(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// unquote undoes the library's quoting of a property name.
func unquote(s string) string {
	if u, err := strconv.Unquote(`"` + strings.ReplaceAll(strings.ReplaceAll(s, `"`, `\"`), `\'`, `'`) + `"`); err == nil {
		return u
	}
	return s
}

func escapePtr(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
