package flows

import (
	"slices"
	"strings"
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
	slices.Sort(keys)
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
