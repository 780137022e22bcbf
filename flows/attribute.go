package flows

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ValueError says a value does not fit where it was to be stored: the
// declared type or pattern of a contact attribute refused it. Blocks that
// take user input treat it as invalid input (ask again) rather than as a
// failure of the bot.
type ValueError struct{ msg string }

func (e *ValueError) Error() string { return e.msg }

func refused(format string, args ...any) error {
	return &ValueError{msg: fmt.Sprintf(format, args...)}
}

// Convert turns v into the attribute's declared type, or says why it cannot.
func (a *Attribute) Convert(v any) (any, error) {
	s := strings.TrimSpace(str(v))
	switch a.Type {
	case "number":
		switch x := v.(type) {
		case int:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case float64:
			return x, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, refused("attribute %s is a number; %q is not one", a.Name, s)
		}
		return f, nil
	case "bool":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		switch strings.ToLower(s) {
		case "true", "yes", "y", "1", "on":
			return true, nil
		case "false", "no", "n", "0", "off":
			return false, nil
		}
		return nil, refused("attribute %s is true or false; %q is neither", a.Name, s)
	case "date":
		if t, ok := v.(time.Time); ok {
			return t.Format("2006-01-02"), nil
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, refused("attribute %s is a date (YYYY-MM-DD); %q is not one", a.Name, s)
		}
		return t.Format("2006-01-02"), nil
	case "email":
		if !IsEmail(s) {
			return nil, refused("attribute %s is an email address; %q is not one", a.Name, s)
		}
	case "phone":
		if !IsPhone(s) {
			return nil, refused("attribute %s is a phone number; %q is not one", a.Name, s)
		}
	case "url":
		if !IsURL(s) {
			return nil, refused("attribute %s is a URL; %q is not one", a.Name, s)
		}
	case "list":
		for _, o := range a.Options {
			if strings.EqualFold(o, s) {
				return o, nil
			}
		}
		return nil, refused("attribute %s is one of %s; %q is not", a.Name, strings.Join(a.Options, ", "), s)
	}
	if a.re != nil && !a.re.MatchString(s) {
		return nil, refused("attribute %s must match %s; %q does not", a.Name, a.Pattern, s)
	}
	return s, nil
}
