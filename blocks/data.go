package blocks

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
)

// Data sets, increments and removes variables and contact attributes.
type Data struct {
	Set       flows.Assignments `yaml:"set" doc:"Names and the expressions whose results they get, in order: later entries see earlier ones. contact.<attribute> writes the contact, converted to the attribute's type. Text needs inner quotes: plan: '\"gold\"'."`
	Increment flows.Assignments `yaml:"increment" doc:"Names and the numbers added to them, after set; a missing value counts as 0. Use a negative number to count down."`
	Unset     []string          `yaml:"unset" doc:"Variables and contact.<attribute>s to remove, after set and increment."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "data",
		Title:       "DATA",
		Category:    "Data",
		Description: "Sets variables and contact attributes from expressions (in order, so later ones see earlier ones), increments counters and removes values.",
		Primary:     "set",
		New:         func() flows.Block { return &Data{} },
		Example: `/start:
  - data:
      price: 12.5
      quantity: 2
      total: price * quantity
      contact.plan: '"trial"'
    increment:
      visits: 1
    unset: [coupon]
  - text: "Your total is {{ total }} ({{ visits }} visits, plan {{ contact.plan }})."`,
	})
}

var (
	_ flows.Enterer = (*Data)(nil)
	_ flows.Checker = (*Data)(nil)
)

// Check reports a block that does nothing and names that cannot be written.
func (b *Data) Check(c *flows.Check) {
	if len(b.Set) == 0 && len(b.Increment) == 0 && len(b.Unset) == 0 {
		c.Errorf(flows.Pos{}, "DATA does nothing: give it set, increment or unset")
	}
	for _, a := range b.Set {
		checkName(c, a.Pos, "set", a.Name)
	}
	for _, a := range b.Increment {
		checkName(c, a.Pos, "increment", a.Name)
	}
	for _, n := range b.Unset {
		checkName(c, flows.Pos{}, "unset", n)
	}
}

// Enter sets, then increments, then removes.
func (b *Data) Enter(r flows.Run) flows.Result {
	for i := range b.Set {
		a := &b.Set[i]
		v, err := r.Eval(&a.Expr)
		if err != nil {
			return flows.Failf("set %s: %v", a.Name, err)
		}
		if err := r.Set(a.Name, v); err != nil {
			return flows.Failf("set %s: %v", a.Name, err)
		}
	}
	for i := range b.Increment {
		a := &b.Increment[i]
		v, err := r.Eval(&a.Expr)
		if err != nil {
			return flows.Failf("increment %s: %v", a.Name, err)
		}
		by, ok := toNumber(v)
		if !ok {
			return flows.Failf("increment %s: %s gives %s, which is not a number", a.Name, a.Expr.Src, describe(v))
		}
		cur := r.Get(a.Name)
		have, ok := toNumber(cur)
		if !ok {
			return flows.Failf("increment %s: its value %s is not a number", a.Name, describe(cur))
		}
		if err := r.Set(a.Name, add(have, by)); err != nil {
			return flows.Failf("increment %s: %v", a.Name, err)
		}
	}
	for _, n := range b.Unset {
		switch n {
		case "contact.name", "contact.status":
			// Fields of the contact itself are cleared, not removed.
			if err := r.Set(n, ""); err != nil {
				return flows.Failf("unset %s: %v", n, err)
			}
		default:
			r.Unset(n)
		}
	}
	return flows.Next()
}

// number is an int or a float64, kept apart so that counters stay whole.
type number struct {
	i     int64
	f     float64
	float bool
}

// toNumber reads v as a number; nil is 0 and numeric text counts.
func toNumber(v any) (number, bool) {
	switch x := v.(type) {
	case nil:
		return number{}, true
	case int:
		return number{i: int64(x)}, true
	case int64:
		return number{i: x}, true
	case int32:
		return number{i: int64(x)}, true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return number{}, false
		}
		return number{f: x, float: true}, true
	case float32:
		return toNumber(float64(x))
	case string:
		s := strings.TrimSpace(x)
		if !flows.IsNumber(s) {
			return number{}, false
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return number{i: i}, true
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return number{}, false
		}
		return number{f: f, float: true}, true
	}
	return number{}, false
}

func (n number) float64() float64 {
	if n.float {
		return n.f
	}
	return float64(n.i)
}

// add sums two numbers: whole when both are whole and the sum fits.
func add(a, b number) any {
	if !a.float && !b.float {
		s := a.i + b.i
		if (s > a.i) == (b.i > 0) {
			return int(s)
		}
	}
	return a.float64() + b.float64()
}

// describe quotes a value for an error message.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		return strconv.Quote(shorten(x))
	}
	return shorten(fmt.Sprint(v))
}

// checkName reports, at load, a name a block cannot write: field is the
// field that names it. p may be zero for the block's position.
func checkName(c *flows.Check, p flows.Pos, field, name string) {
	if err := flows.CheckVarName(name); err != nil {
		c.Errorf(p, "%s: %v", field, err)
	}
}
