package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsQuoteThisExample keeps docs/plugins.md honest: every Go block
// there that starts with "// from plugins/examples/echo-channel/FILE" must
// be a verbatim excerpt of FILE.
func TestDocsQuoteThisExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "plugins.md"))
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "// from plugins/examples/echo-channel/"
	blocks := strings.Split(string(doc), "```go\n")
	n := 0
	for _, b := range blocks[1:] {
		code, _, _ := strings.Cut(b, "```")
		first, rest, _ := strings.Cut(code, "\n")
		file, ok := strings.CutPrefix(first, prefix)
		if !ok {
			continue
		}
		src, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("docs quote %s: %v", file, err)
			continue
		}
		n++
		if !strings.Contains(string(src), rest) {
			t.Errorf("docs/plugins.md quotes %s, which no longer has:\n%s", file, rest)
		}
	}
	if n < 5 {
		t.Errorf("only %d quotes of the example found in docs/plugins.md", n)
	}
}
