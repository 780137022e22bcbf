package flows

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Field describes one field of a block, derived from the yaml-tagged
// configuration struct and its tags:
//
//	doc:"what it is for"   default:"10m"   enum:"get|post"   required:"true"
//
// The field's type follows the Go type: Template and Templates are text with
// {{ }} parts, Expr an expression, Target a skill or block id, Duration a
// length of time; structs, slices and maps nest.
type Field struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Description string   `json:"description,omitempty"`
	Default     string   `json:"default,omitempty"`
	Enum        []string `json:"enum,omitempty"`
	Required    bool     `json:"required,omitempty"`
	// Items describes list elements; Fields the fields of an object; Values
	// the values of a map.
	Items  *Field  `json:"items,omitempty"`
	Fields []Field `json:"fields,omitempty"`
	Values *Field  `json:"values,omitempty"`
}

// Field types.
const (
	TypeString    = "string"
	TypeTemplate  = "template"
	TypeTemplates = "templates"
	TypeExpr      = "expression"
	TypeTarget    = "target"
	TypeDuration  = "duration"
	TypeInteger   = "integer"
	TypeNumber    = "number"
	TypeBoolean   = "boolean"
	TypeList      = "list"
	TypeObject    = "object"
	TypeMap       = "map"
	TypeAny       = "any"
)

var (
	exprType      = reflect.TypeOf(Expr{})
	templateType  = reflect.TypeOf(Template{})
	templatesType = reflect.TypeOf(Templates{})
	targetType    = reflect.TypeOf(Target{})
	durationType  = reflect.TypeOf(Duration{})
	assignsType   = reflect.TypeOf(Assignments{})
)

func deriveFields(cfg any) ([]Field, error) {
	t := reflect.TypeOf(cfg)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("New must return a pointer to a struct, got %v", t)
	}
	return structFields(t.Elem(), 0)
}

func structFields(t reflect.Type, depth int) ([]Field, error) {
	if depth > 8 {
		return nil, fmt.Errorf("configuration nests too deep at %v", t)
	}
	var out []Field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if opts == "inline" && sf.Type.Kind() == reflect.Struct {
			inner, err := structFields(sf.Type, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, inner...)
			continue
		}
		if name == "" {
			return nil, fmt.Errorf("field %s has no yaml tag", sf.Name)
		}
		f, err := typeField(sf.Type, depth)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		f.Name = name
		f.Description = sf.Tag.Get("doc")
		f.Default = sf.Tag.Get("default")
		if e := sf.Tag.Get("enum"); e != "" {
			// On a list, the allowed values are those of its items.
			target := &f
			if f.Type == TypeList {
				target = f.Items
			}
			target.Enum = strings.Split(e, "|")
		}
		f.Required, _ = strconv.ParseBool(sf.Tag.Get("required"))
		out = append(out, f)
	}
	return out, nil
}

func typeField(t reflect.Type, depth int) (Field, error) {
	switch t {
	case exprType:
		return Field{Type: TypeExpr}, nil
	case templateType:
		return Field{Type: TypeTemplate}, nil
	case templatesType:
		return Field{Type: TypeTemplates}, nil
	case targetType:
		return Field{Type: TypeTarget}, nil
	case durationType:
		return Field{Type: TypeDuration}, nil
	case assignsType:
		return Field{Type: TypeMap, Values: &Field{Type: TypeExpr}}, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return typeField(t.Elem(), depth)
	case reflect.String:
		return Field{Type: TypeString}, nil
	case reflect.Bool:
		return Field{Type: TypeBoolean}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Field{Type: TypeInteger}, nil
	case reflect.Float32, reflect.Float64:
		return Field{Type: TypeNumber}, nil
	case reflect.Interface:
		return Field{Type: TypeAny}, nil
	case reflect.Slice:
		item, err := typeField(t.Elem(), depth+1)
		if err != nil {
			return Field{}, err
		}
		return Field{Type: TypeList, Items: &item}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return Field{}, fmt.Errorf("map keys must be strings")
		}
		v, err := typeField(t.Elem(), depth+1)
		if err != nil {
			return Field{}, err
		}
		return Field{Type: TypeMap, Values: &v}, nil
	case reflect.Struct:
		fs, err := structFields(t, depth+1)
		if err != nil {
			return Field{}, err
		}
		return Field{Type: TypeObject, Fields: fs}, nil
	}
	return Field{}, fmt.Errorf("unsupported type %v", t)
}

func fieldByName(fs []Field, name string) *Field {
	for i := range fs {
		if fs[i].Name == name {
			return &fs[i]
		}
	}
	return nil
}

// FieldNames lists the names of fields, for suggestions in errors.
func FieldNames(fs []Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

func typeOf(v any) reflect.Type { return reflect.TypeOf(v) }
