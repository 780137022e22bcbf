package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestPluginList(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin")
	}
	dir := t.TempDir()
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	build := exec.Command(gobin, "build", "-o", filepath.Join(dir, "echo"), "../../plugins/examples/echo-channel")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	write(t, dir, "notes.txt", "not a plugin: not executable")

	r := runCmd(t, "", "plugin", "list", "--plugins", dir)
	r.want(t, exitOK)
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("output:\n%s", r.out)
	}
	f := strings.Fields(lines[1])
	if len(f) != 6 || f[0] != "echo" || f[1] != "1.0.0" || f[2] != "channel" || f[3] != "running" || f[4] != "0" {
		t.Fatalf("row %q", lines[1])
	}

	r = runCmd(t, "", "plugin", "list", "--json", "--plugins", dir)
	r.want(t, exitOK)
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || len(got) != 1 || got[0]["name"] != "echo" || got[0]["status"] != "running" {
		t.Fatalf("json %s: %v", r.out, err)
	}

	// A binary that is not a plugin is listed as failed, with the reason.
	write(t, dir, "broken", "#!/bin/sh\necho not a plugin\n")
	if err := os.Chmod(filepath.Join(dir, "broken"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = runCmd(t, "", "plugin", "list", "--plugins", dir)
	r.want(t, exitFail)
	if !strings.Contains(r.out, "broken") || !strings.Contains(r.out, "failed") {
		t.Fatalf("output:\n%s", r.out)
	}

	r = runCmd(t, "", "plugin", "list", "--plugins", filepath.Join(dir, "missing"))
	r.want(t, exitFail)
	r = runCmd(t, "", "plugin", "frobnicate")
	r.want(t, exitUsage)
}
