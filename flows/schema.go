package flows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Patterns of names in bot files.
const (
	botIDPattern     = `^[a-z0-9][a-z0-9_-]{0,63}$`
	skillNamePattern = `^/?[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$`
	blockIDPattern   = `^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$`
	nameKeyPattern   = `^[A-Za-z_][A-Za-z0-9_]{0,63}$`
)

// commonKeys are the keys every block may carry besides its own fields.
var commonKeys = []string{"id", "next", "ui"}

// SchemaJSON renders the JSON Schema (draft 2020-12) of bot files from the
// registered block specs. schema/bot.schema.json is this output, checked in.
func SchemaJSON() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(schemaDoc()); err != nil {
		panic(err) // maps of plain values always encode
	}
	return buf.Bytes()
}

type obj = map[string]any

func schemaDoc() obj {
	specs := BlockSpecs()
	defs := obj{}
	var cond []any
	var oneKey []any
	for _, s := range specs {
		defs["block_"+s.Type] = blockSchema(s)
		cond = append(cond, obj{
			"if":   obj{"required": []any{s.Type}},
			"then": obj{"$ref": "#/$defs/block_" + s.Type},
		})
		oneKey = append(oneKey, obj{"required": []any{s.Type}})
	}
	defs["block"] = obj{
		"description": "A block: one key naming its type (text, listen, switch, …) plus its fields and the common keys id, next and ui.",
		"type":        "object",
		"anyOf":       oneKey,
		"allOf":       cond,
	}
	settingsFields, _ := structFields(typeOf(Settings{}), 0)
	defs["settings"] = objectSchema(settingsFields)
	defs["attribute"] = obj{
		"type":                 "object",
		"additionalProperties": false,
		"required":             []any{"type"},
		"properties": obj{
			"type":        obj{"enum": toAny(AttributeTypes), "description": "The attribute's type; values are converted to it when set."},
			"description": obj{"type": "string"},
			"options":     obj{"type": "array", "items": obj{"type": "string"}, "minItems": 1, "description": "The allowed values of a list attribute."},
			"pattern":     obj{"type": "string", "format": "regex", "description": "A regular expression every value must match."},
		},
		"if":   obj{"properties": obj{"type": obj{"const": "list"}}},
		"then": obj{"required": []any{"options"}},
	}
	defs["intent"] = obj{
		"type":                 "object",
		"additionalProperties": false,
		"properties": obj{
			"examples": obj{"type": "array", "items": obj{"type": "string", "minLength": 1}, "description": "Phrases users say; a message matching one closely enters the skill."},
			"patterns": obj{"type": "array", "items": obj{"type": "string", "format": "regex"}, "description": "Regular expressions; a message matching one enters the skill."},
			"skill":    obj{"type": "string", "description": "The skill to enter; defaults to the intent's name."},
		},
	}
	defs["notify"] = obj{
		"type":                 "object",
		"additionalProperties": false,
		"required":             []any{"on"},
		"properties": obj{
			"on":      obj{"type": "array", "minItems": 1, "items": obj{"type": "string", "pattern": `^(\*|[a-z0-9_.-]{1,64})$`}, "description": "The notifications' names: TRIGGER's, handover_waiting, or a handover's change of status (handover_new, handover_assigned, handover_resolved…); \"*\" takes every one."},
			"webhook": obj{"const": true, "description": "Post it to the webhook integration's URL, signed."},
			"email":   obj{"type": "string", "format": "email", "description": "Email it to this address, through the smtp integration."},
			"sms":     obj{"type": "string", "pattern": `^\+[1-9][0-9]{6,14}$`, "description": "Text it to this number (international form, +15550001111), through the twilio integration."},
		},
	}
	defs["channel"] = obj{
		"type":                 "object",
		"additionalProperties": false,
		"required":             []any{"type"},
		"properties": obj{
			"type":   obj{"type": "string", "pattern": channelNamePattern, "description": "The channel plugin: telegram, whatsapp, messenger, twilio-sms, email, or another installed one."},
			"name":   obj{"type": "string", "pattern": channelNamePattern, "description": "The instance's name, unique in the bot; its webhook is /hooks/{bot}/{name}. Default: the type."},
			"config": obj{"type": "object", "description": "The plugin's settings. Write secrets as ${ENV_VAR}: the server reads them from its environment."},
		},
	}
	defs["entity"] = obj{
		"type":                 "object",
		"additionalProperties": false,
		"properties": obj{
			"pattern": obj{"type": "string", "format": "regex", "description": "A regular expression whose first match is the entity's value."},
			"values":  obj{"type": "object", "additionalProperties": obj{"type": "array", "items": obj{"type": "string"}}, "description": "Canonical values, each with its synonyms."},
		},
	}
	return obj{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"title":                "Switchboard bot",
		"description":          "A Switchboard bot file (YAML or JSON). Generated from the block specs by `go generate ./schema`; do not edit.",
		"type":                 "object",
		"required":             []any{"id", "skills"},
		"additionalProperties": false,
		"properties": obj{
			"$schema":     obj{"type": "string"},
			"switchboard": obj{"const": SpecVersion, "description": "The bot-file format version."},
			"id":          obj{"type": "string", "pattern": botIDPattern, "description": "The bot's id: lower-case letters, digits, - and _."},
			"name":        obj{"type": "string"},
			"description": obj{"type": "string"},
			"timezone":    obj{"type": "string", "description": "IANA time zone for dates and WAITUNTIL, e.g. Europe/Berlin; default UTC."},
			"settings":    obj{"$ref": "#/$defs/settings"},
			"attributes":  obj{"type": "object", "propertyNames": obj{"pattern": nameKeyPattern}, "additionalProperties": obj{"$ref": "#/$defs/attribute"}},
			"intents":     obj{"type": "object", "propertyNames": obj{"pattern": nameKeyPattern}, "additionalProperties": obj{"$ref": "#/$defs/intent"}},
			"entities":    obj{"type": "object", "propertyNames": obj{"pattern": nameKeyPattern}, "additionalProperties": obj{"$ref": "#/$defs/entity"}},
			"notify":      obj{"type": "array", "items": obj{"$ref": "#/$defs/notify"}, "description": "Where the bot's notifications go: TRIGGER's, and the runtime's own handover_waiting (a conversation waits for an agent), through the webhook, smtp and twilio integration plugins."},
			"channels":    obj{"type": "array", "items": obj{"$ref": "#/$defs/channel"}, "description": "The plugin channels the bot runs on (Telegram, WhatsApp…), besides the built-in web chat and REST."},
			"skills": obj{
				"type":                 "object",
				"minProperties":        1,
				"propertyNames":        obj{"pattern": skillNamePattern},
				"additionalProperties": obj{"type": "array", "items": obj{"$ref": "#/$defs/block"}},
				"description":          "Named lists of blocks. /start runs first.",
			},
		},
		"$defs": defs,
	}
}

func blockSchema(s *Spec) obj {
	props := obj{}
	required := []any{s.Type}
	for _, f := range s.Fields {
		if f.Name == s.Primary {
			continue
		}
		props[f.Name] = fieldSchema(f)
		if f.Required {
			required = append(required, f.Name)
		}
	}
	if p := fieldByName(s.Fields, s.Primary); p != nil {
		fs := fieldSchema(*p)
		if !p.Required {
			fs = obj{"anyOf": []any{fs, obj{"type": "null"}}, "description": p.Description}
		}
		props[s.Type] = fs
	} else {
		props[s.Type] = obj{"enum": []any{nil, true}, "description": s.Title + " takes no value: write `" + s.Type + ": true`."}
	}
	props["id"] = obj{"type": "string", "pattern": blockIDPattern, "description": "A name other blocks can goto."}
	props["next"] = obj{"type": "string", "description": "Where to go after this block instead of the block below it."}
	props["ui"] = obj{"type": "object", "properties": obj{"x": obj{"type": "number"}, "y": obj{"type": "number"}}, "additionalProperties": false, "description": "Editor position."}
	return obj{
		"title":                s.Title,
		"description":          s.Description,
		"type":                 "object",
		"properties":           props,
		"required":             required,
		"additionalProperties": false,
	}
}

func fieldSchema(f Field) obj {
	var o obj
	switch f.Type {
	case TypeString, TypeTemplate:
		o = obj{"type": "string"}
	case TypeExpr:
		// Plain numbers and booleans are expressions too.
		o = obj{"type": []any{"string", "number", "boolean"}, "minLength": 1}
	case TypeTarget:
		o = obj{"type": "string", "minLength": 1}
	case TypeTemplates:
		o = obj{"anyOf": []any{obj{"type": "string"}, obj{"type": "array", "items": obj{"type": "string"}, "minItems": 1}}}
	case TypeDuration:
		o = obj{"type": "string", "pattern": DurationPattern}
	case TypeInteger:
		o = obj{"type": "integer"}
	case TypeNumber:
		o = obj{"type": "number"}
	case TypeBoolean:
		o = obj{"type": "boolean"}
	case TypeList:
		o = obj{"type": "array", "items": fieldSchema(*f.Items)}
	case TypeObject:
		o = objectSchema(f.Fields)
	case TypeMap:
		o = obj{"type": "object", "additionalProperties": fieldSchema(*f.Values)}
	default:
		o = obj{}
	}
	if f.Description != "" {
		o["description"] = f.Description
	}
	if len(f.Enum) > 0 {
		o["enum"] = toAny(f.Enum)
	}
	if f.Default != "" {
		o["default"] = typedDefault(f)
	}
	return o
}

func objectSchema(fs []Field) obj {
	props := obj{}
	var required []any
	for _, f := range fs {
		props[f.Name] = fieldSchema(f)
		if f.Required {
			required = append(required, f.Name)
		}
	}
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func typedDefault(f Field) any {
	switch f.Type {
	case TypeInteger:
		if n, err := strconv.Atoi(f.Default); err == nil {
			return n
		}
	case TypeNumber:
		if n, err := strconv.ParseFloat(f.Default, 64); err == nil {
			return n
		}
	case TypeBoolean:
		if b, err := strconv.ParseBool(f.Default); err == nil {
			return b
		}
	}
	return f.Default
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// compiledSchemas are the bot schema and, per block type, the schema's own
// definition of that block. The loader validates each block against its
// type's definition directly: trying every type's if/then in turn (what an
// editor does with the whole schema) costs a 500-block bot most of its load
// time.
type compiledSchemas struct {
	root    *jsonschema.Schema
	blocks  map[string]*jsonschema.Schema
	version int
}

var compiled struct {
	sync.Mutex
	s *compiledSchemas
}

// schemas returns the compiled schemas for the blocks registered now,
// compiling again when the registry changed since.
func schemas() (*compiledSchemas, error) {
	compiled.Lock()
	defer compiled.Unlock()
	version := registryVersion()
	if compiled.s != nil && compiled.s.version == version {
		return compiled.s, nil
	}
	types := BlockTypes()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	if err := c.AddResource("bot.schema.json", bytes.NewReader(SchemaJSON())); err != nil {
		return nil, fmt.Errorf("bot schema: %w", err)
	}
	root, err := c.Compile("bot.schema.json")
	if err != nil {
		return nil, fmt.Errorf("bot schema: %w", err)
	}
	cs := &compiledSchemas{root: root, blocks: map[string]*jsonschema.Schema{}, version: version}
	for _, t := range types {
		bs, err := c.Compile("bot.schema.json#/$defs/block_" + t)
		if err != nil {
			return nil, fmt.Errorf("bot schema, block %s: %w", t, err)
		}
		cs.blocks[t] = bs
	}
	compiled.s = cs
	return cs, nil
}
