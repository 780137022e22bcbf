package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestParseMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		err  string
	}{
		{"", 0, ""},
		{"off", math.MaxInt64, ""},
		{"100MiB", 100 << 20, ""},
		{" 1GiB ", 1 << 30, ""},
		{"65536KiB", 64 << 20, ""},
		{"104857600", 100 << 20, ""},
		{"104857600B", 100 << 20, ""},
		{"1TiB", 1 << 40, ""},
		{"32MiB", 0, "is below 64MiB"},
		{"0", 0, "is below 64MiB"},
		{"2 GiB", 0, "not a size"},
		{"+100MiB", 0, "not a size"},
		{"100MB", 0, "not a size"},
		{"100mib", 0, "not a size"},
		{"-1GiB", 0, "not a size"},
		{"1.5GiB", 0, "not a size"},
		{"99999999999TiB", 0, "too large"},
		{"99999999999999999999", 0, "too large"},
		{"MiB", 0, "not a size"},
		{"none", 0, "not a size"},
	} {
		got, err := parseMemoryLimit(c.in)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("parseMemoryLimit(%q) = %d, %v; want %d", c.in, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("parseMemoryLimit(%q) = %d, %v; want an error saying %q", c.in, got, err, c.err)
		}
	}
	for _, limit := range []int64{100 << 20, 1 << 30, 3 << 40, 100<<20 + 512, math.MaxInt64} {
		back, err := parseMemoryLimit(fmtMemoryLimit(limit))
		if err != nil || back != limit {
			t.Errorf("%d says %q, which reads back as %d, %v", limit, fmtMemoryLimit(limit), back, err)
		}
	}
}

// TestMemoryLimitSetting: memory_limit from the config file, the
// environment over it, the flag over both; a bad one says what it takes.
func TestMemoryLimitSetting(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "switchboard.yaml")
	os.WriteFile(conf, []byte("memory_limit: 200MiB\n"), 0o644)
	for _, c := range []struct {
		env   string
		flags []string
		want  int64
	}{
		{"", nil, 200 << 20},
		{"1GiB", nil, 1 << 30},
		{"1GiB", []string{"--memory-limit", "off"}, math.MaxInt64},
	} {
		cfg, err := resolveWith(t, conf, "SWITCHBOARD_MEMORY_LIMIT", c.env, c.flags...)
		if err != nil || cfg.MemoryLimit != c.want {
			t.Errorf("memory_limit in the file, env %q, flags %v: %d, %v; want %d", c.env, c.flags, cfg.MemoryLimit, err, c.want)
		}
	}
	if cfg, err := resolveWith(t, "", "", ""); err != nil || cfg.MemoryLimit != 0 {
		t.Errorf("by default the runtime's own limit stays: %d, %v", cfg.MemoryLimit, err)
	}
	// A bad value says where it came from: the file's line and column, or
	// the variable.
	os.WriteFile(conf, []byte("addr: 127.0.0.1:0\nmemory_limit: 100 megs\n"), 0o644)
	if _, err := resolveWith(t, conf, "", ""); err == nil || !strings.Contains(err.Error(), `switchboard.yaml:2:15: memory_limit: memory limit "100 megs" is not a size such as 100MiB`) {
		t.Errorf("a bad memory_limit in the file: %v", err)
	}
	if _, err := resolveWith(t, conf, "SWITCHBOARD_MEMORY_LIMIT", "12MiB"); err == nil || !strings.HasPrefix(err.Error(), `SWITCHBOARD_MEMORY_LIMIT: memory limit "12MiB" is below 64MiB`) {
		t.Errorf("a bad SWITCHBOARD_MEMORY_LIMIT: %v", err)
	}
}

// TestServeMemoryLimit: serve runs under the limit it was given, says so
// in its log, and leaves the runtime's limit as it found it.
func TestServeMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "good.yaml"), []byte("id: good\nskills:\n  /start:\n    - text: Hello\n"), 0o644)
	var out, errOut syncBuf
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, done := startServe(t, ctx, &out, &errOut, serveConfig{Addr: "127.0.0.1:0", Data: filepath.Join(dir, "data"), Bots: dir, MemoryLimit: 96 << 20})
	if got := debug.SetMemoryLimit(-1); got != 96<<20 {
		t.Errorf("limit while serving: %d, want %d", got, 96<<20)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "memory limit") || !strings.Contains(errOut.String(), "limit=96MiB") {
		t.Errorf("the log does not say the limit:\n%s", errOut.String())
	}
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit after serving: %d, want %d as before", got, before)
	}
}
