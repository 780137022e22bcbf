package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

// result is what one command run printed and returned.
type result struct {
	code     int
	out, err string
}

// runCmd runs the command line args with stdin in and returns its output.
func runCmd(t *testing.T, in string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(stdio{ctx: context.Background(), in: strings.NewReader(in), out: &out, err: &errb}, args)
	return result{code, out.String(), errb.String()}
}

func (r result) want(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.out, r.err)
	}
}

// write creates a file under dir and returns its path.
func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"--help"}, {"-h"}} {
		r := runCmd(t, "", args...)
		r.want(t, 0)
		for _, c := range []string{"validate", "test", "chat", "schema", "version", "help"} {
			if !strings.Contains(r.out, "\n  "+c+" ") {
				t.Errorf("%v: usage does not list %s:\n%s", args, c, r.out)
			}
		}
		if r.err != "" {
			t.Errorf("%v: stderr %q", args, r.err)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	r := runCmd(t, "", "frobnicate", "x")
	r.want(t, 2)
	if r.out != "" {
		t.Errorf("stdout %q, want nothing", r.out)
	}
	if !strings.HasPrefix(r.err, `switchboard: unknown command "frobnicate"`) || !strings.Contains(r.err, "Commands:") {
		t.Errorf("stderr:\n%s", r.err)
	}
}

func TestHelpCommand(t *testing.T) {
	r := runCmd(t, "", "help", "validate")
	r.want(t, 0)
	if !strings.Contains(r.out, "usage: switchboard validate [--strict] [--json] FILE...") || !strings.Contains(r.out, "-strict") {
		t.Errorf("help validate:\n%s", r.out)
	}
	r = runCmd(t, "", "test", "-h")
	r.want(t, 0)
	if !strings.Contains(r.err, "-run") {
		t.Errorf("test -h:\n%s", r.err)
	}
	runCmd(t, "", "help", "nope").want(t, 2)
	runCmd(t, "", "validate", "--bogus", "x.yaml").want(t, 2)
}

func TestVersion(t *testing.T) {
	r := runCmd(t, "", "version")
	r.want(t, 0)
	if !strings.HasPrefix(r.out, "switchboard ") {
		t.Errorf("version: %q", r.out)
	}
	runCmd(t, "", "version", "extra").want(t, 2)
}

func TestSchema(t *testing.T) {
	r := runCmd(t, "", "schema")
	r.want(t, 0)
	if r.out != string(flows.SchemaJSON()) {
		t.Error("schema differs from flows.SchemaJSON()")
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if doc["title"] != "Switchboard bot" {
		t.Errorf("title = %v", doc["title"])
	}
	runCmd(t, "", "schema", "extra").want(t, 2)
}

func TestParseArgsInterspersed(t *testing.T) {
	st := stdio{out: io.Discard, err: io.Discard}
	fs := newFlags(st, "validate")
	strict := fs.Bool("strict", false, "")
	pos, _, ok := parseArgs(fs, []string{"a.yaml", "--strict", "b.yaml", "--", "-c.yaml"})
	if !ok || !*strict || strings.Join(pos, " ") != "a.yaml b.yaml -c.yaml" {
		t.Errorf("pos = %q, strict = %v, ok = %v", pos, *strict, ok)
	}
}
