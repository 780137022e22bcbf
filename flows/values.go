package flows

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// Pos is a position in a bot file, 1-based.
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

func nodePos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// contentPos is where a scalar's text starts: after the opening quote of a
// quoted scalar, on the line after the indicator of a block scalar.
func contentPos(n *yaml.Node) Pos {
	p := nodePos(n)
	switch {
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		p.Col++
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		p.Line++
	}
	return p
}

// Expr is an expr-lang expression in a bot file, compiled once at load.
type Expr struct {
	Src  string
	Pos  Pos
	prog *vm.Program
}

// UnmarshalYAML keeps the source and its position; the loader compiles it.
func (e *Expr) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected an expression (a string)")
	}
	e.Src, e.Pos = n.Value, contentPos(n)
	return nil
}

// Program is the compiled expression; nil before the loader compiled it.
func (e *Expr) Program() *vm.Program { return e.prog }

// IsZero reports whether no expression was given.
func (e *Expr) IsZero() bool { return e == nil || e.Src == "" }

// Template is text with {{ expression }} parts, compiled once at load.
type Template struct {
	Src   string
	Pos   Pos
	parts []TemplatePart
}

// TemplatePart is a literal or a compiled expression of a template.
type TemplatePart struct {
	Lit  string
	Expr *Expr
}

// UnmarshalYAML keeps the source and its position; the loader compiles it.
func (t *Template) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected text")
	}
	t.Src, t.Pos = n.Value, contentPos(n)
	return nil
}

// Parts returns the compiled parts; a template without {{ }} is one literal.
func (t *Template) Parts() []TemplatePart { return t.parts }

// IsZero reports whether the template is empty.
func (t *Template) IsZero() bool { return t == nil || t.Src == "" }

// Templates is one template or a list of variants, one picked at random.
type Templates []Template

// UnmarshalYAML accepts a string or a list of strings.
func (ts *Templates) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		var t Template
		if err := t.UnmarshalYAML(n); err != nil {
			return err
		}
		*ts = Templates{t}
		return nil
	case yaml.SequenceNode:
		out := make(Templates, len(n.Content))
		for i, c := range n.Content {
			if err := out[i].UnmarshalYAML(c); err != nil {
				return err
			}
		}
		*ts = out
		return nil
	}
	return fmt.Errorf("expected text or a list of text variants")
}

// Target names where the flow goes: a skill ("track", "/start") or the id of
// a block. The loader resolves it and reports unknown names.
type Target struct {
	Name string
	Pos  Pos
	ref  Ref
}

// Ref is a resolved position in a compiled bot.
type Ref struct {
	Skill int
	Block int
}

// UnmarshalYAML keeps the name and its position; the loader resolves it.
func (t *Target) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected the name of a skill or a block id")
	}
	t.Name, t.Pos = n.Value, contentPos(n)
	return nil
}

// Ref returns the resolved position; valid after loading.
func (t *Target) Ref() Ref { return t.ref }

// IsZero reports whether no target was given.
func (t *Target) IsZero() bool { return t == nil || t.Name == "" }

// Duration is a length of time written as Go durations with days added:
// "90s", "10m", "1h30m", "2d".
type Duration struct {
	time.Duration
	Src string
	Pos Pos
}

// UnmarshalYAML parses the duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a duration like 30s, 10m, 2h or 1d")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	d.Duration, d.Src, d.Pos = v, n.Value, contentPos(n)
	return nil
}

// DurationPattern is the JSON Schema pattern of durations.
const DurationPattern = `^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$`

// MaxDuration is the longest duration a bot file may give: no conversation
// waits longer.
const MaxDuration = 10 * 365 * 24 * time.Hour

// ParseDuration parses "1d2h", "90s", "1.5h". Days are 24 hours.
func ParseDuration(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err == nil && d > MaxDuration {
		return 0, fmt.Errorf("%q is longer than the limit of 10 years", s)
	}
	return d, err
}

func parseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a duration: write a number and a unit, like 30s, 10m, 2h or 1d", s)
	if s == "" {
		return 0, bad
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := strings.IndexByte(rest, 'd')
		j := strings.IndexAny(rest, "hms")
		if i >= 0 && (j < 0 || i < j) {
			n, err := strconv.ParseFloat(rest[:i], 64)
			if err != nil || n < 0 {
				return 0, bad
			}
			if n > 100*365 {
				return 0, fmt.Errorf("%q is longer than the limit of 10 years", s)
			}
			total += time.Duration(n * float64(24*time.Hour))
			rest = rest[i+1:]
			continue
		}
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 {
			return 0, bad
		}
		return total + d, nil
	}
	return total, nil
}

// Assignments is a mapping of names to expressions that keeps the order it
// was written in, so later entries can use earlier ones (DATA, event data).
type Assignments []Assignment

// Assignment is one name: expression pair.
type Assignment struct {
	Name string
	Pos  Pos
	Expr Expr
}

// UnmarshalYAML reads a mapping in order.
func (as *Assignments) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("expected a mapping of names to expressions")
	}
	out := make(Assignments, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		a := Assignment{Name: k.Value, Pos: nodePos(k)}
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: the value of %s must be an expression", v.Line, k.Value)
		}
		// Plain numbers and booleans are expressions too; a quoted scalar is
		// still an expression ('x + 1'): a text literal needs inner quotes.
		a.Expr = Expr{Src: v.Value, Pos: contentPos(v)}
		out = append(out, a)
	}
	*as = out
	return nil
}
