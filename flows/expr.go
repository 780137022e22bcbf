package flows

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
)

// ReservedNames are the parts of the expression environment; no variable
// may take their names.
var ReservedNames = []string{"input", "message", "contact", "vars", "event", "now", "bot", "error"}

var varNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// CheckVarName says why name cannot be a variable, or returns nil. A name of
// the form contact.<attribute> is a contact attribute and always allowed
// when the attribute name is valid. Blocks that save values call it from
// their Check, so a bad name is reported where it is written.
func CheckVarName(name string) error {
	if attr, ok := strings.CutPrefix(name, "contact."); ok {
		if !varNameRe.MatchString(attr) {
			return fmt.Errorf("%q is not a valid attribute name: use letters, digits and _", attr)
		}
		switch attr {
		case "id", "channel", "tags", "attributes":
			return fmt.Errorf("contact.%s cannot be written", attr)
		}
		return nil
	}
	if !varNameRe.MatchString(name) {
		return fmt.Errorf("%q is not a valid variable name: use letters, digits and _, starting with a letter (or contact.<attribute> for a contact attribute)", name)
	}
	for _, r := range ReservedNames {
		if name == r {
			return fmt.Errorf("%q is a reserved name in expressions: choose another variable name", name)
		}
	}
	if _, ok := builtin.Index[name]; ok {
		return fmt.Errorf("%q is the name of a built-in function, so expressions would see the function instead of the variable: choose another name, like %q", name, name+"_value")
	}
	for _, f := range Functions {
		if f.Name == name {
			return fmt.Errorf("%q is the name of a helper function: choose another variable name", name)
		}
	}
	return nil
}

// Limits on expressions, enforced at load time. The memory budget is
// enforced when they run (see runtime/engine).
const (
	MaxExprLen   = 4096
	MaxExprNodes = 1000
	// MaxRepeat bounds the text repeat() may build.
	MaxRepeat = 64 << 10
)

// Functions are the helpers available in every expression, besides
// expr-lang's built-ins. Each has an example that a test evaluates
// (docs/expressions.md lists them).
var Functions = []FunctionDoc{
	{Name: "is_email", Signature: "is_email(s) bool", Doc: "s is an email address.", Example: `is_email("ann@example.com")`, Result: "true"},
	{Name: "is_phone", Signature: "is_phone(s) bool", Doc: "s is a phone number: 7 to 15 digits, optional +, spaces, dashes, dots and parentheses.", Example: `is_phone("+1 (555) 010-9999")`, Result: "true"},
	{Name: "is_url", Signature: "is_url(s) bool", Doc: "s is an absolute http or https URL.", Example: `is_url("https://example.com/a")`, Result: "true"},
	{Name: "is_number", Signature: "is_number(s) bool", Doc: "s is a decimal number.", Example: `is_number("12.5")`, Result: "true"},
	{Name: "number", Signature: "number(s) float", Doc: "s as a number; an error when it is not one.", Example: `number("12.5") * 2`, Result: "25"},
	{Name: "digits", Signature: "digits(s) string", Doc: "the digits of s, everything else dropped.", Example: `digits("Order #12-345")`, Result: `"12345"`},
}

// FunctionDoc documents one expression helper.
type FunctionDoc struct {
	Name, Signature, Doc, Example, Result string
}

var (
	phoneRe  = regexp.MustCompile(`^\+?[0-9 ().\-]{7,24}$`)
	numberRe = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)
)

// IsEmail reports whether s is a plain email address.
func IsEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}

// IsPhone reports whether s looks like a phone number.
func IsPhone(s string) bool {
	if !phoneRe.MatchString(s) {
		return false
	}
	n := len(digitsOf(s))
	return n >= 7 && n <= 15
}

// IsURL reports whether s is an absolute http(s) URL.
func IsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// IsNumber reports whether s is a decimal number.
func IsNumber(s string) bool { return numberRe.MatchString(strings.TrimSpace(s)) }

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// exprOptions are the compile options of one bot. loc must be a valid
// location: expr-lang panics on an unknown zone name.
func exprOptions(loc *time.Location) []expr.Option {
	opts := []expr.Option{
		expr.AllowUndefinedVariables(),
		expr.MaxNodes(MaxExprNodes),
		// now is a variable holding the engine's clock, so steps stay
		// deterministic; the built-in now() would read the wall clock.
		expr.DisableBuiltin("now"),
		// repeat() allocates its result before the memory budget sees it:
		// bound it, since its count may come from user input.
		expr.DisableBuiltin("repeat"),
		expr.Function("repeat", func(p ...any) (any, error) {
			s, _ := p[0].(string)
			n, ok := p[1].(int)
			if !ok || n < 0 || len(s)*n > MaxRepeat {
				return nil, fmt.Errorf("repeat: the result may be at most %d characters", MaxRepeat)
			}
			return strings.Repeat(s, n), nil
		}, new(func(string, int) string)),
		expr.Function("is_email", func(p ...any) (any, error) { return IsEmail(str(p[0])), nil }, new(func(any) bool)),
		expr.Function("is_phone", func(p ...any) (any, error) { return IsPhone(str(p[0])), nil }, new(func(any) bool)),
		expr.Function("is_url", func(p ...any) (any, error) { return IsURL(str(p[0])), nil }, new(func(any) bool)),
		expr.Function("is_number", func(p ...any) (any, error) { return IsNumber(str(p[0])), nil }, new(func(any) bool)),
		expr.Function("number", func(p ...any) (any, error) {
			switch x := p[0].(type) {
			case int:
				return float64(x), nil
			case float64:
				return x, nil
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(str(p[0])), 64)
			if err != nil {
				return nil, fmt.Errorf("number(%q): not a number", str(p[0]))
			}
			return f, nil
		}, new(func(any) float64)),
		expr.Function("digits", func(p ...any) (any, error) { return digitsOf(str(p[0])), nil }, new(func(any) string)),
	}
	if loc != nil && loc != time.UTC {
		opts = append(opts, expr.DisableBuiltin("date"), expr.Function("date", zonedDate(loc), new(func(any, ...any) time.Time)))
	}
	return opts
}

// builtinDate is expr-lang's date(), which takes an optional leading
// location.
var builtinDate = builtin.Builtins[builtin.Index["date"]].Func

// zonedDate is date() parsing in the bot's time zone. expr-lang's own
// Timezone option patches a location constant into date() calls, which the
// compiler dereferences when the result has a method called on it
// (date("2026-03-10").Year() then fails at run time).
func zonedDate(loc *time.Location) func(...any) (any, error) {
	return func(args ...any) (any, error) {
		if len(args) == 0 || len(args) > 3 {
			return nil, fmt.Errorf("date() takes text, an optional layout and an optional time zone")
		}
		for _, a := range args {
			if _, ok := a.(string); !ok {
				return nil, fmt.Errorf("date() takes text, not %T", a)
			}
		}
		return builtinDate(append([]any{loc}, args...)...)
	}
}

// compileExpr compiles e and reports problems at their place in the file.
func compileExpr(e *Expr, opts []expr.Option, d *diags) {
	if e.Src == "" {
		return
	}
	if len(e.Src) > MaxExprLen {
		d.errorf(e.Pos, "expression is %d characters long; the limit is %d: move the logic into several blocks", len(e.Src), MaxExprLen)
		return
	}
	prog, err := expr.Compile(e.Src, opts...)
	if err != nil {
		p, msg := exprErrorPos(e.Pos, e.Src, err)
		d.errorf(p, "expression %q does not compile: %s", short(e.Src), msg)
		return
	}
	e.prog = prog
}

// exprErrorPos maps an expr-lang error to the file position of the offending
// character inside the expression starting at base.
func exprErrorPos(base Pos, src string, err error) (Pos, string) {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return base, err.Error()
	}
	p := base
	if fe.Line > 1 {
		p.Line += fe.Line - 1
		p.Col = fe.Column + 1
	} else {
		p.Col += fe.Column
	}
	return p, fe.Message
}

func short(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// compileTemplate splits t into literals and {{ expression }} parts.
func compileTemplate(t *Template, opts []expr.Option, d *diags) {
	t.parts = t.parts[:0]
	src := t.Src
	off := 0
	for off < len(src) {
		i := strings.Index(src[off:], "{{")
		if i < 0 {
			t.parts = append(t.parts, TemplatePart{Lit: src[off:]})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, TemplatePart{Lit: src[off : off+i]})
		}
		start := off + i + 2
		j := strings.Index(src[start:], "}}")
		if j < 0 {
			d.errorf(offsetPos(t.Pos, src, off+i), "template has {{ without a closing }}")
			return
		}
		code := src[start : start+j]
		lead := len(code) - len(strings.TrimLeft(code, " \t\n"))
		e := &Expr{Src: strings.TrimSpace(code), Pos: offsetPos(t.Pos, src, start+lead)}
		if e.Src == "" {
			d.errorf(offsetPos(t.Pos, src, off+i), "template has an empty {{ }}: put an expression inside, like {{ contact.name }}")
			return
		}
		compileExpr(e, opts, d)
		t.parts = append(t.parts, TemplatePart{Expr: e})
		off = start + j + 2
	}
}

// offsetPos is the position of byte off of src, which starts at base.
func offsetPos(base Pos, src string, off int) Pos {
	p := base
	for _, r := range src[:off] {
		if r == '\n' {
			p.Line++
			p.Col = 1
		} else {
			p.Col++
		}
	}
	return p
}
