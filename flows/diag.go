package flows

import (
	"fmt"
	"sort"
	"strings"
)

// Severity of a diagnostic.
type Severity string

const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
)

// Diagnostic is one problem found in a bot file, at its position.
type Diagnostic struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Col      int      `json:"col"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// String formats the diagnostic as file:line:col: message, the form editors
// and terminals turn into links. Warnings say so.
func (d Diagnostic) String() string {
	sev := ""
	if d.Severity == SevWarning {
		sev = "warning: "
	}
	return fmt.Sprintf("%s:%d:%d: %s%s", d.File, d.Line, d.Col, sev, d.Message)
}

// Diagnostics is a list of problems. It is an error when it holds one.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error (not a warning).
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SevError {
			return true
		}
	}
	return false
}

// Sort orders diagnostics by file and position.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Error lists every diagnostic, one a line.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// diags collects diagnostics for one file.
type diags struct {
	file string
	list Diagnostics
	// seen avoids reporting the same message twice at one place.
	seen map[string]bool
}

func (d *diags) add(sev Severity, p Pos, format string, args ...any) {
	if p.Line == 0 {
		p.Line = 1
	}
	if p.Col == 0 {
		p.Col = 1
	}
	msg := fmt.Sprintf(format, args...)
	key := fmt.Sprintf("%d:%d:%s", p.Line, p.Col, msg)
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	if d.seen[key] {
		return
	}
	d.seen[key] = true
	d.list = append(d.list, Diagnostic{File: d.file, Line: p.Line, Col: p.Col, Severity: sev, Message: msg})
}

func (d *diags) errorf(p Pos, format string, args ...any) { d.add(SevError, p, format, args...) }
func (d *diags) warnf(p Pos, format string, args ...any)  { d.add(SevWarning, p, format, args...) }

// Check is handed to blocks' Check methods to report problems the schema
// cannot express.
type Check struct {
	d   *diags
	pos Pos
}

// Errorf reports an error at p, or at the block when p is zero.
func (c *Check) Errorf(p Pos, format string, args ...any) {
	if p.Line == 0 {
		p = c.pos
	}
	c.d.errorf(p, format, args...)
}

// Warnf reports a warning at p, or at the block when p is zero.
func (c *Check) Warnf(p Pos, format string, args ...any) {
	if p.Line == 0 {
		p = c.pos
	}
	c.d.warnf(p, format, args...)
}

// suggest returns the candidate closest to s, if it is close enough to be a
// likely typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := levenshtein(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	limit := len(s)/3 + 1
	if limit > 4 {
		limit = 4
	}
	if bestD <= limit {
		return best
	}
	return ""
}

// DidYouMean formats a suggestion for an error message: ` (did you mean
// "x"?)` when one candidate is close enough to s to be a likely typo.
func DidYouMean(s string, candidates []string) string {
	if m := suggest(s, candidates); m != "" {
		return fmt.Sprintf(" (did you mean %q?)", m)
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		// Names this long are not typos of each other worth computing.
		return 1 << 20
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
