package convo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
)

func (b *botExpect) mismatch(m *flows.Content) string {
	if b.text != nil && !b.text.match(m.Text) {
		return "the bot's message text differs"
	}
	if b.hasButtons && !choicesMatch(b.buttons, m.Buttons) {
		return "the message's buttons differ"
	}
	if b.hasQuick && !choicesMatch(b.quickReplies, m.QuickReplies) {
		return "the message's quick replies differ"
	}
	if b.hasGallery && !cardsMatch(b.gallery, m.Gallery) {
		return "the message's gallery differs"
	}
	if b.image != nil && !b.image.match(m.Image) {
		return "the message's image differs"
	}
	if b.media != nil && !b.media.match(m.Media) {
		return "the message's media differs"
	}
	if b.file != nil && !b.file.match(m.File) {
		return "the message's file differs"
	}
	return ""
}

func choicesMatch(want []choiceExpect, got []flows.Button) bool {
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		g := got[i]
		if !w.title.match(g.Title) ||
			(w.payload != nil && !w.payload.match(g.Payload)) ||
			(w.url != nil && !w.url.match(g.URL)) {
			return false
		}
	}
	return true
}

func cardsMatch(want []choiceExpect, got []flows.Card) bool {
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		g := got[i]
		if !w.title.match(g.Title) ||
			(w.subtitle != nil && !w.subtitle.match(g.Subtitle)) ||
			(w.image != nil && !w.image.match(g.Image)) {
			return false
		}
	}
	return true
}

func (b *botExpect) describe() []string {
	var out []string
	if b.text != nil {
		out = append(out, "text: "+b.text.String())
	}
	if b.hasButtons {
		out = append(out, "buttons: "+describeChoices(b.buttons))
	}
	if b.hasQuick {
		out = append(out, "quick replies: "+describeChoices(b.quickReplies))
	}
	if b.hasGallery {
		out = append(out, "gallery: "+describeChoices(b.gallery))
	}
	if b.image != nil {
		out = append(out, "image: "+b.image.String())
	}
	if b.media != nil {
		out = append(out, "media: "+b.media.String())
	}
	if b.file != nil {
		out = append(out, "file: "+b.file.String())
	}
	if len(out) == 0 {
		out = append(out, "(any message)")
	}
	return out
}

func describeChoices(cs []choiceExpect) string {
	if len(cs) == 0 {
		return "(none)"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		s := c.title.String()
		if c.payload != nil {
			s += " → " + c.payload.String()
		}
		if c.url != nil {
			s += " → " + c.url.String()
		}
		parts[i] = s
	}
	return strings.Join(parts, " | ")
}

func describeButtons(bs []flows.Button) string {
	if len(bs) == 0 {
		return "(none)"
	}
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = quoteIfNeeded(b.Title)
	}
	return strings.Join(parts, " | ")
}

// describeMessage lists what a bot message carries, one part a line, in the
// same words describe uses for expectations.
func describeMessage(m *flows.Content) []string {
	var out []string
	if m.Text != "" || (len(m.Buttons) == 0 && len(m.QuickReplies) == 0 && m.Image == nil && m.Media == nil && m.File == nil && len(m.Gallery) == 0) {
		out = append(out, "text: "+quoteIfNeeded(m.Text))
	}
	if len(m.Buttons) > 0 {
		out = append(out, "buttons: "+describeButtons(m.Buttons))
	}
	if len(m.QuickReplies) > 0 {
		out = append(out, "quick replies: "+describeButtons(m.QuickReplies))
	}
	if len(m.Gallery) > 0 {
		titles := make([]string, len(m.Gallery))
		for i, c := range m.Gallery {
			titles[i] = quoteIfNeeded(c.Title)
		}
		out = append(out, "gallery: "+strings.Join(titles, " | "))
	}
	if m.Image != nil {
		out = append(out, "image: "+describeMedia(m.Image))
	}
	if m.Media != nil {
		out = append(out, "media: "+describeMedia(m.Media))
	}
	if m.File != nil {
		out = append(out, "file: "+describeMedia(m.File))
	}
	return out
}

// oneLine describes a message in one transcript line.
func oneLine(m flows.Content) string {
	parts := []string{}
	if m.Text != "" {
		parts = append(parts, m.Text)
	}
	for _, b := range m.Buttons {
		parts = append(parts, "["+b.Title+"]")
	}
	for _, b := range m.QuickReplies {
		parts = append(parts, "("+b.Title+")")
	}
	for _, c := range m.Gallery {
		parts = append(parts, "[card "+c.Title+"]")
	}
	for _, x := range []struct {
		kind string
		m    *flows.Media
	}{{"image", m.Image}, {"media", m.Media}, {"file", m.File}} {
		if x.m != nil {
			parts = append(parts, "["+x.kind+" "+x.m.URL+"]")
			if x.m.Caption != "" {
				parts = append(parts, x.m.Caption)
			}
		}
	}
	for _, a := range m.Attachments {
		parts = append(parts, "[attachment "+a.URL+"]")
	}
	if m.Payload != "" && m.Text == "" {
		parts = append(parts, "(payload "+m.Payload+")")
	}
	return strings.Join(parts, " ")
}

func describeHandoverWant(w map[string]string, form []*valueExpect) []string {
	if len(w) == 0 && len(form) == 0 {
		return []string{"a live-chat request"}
	}
	var out []string
	for _, k := range sortedKeys(w) {
		out = append(out, k+": "+quoteIfNeeded(w[k]))
	}
	for _, e := range form {
		out = append(out, "form."+e.path+": "+formatValue(e.want))
	}
	return out
}

func orNone(ss []string, none string) []string {
	if len(ss) == 0 {
		return []string{none}
	}
	return []string{strings.Join(ss, ", ")}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// quoteIfNeeded quotes text that would be ambiguous bare: empty, padded,
// multi-line or looking like a number, bool or regex.
func quoteIfNeeded(s string) string {
	if s == "" || strings.TrimSpace(s) != s || strings.ContainsAny(s, "\n\t\"") ||
		looksLikeRegex(s) || s == "true" || s == "false" || s == "null" {
		return strconv.Quote(s)
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.Quote(s)
	}
	return s
}

var regexLitRe = regexp.MustCompile(`^/(.+)/([imsU]*)$`)

func looksLikeRegex(s string) bool { return regexLitRe.MatchString(s) }

// normalize turns a value into its JSON shape: numbers become float64,
// structs and typed maps become map[string]any, times become text.
func normalize(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64, map[string]any:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case time.Time:
		return x.Format(time.RFC3339)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Sprint(v)
	}
	return out
}

func sameValue(want, got any) bool {
	if t, ok := got.(time.Time); ok {
		if s, ok := want.(string); ok {
			return s == t.Format(time.RFC3339) || s == engine.Format(t) || s == t.Format("2006-01-02")
		}
	}
	return deepEqual(normalize(want), normalize(got))
}

func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := normalize(b).([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(normalize(x[i]), normalize(y[i])) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := normalize(b).(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !deepEqual(normalize(v), normalize(w)) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || (math.IsNaN(x) && math.IsNaN(y)))
	}
	return a == b
}

// sameSet compares two lists as sets of their formatted items.
func sameSet(want, got any) bool {
	set := func(v any) (map[string]bool, bool) {
		if v == nil {
			return map[string]bool{}, true
		}
		l, ok := normalize(v).([]any)
		if !ok {
			return nil, false
		}
		m := map[string]bool{}
		for _, x := range l {
			m[fmt.Sprint(x)] = true
		}
		return m, true
	}
	a, ok1 := set(want)
	b, ok2 := set(got)
	if !ok1 || !ok2 || len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// formatValue shows a value the way it would be written in a test file,
// with its kind where text and numbers could be confused.
func formatValue(v any) string {
	v = normalize(v)
	switch x := v.(type) {
	case nil:
		return "(not set)"
	case string:
		if _, err := strconv.ParseFloat(x, 64); err == nil {
			return strconv.Quote(x) + " (text)"
		}
		return strconv.Quote(x)
	case float64:
		return engine.Format(x) + " (a number)"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func cloneData(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// FormatColumns lays two lists of lines side by side under the headings
// "expected" and "actual", each line indented by indent. Long lines are
// cut at width characters per column.
func FormatColumns(expected, actual []string, indent string, width int) string {
	if width < 10 {
		width = 10
	}
	left := []string{"expected"}
	left = append(left, expected...)
	right := []string{"actual"}
	right = append(right, actual...)
	w := 0
	for _, l := range left {
		if n := len([]rune(l)); n > w {
			w = n
		}
	}
	w = min(w, width)
	var b bytes.Buffer
	for i := 0; i < max(len(left), len(right)); i++ {
		l, r := "", ""
		if i < len(left) {
			l = cut(left[i], width)
		}
		if i < len(right) {
			r = cut(right[i], width)
		}
		pad := w - len([]rune(l))
		line := indent + l + strings.Repeat(" ", max(pad, 0)) + " | " + r
		b.WriteString(strings.TrimRight(line, " ") + "\n")
		if i == 0 {
			b.WriteString(indent + strings.Repeat("-", w) + "-+-" + strings.Repeat("-", min(max(w, 6), width)) + "\n")
		}
	}
	return b.String()
}

func cut(s string, width int) string {
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	return string(r[:width-1]) + "…"
}
