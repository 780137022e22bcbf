package blocks

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// Rule is a check on a value, shared by LISTEN, VALIDATION and LEAD. Its
// fields are inlined into those blocks.
type Rule struct {
	Validate  string     `yaml:"validate" enum:"text|email|phone|number|integer|date|url|regex|expression" doc:"What the value must be."`
	Pattern   string     `yaml:"pattern" doc:"For validate: regex, the regular expression the whole value must match."`
	Min       *float64   `yaml:"min" doc:"For number and integer, the smallest allowed value."`
	Max       *float64   `yaml:"max" doc:"For number and integer, the largest allowed value."`
	Condition flows.Expr `yaml:"condition" doc:"For validate: expression, a condition that must be true; the value is in input."`

	re *regexp.Regexp
}

func (ru *Rule) check(c *flows.Check) {
	switch ru.Validate {
	case "regex":
		if ru.Pattern == "" {
			c.Errorf(flows.Pos{}, "validate: regex needs a pattern")
			return
		}
		// Compiled alone first, so the error quotes what the designer wrote.
		_, err := regexp.Compile(ru.Pattern)
		var re *regexp.Regexp
		if err == nil {
			re, err = regexp.Compile(`^(?:` + ru.Pattern + `)$`)
		}
		if err != nil {
			c.Errorf(flows.Pos{}, "pattern %q is not a valid regular expression: %v", ru.Pattern, err)
			return
		}
		ru.re = re
	case "expression":
		if ru.Condition.IsZero() {
			c.Errorf(flows.Pos{}, "validate: expression needs a condition")
		}
	}
	// Fields another validate uses would be ignored without a word.
	if ru.Pattern != "" && ru.Validate != "regex" {
		c.Warnf(flows.Pos{}, "pattern is used only with validate: regex, so it is ignored here")
	}
	if !ru.Condition.IsZero() && ru.Validate != "expression" {
		c.Warnf(ru.Condition.Pos, "condition is used only with validate: expression, so it is ignored here")
	}
	if (ru.Min != nil || ru.Max != nil) && ru.Validate != "number" && ru.Validate != "integer" {
		c.Warnf(flows.Pos{}, "min and max are used only with validate: number or integer, so they are ignored here")
	}
	if ru.Min != nil && ru.Max != nil && *ru.Min > *ru.Max {
		c.Errorf(flows.Pos{}, "min (%v) is larger than max (%v)", *ru.Min, *ru.Max)
	}
}

// dateLayouts are the forms a date may be typed in, most specific first.
var dateLayouts = []string{"2006-01-02", "02.01.2006", "01/02/2006", "2 Jan 2006", "Jan 2 2006", "January 2 2006", "2 January 2006"}

// apply checks s and returns the value to store: numbers as numbers, dates
// as YYYY-MM-DD, the rest as the trimmed text. ok is false when s fails.
func (ru *Rule) apply(r flows.Run, s string) (v any, ok bool, err error) {
	s = strings.TrimSpace(s)
	switch ru.Validate {
	case "", "text":
		return s, s != "", nil
	case "email":
		return strings.ToLower(s), flows.IsEmail(s), nil
	case "phone":
		return s, flows.IsPhone(s), nil
	case "url":
		return s, flows.IsURL(s), nil
	case "number", "integer":
		n := strings.ReplaceAll(s, ",", ".")
		// IsNumber first: ParseFloat also reads NaN, Inf and hex floats,
		// which no one means and NaN passes any min and max.
		if !flows.IsNumber(n) {
			return nil, false, nil
		}
		f, perr := strconv.ParseFloat(n, 64)
		if perr != nil || (ru.Validate == "integer" && f != math.Trunc(f)) {
			return nil, false, nil
		}
		if (ru.Min != nil && f < *ru.Min) || (ru.Max != nil && f > *ru.Max) {
			return f, false, nil
		}
		return f, true, nil
	case "date":
		for _, l := range dateLayouts {
			if t, perr := time.ParseInLocation(l, s, r.Location()); perr == nil {
				return t.Format("2006-01-02"), true, nil
			}
		}
		return nil, false, nil
	case "regex":
		if ru.re == nil {
			return nil, false, fmt.Errorf("pattern was not compiled")
		}
		return s, ru.re.MatchString(s), nil
	case "expression":
		ok, err := r.Truthy(&ru.Condition)
		return s, ok, err
	}
	return nil, false, fmt.Errorf("unknown validation %q", ru.Validate)
}
