package flows

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// visit calls fn with a pointer to every Expr, Template and Target inside a
// block configuration. depth bounds the walk.
func visit(v any, fn func(any), depth int) {
	visitValue(reflect.ValueOf(v), fn, depth)
}

func visitValue(v reflect.Value, fn func(any), depth int) {
	if depth > 16 || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			visitValue(v.Elem(), fn, depth+1)
		}
		return
	}
	if v.CanAddr() {
		switch p := v.Addr().Interface().(type) {
		case *Expr, *Template, *Target:
			fn(p)
			return
		}
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				visitValue(v.Field(i), fn, depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			visitValue(v.Index(i), fn, depth+1)
		}
	case reflect.Map:
		// Map values are not addressable: copy, visit, store back.
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			cp := reflect.New(v.Type().Elem()).Elem()
			cp.Set(v.MapIndex(k))
			visitValue(cp, fn, depth+1)
			v.SetMapIndex(k, cp)
		}
	}
}

// validateSchema validates the plain value against the bot schema and
// reports each violation in plain words where it was written.
func (l *loader) validateSchema(value any) {
	cs, err := schemas()
	if err != nil {
		l.d.errorf(Pos{}, "internal: %v", err)
		return
	}
	// Validate the bot with its skills' block lists emptied, then each block
	// against its own type's definition, with error locations made absolute.
	root, _ := value.(map[string]any)
	type item struct {
		ptr, typ string
		v        any
	}
	var items []item
	if skills, ok := root["skills"].(map[string]any); ok {
		shallow := make(map[string]any, len(root))
		for k, v := range root {
			shallow[k] = v
		}
		emptied := make(map[string]any, len(skills))
		for name, list := range skills {
			blocks, ok := list.([]any)
			if !ok {
				emptied[name] = list
				continue
			}
			emptied[name] = []any{}
			for i, b := range blocks {
				ptr := "/skills/" + escapePtr(name) + "/" + strconv.Itoa(i)
				if l.badBlocks[ptr] {
					continue
				}
				if n := l.vals[ptr]; n != nil {
					if types, _ := blockType(resolveAlias(n)); len(types) == 1 {
						items = append(items, item{ptr, types[0], b})
					}
				}
			}
		}
		shallow["skills"] = emptied
		value = shallow
	}
	l.check(cs.root, value, "")
	sort.Slice(items, func(i, j int) bool { return items[i].ptr < items[j].ptr })
	for _, it := range items {
		l.check(cs.blocks[it.typ], it.v, it.ptr)
	}
}

func (l *loader) check(s *jsonschema.Schema, v any, prefix string) {
	var ve *jsonschema.ValidationError
	if !errors.As(s.Validate(v), &ve) {
		return
	}
	if prefix != "" {
		rebase(ve, prefix)
	}
	l.report(ve)
}

// rebase makes the instance locations of a block's errors absolute.
func rebase(ve *jsonschema.ValidationError, prefix string) {
	ve.InstanceLocation = prefix + ve.InstanceLocation
	for _, c := range ve.Causes {
		rebase(c, prefix)
	}
}

// report walks the error tree. Where a value may take one of several forms
// (anyOf), only the branch that got furthest is reported, or one merged
// "expected …" message when every branch disagrees on the type.
func (l *loader) report(ve *jsonschema.ValidationError) {
	if l.underBadBlock(ve.InstanceLocation) {
		return
	}
	l.markSchemaError(ve.InstanceLocation)
	kw := keyword(ve.KeywordLocation)
	if kw == "anyOf" || kw == "oneOf" {
		if l.isBlockItem(ve.InstanceLocation) {
			return // a block with no known type: reported by checkBlockTypes
		}
		var types []string
		allType := true
		for _, c := range SchemaLeaves(ve) {
			if keyword(c.KeywordLocation) != "type" || c.InstanceLocation != ve.InstanceLocation {
				allType = false
				break
			}
			types = append(types, expectedTypes(c.Message)...)
		}
		if allType && len(types) > 0 {
			l.d.errorf(l.valuePos(ve.InstanceLocation), "%s must be %s, not %s", l.what(ve.InstanceLocation), joinOr(uniq(types)), l.gotWord(ve.InstanceLocation))
			return
		}
		best := DeepestSchemaError(ve.Causes)
		if best != nil {
			l.report(best)
		}
		return
	}
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			l.report(c)
		}
		return
	}
	l.leaf(ve, kw)
}

func keyword(loc string) string {
	if i := strings.LastIndexByte(loc, '/'); i >= 0 {
		return loc[i+1:]
	}
	return loc
}

var quotedRe = regexp.MustCompile(`'([^']*)'`)

func (l *loader) leaf(ve *jsonschema.ValidationError, kw string) {
	at := ve.InstanceLocation
	switch kw {
	case "required":
		for _, m := range quotedRe.FindAllStringSubmatch(ve.Message, -1) {
			l.d.errorf(l.valuePos(at), "%s needs %s", l.what(at), l.fieldWord(at, m[1]))
		}
	case "additionalProperties":
		for _, m := range quotedRe.FindAllStringSubmatch(ve.Message, -1) {
			name := m[1]
			known := l.knownKeys(at)
			msg := fmt.Sprintf("unknown field %q in %s", name, l.what(at))
			if s := suggest(name, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else if len(known) > 0 {
				msg += "; its fields are: " + strings.Join(known, ", ")
			}
			l.d.errorf(l.keyPos(at+"/"+escapePtr(name)), "%s", msg)
		}
	case "type":
		l.d.errorf(l.valuePos(at), "%s must be %s, not %s", l.what(at), joinOr(expectedTypes(ve.Message)), l.gotWord(at))
	case "pattern":
		val := ""
		if v := l.vals[at]; v != nil {
			val = v.Value
		}
		switch {
		case strings.Contains(ve.Message, "(ms|s|m|h|d)"):
			l.d.errorf(l.valuePos(at), "%q is not a duration: write a number and a unit, like 30s, 10m, 2h or 1d", val)
		case strings.Contains(ve.KeywordLocation, "/propertyNames/"):
			l.d.errorf(l.keyPos(at), "%s: names may use letters, digits, _ . and - (up to 64 characters)", l.what(at))
		case strings.HasSuffix(at, "/id") && strings.Count(at, "/") == 1:
			l.d.errorf(l.valuePos(at), "bot id %q must be lower-case letters, digits, - and _ (up to 64 characters)", val)
		default:
			l.d.errorf(l.valuePos(at), "%s %s", l.what(at), ve.Message)
		}
	case "enum":
		l.d.errorf(l.valuePos(at), "%s %s", l.what(at), strings.Replace(ve.Message, "value must be one of", "must be one of", 1))
	case "const":
		if at == "/switchboard" {
			l.d.errorf(l.valuePos(at), "this build reads bot files of format version %d: set `switchboard: %d`", SpecVersion, SpecVersion)
			return
		}
		l.d.errorf(l.valuePos(at), "%s %s", l.what(at), ve.Message)
	case "format":
		l.d.errorf(l.valuePos(at), "%s is not a valid regular expression: %s", l.what(at), ve.Message)
	case "minItems", "minLength", "minProperties":
		l.d.errorf(l.valuePos(at), "%s must not be empty", l.what(at))
	case "false":
		l.d.errorf(l.keyPos(at), "%s is not allowed here", l.what(at))
	default:
		l.d.errorf(l.valuePos(at), "%s: %s", l.what(at), ve.Message)
	}
}

// markSchemaError remembers that the value at ptr, and so every value
// containing it, failed the schema: such blocks are not decoded, since the
// decoder would only repeat the schema's complaint less clearly.
func (l *loader) markSchemaError(ptr string) {
	if l.schemaErrs == nil {
		l.schemaErrs = map[string]bool{}
	}
	for p := ptr; p != ""; p = parentPtr(p) {
		l.schemaErrs[p] = true
	}
}

func (l *loader) underBadBlock(ptr string) bool {
	for p := ptr; p != ""; p = parentPtr(p) {
		if l.badBlocks[p] {
			return true
		}
	}
	return false
}

var blockItemRe = regexp.MustCompile(`^/skills/[^/]+/[0-9]+$`)

func (l *loader) isBlockItem(ptr string) bool { return blockItemRe.MatchString(ptr) }

func parentPtr(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return ""
}

func unescapePtr(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

func (l *loader) valuePos(ptr string) Pos {
	if n, ok := l.vals[ptr]; ok {
		return nodePos(n)
	}
	return Pos{}
}

func (l *loader) keyPos(ptr string) Pos {
	if n, ok := l.keys[ptr]; ok {
		return nodePos(n)
	}
	return l.valuePos(parentPtr(ptr))
}

// blockAt returns the block pointer containing ptr and its type, if ptr is
// inside a block.
func (l *loader) blockAt(ptr string) (string, *Spec) {
	for p := ptr; p != ""; p = parentPtr(p) {
		if l.isBlockItem(p) {
			if n := l.vals[p]; n != nil {
				if types, _ := blockType(resolveAlias(n)); len(types) == 1 {
					s, _ := LookupBlock(types[0])
					return p, s
				}
			}
			return p, nil
		}
	}
	return "", nil
}

// what names the value at ptr in words: "the bot", "field timeout of the
// LISTEN block", "skill name".
func (l *loader) what(ptr string) string {
	if ptr == "" {
		return "the bot"
	}
	if bp, spec := l.blockAt(ptr); spec != nil {
		if bp == ptr {
			return "the " + spec.Title + " block"
		}
		field := unescapePtr(ptr[len(bp)+1:])
		if field == spec.Type {
			return "the value of " + spec.Title
		}
		return fmt.Sprintf("%q of the %s block", field, spec.Title)
	}
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i := range parts {
		parts[i] = unescapePtr(parts[i])
	}
	switch {
	case len(parts) == 1:
		return fmt.Sprintf("%q", parts[0])
	case len(parts) == 2 && parts[0] == "skills":
		return fmt.Sprintf("skill %q", parts[1])
	case len(parts) >= 2 && (parts[0] == "attributes" || parts[0] == "intents" || parts[0] == "entities"):
		kind := strings.TrimSuffix(parts[0], "s")
		if parts[0] == "entities" {
			kind = "entity"
		}
		if len(parts) == 2 {
			return fmt.Sprintf("%s %q", kind, parts[1])
		}
		return fmt.Sprintf("%q of %s %q", strings.Join(parts[2:], "."), kind, parts[1])
	}
	return fmt.Sprintf("%q", strings.Join(parts, "."))
}

// fieldWord names a missing field; a block's primary field is written as
// its type key.
func (l *loader) fieldWord(at, name string) string {
	if bp, spec := l.blockAt(at); spec != nil && bp == at && name == spec.Type {
		return fmt.Sprintf("a value for %q", name)
	}
	return fmt.Sprintf("the field %q", name)
}

// knownKeys lists the keys allowed where at points.
func (l *loader) knownKeys(at string) []string {
	if bp, spec := l.blockAt(at); spec != nil && bp == at {
		var out []string
		for _, f := range spec.Fields {
			if f.Name != spec.Primary {
				out = append(out, f.Name)
			}
		}
		return append(out, commonKeys...)
	}
	if at == "" {
		return []string{"switchboard", "id", "name", "description", "timezone", "settings", "attributes", "intents", "entities", "skills"}
	}
	if at == "/settings" {
		fs, _ := structFields(typeOf(Settings{}), 0)
		return FieldNames(fs)
	}
	return nil
}

var expectedRe = regexp.MustCompile(`expected (.+), but got`)

func expectedTypes(msg string) []string {
	m := expectedRe.FindStringSubmatch(msg)
	if m == nil {
		return nil
	}
	var out []string
	for _, t := range strings.Split(m[1], " or ") {
		out = append(out, typeWord(t))
	}
	return out
}

func typeWord(t string) string {
	switch t {
	case "string":
		return "text"
	case "array":
		return "a list"
	case "object":
		return "a mapping (key: value)"
	case "integer":
		return "a whole number"
	case "number":
		return "a number"
	case "boolean":
		return "true or false"
	case "null":
		return "empty"
	}
	return t
}

func (l *loader) gotWord(ptr string) string {
	n := l.vals[ptr]
	if n == nil {
		return "this"
	}
	n = resolveAlias(n)
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return n.Value
	case "!!null":
		return "empty"
	}
	return kindWord(n)
}

func joinOr(ss []string) string {
	switch len(ss) {
	case 0:
		return "something else"
	case 1:
		return ss[0]
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " or " + ss[len(ss)-1]
}

func uniq(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
