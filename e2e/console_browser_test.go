package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestConsoleBrowser starts `switchboard serve` and runs the console's
// browser tests (e2e/browser/*.e2e.mjs: playwright-core driving Debian's
// chromium) against the console it embeds, one file after the other: they
// share the server, and one's handovers must not show in another's queue
// while it runs. `make browser-deps` installs chromium and the npm packages.
func TestConsoleBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: skipping the console browser test (install nodejs, then run make browser-deps)")
	}
	root := repoRoot(t)
	dir := filepath.Join(root, "e2e", "browser")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		t.Fatalf("playwright-core is not installed in %s: run `make browser-deps` (npm ci there)", dir)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s is missing: run `make browser-deps` (apt-get install chromium) or set CHROMIUM", chromium)
	}
	tests, err := filepath.Glob(filepath.Join(dir, "*.e2e.mjs"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no *.e2e.mjs in %s", dir)
	}

	srv := startServer(t, "--data", t.TempDir(), "--bots", filepath.Join(root, "flows", "examples"), "--default-bot", "support")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"--test", "--test-concurrency=1", "--test-reporter=spec"}, tests...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SWITCHBOARD_URL="+srv.base, "SWITCHBOARD_ADMIN_PASSWORD="+adminPassword,
		"CHROMIUM="+chromium, "NO_COLOR=1", "FORCE_COLOR=0")
	setProcessGroup(cmd)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("node --test output:\n%s", out)
	if ctx.Err() != nil {
		t.Fatalf("the console browser test did not finish within 3 minutes")
	}
	if err != nil {
		t.Fatalf("the console browser test failed: %v", err)
	}
}
