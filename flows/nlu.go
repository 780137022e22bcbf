package flows

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Tokens splits text into lower-case words for intent matching.
func Tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// intentThreshold is how much of an example's words a message must share
// (Dice coefficient) to match it.
const intentThreshold = 0.6

// MatchIntent returns the intent a message matches best, if any: a pattern
// match wins outright; otherwise the closest example by shared words.
// Built-in matching is deliberately simple and predictable; the NLP block
// plugs in real language understanding.
func (b *Bot) MatchIntent(text string) *Intent {
	if text == "" {
		return nil
	}
	for _, in := range b.Intents {
		for _, re := range in.patterns {
			if re.MatchString(text) {
				return in
			}
		}
	}
	words := Tokens(text)
	if len(words) == 0 {
		return nil
	}
	var best *Intent
	bestScore := 0.0
	for _, in := range b.Intents {
		for _, ex := range in.examples {
			if s := dice(words, ex); s > bestScore {
				best, bestScore = in, s
			}
		}
	}
	if bestScore >= intentThreshold {
		return best
	}
	return nil
}

func dice(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	shared := 0
	used := make([]bool, len(b))
	for _, w := range a {
		for j, v := range b {
			if !used[j] && w == v {
				used[j] = true
				shared++
				break
			}
		}
	}
	return 2 * float64(shared) / float64(len(a)+len(b))
}

// ExtractEntities finds the bot's entities in text: a pattern's first match
// (its first group when it has one), or the canonical value of a listed
// value or synonym appearing as words.
func (b *Bot) ExtractEntities(text string) map[string]any {
	if len(b.Entities) == 0 || text == "" {
		return nil
	}
	var out map[string]any
	set := func(k string, v any) {
		if out == nil {
			out = map[string]any{}
		}
		out[k] = v
	}
	var words []string
	for _, e := range b.Entities {
		if e.re != nil {
			if m := e.re.FindStringSubmatch(text); m != nil {
				v := m[0]
				if len(m) > 1 {
					v = m[1]
				}
				set(e.Name, v)
				continue
			}
		}
		if len(e.Values) > 0 {
			if words == nil {
				words = Tokens(text)
			}
			if v, ok := matchValue(e.Values, words); ok {
				set(e.Name, v)
			}
		}
	}
	return out
}

func matchValue(values map[string][]string, words []string) (string, bool) {
	has := func(phrase string) bool {
		p := Tokens(phrase)
		if len(p) == 0 || len(p) > len(words) {
			return false
		}
		for i := 0; i+len(p) <= len(words); i++ {
			ok := true
			for j := range p {
				if words[i+j] != p[j] {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		return false
	}
	// Deterministic order: canonical values sorted.
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		if has(k) {
			return k, true
		}
		for _, syn := range values[k] {
			if has(syn) {
				return k, true
			}
		}
	}
	return "", false
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
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
			return nil, fmt.Errorf("attribute %s is a number; %q is not one", a.Name, s)
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
		return nil, fmt.Errorf("attribute %s is true or false; %q is neither", a.Name, s)
	case "date":
		if t, ok := v.(time.Time); ok {
			return t.Format("2006-01-02"), nil
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, fmt.Errorf("attribute %s is a date (YYYY-MM-DD); %q is not one", a.Name, s)
		}
		return t.Format("2006-01-02"), nil
	case "email":
		if !IsEmail(s) {
			return nil, fmt.Errorf("attribute %s is an email address; %q is not one", a.Name, s)
		}
	case "phone":
		if !IsPhone(s) {
			return nil, fmt.Errorf("attribute %s is a phone number; %q is not one", a.Name, s)
		}
	case "url":
		if !IsURL(s) {
			return nil, fmt.Errorf("attribute %s is a URL; %q is not one", a.Name, s)
		}
	case "list":
		for _, o := range a.Options {
			if strings.EqualFold(o, s) {
				return o, nil
			}
		}
		return nil, fmt.Errorf("attribute %s is one of %s; %q is not", a.Name, strings.Join(a.Options, ", "), s)
	}
	if a.re != nil && !a.re.MatchString(s) {
		return nil, fmt.Errorf("attribute %s must match %s; %q does not", a.Name, a.Pattern, s)
	}
	return s, nil
}
