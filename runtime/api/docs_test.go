package api_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestDocsAgents runs the HTTP examples of docs/agents.md in order, as the
// admin, and checks each answer's status and shape: the same keys at every
// level, and the same values but for placeholders (strings with "…") and
// times.
func TestDocsAgents(t *testing.T) {
	src, err := os.ReadFile("../../docs/agents.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```http\n(.*?)```").FindAllStringSubmatch(string(src), -1)
	if len(blocks) < 8 {
		t.Fatalf("only %d examples", len(blocks))
	}
	e := start(t)
	ids := map[string]string{} // {name} in a path: the id of the account named so
	for _, b := range blocks {
		req, resp, _ := strings.Cut(b[1], "\n\n")
		line, body, _ := strings.Cut(req, "\n")
		method, path, _ := strings.Cut(line, " ")
		statusLine, want, _ := strings.Cut(resp, "\n")
		path = regexp.MustCompile(`\{(\w+)\}`).ReplaceAllStringFunc(path, func(p string) string { return ids[strings.Trim(p, "{}")] })
		status, got := e.do(method, path, e.admin, strings.TrimSpace(body))
		if strconv.Itoa(status) != strings.TrimSpace(statusLine) {
			t.Errorf("%s: %d %s; the docs say %s", line, status, got, statusLine)
			continue
		}
		var w, g any
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatalf("%s: the docs' answer is not JSON: %v", line, err)
		}
		mustJSON(t, got, &g)
		if diff := sameShape(w, g, ""); diff != "" {
			t.Errorf("%s: %s\n docs: %s\nserver: %s", line, diff, strings.TrimSpace(want), got)
		}
		if m, ok := g.(map[string]any); ok && strings.HasSuffix(path, "/agents") && method == "POST" {
			ids[strings.ToLower(m["name"].(string))] = m["id"].(string)
		}
	}
}

// sameShape compares a documented JSON value with the server's.
func sameShape(doc, got any, at string) string {
	switch d := doc.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: an object in the docs, %T from the server", at, got)
		}
		var dk, gk []string
		for k := range d {
			dk = append(dk, k)
		}
		for k := range g {
			gk = append(gk, k)
		}
		slices.Sort(dk)
		slices.Sort(gk)
		if !slices.Equal(dk, gk) {
			return fmt.Sprintf("%s: keys %v in the docs, %v from the server", at, dk, gk)
		}
		for _, k := range dk {
			if strings.HasSuffix(k, "_at") {
				continue
			}
			if diff := sameShape(d[k], g[k], at+"."+k); diff != "" {
				return diff
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(d) {
			return fmt.Sprintf("%s: %v in the docs, %v from the server", at, doc, got)
		}
		for i := range d {
			if diff := sameShape(d[i], g[i], fmt.Sprintf("%s[%d]", at, i)); diff != "" {
				return diff
			}
		}
	case string:
		if g, ok := got.(string); !ok || (g != d && !strings.Contains(d, "…")) {
			return fmt.Sprintf("%s: %q in the docs, %v from the server", at, d, got)
		}
	default:
		if fmt.Sprint(doc) != fmt.Sprint(got) {
			return fmt.Sprintf("%s: %v in the docs, %v from the server", at, doc, got)
		}
	}
	return ""
}
