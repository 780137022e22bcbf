package host_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"

	"github.com/switchboard-bots/switchboard/plugins/host"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// bins are the test plugins, built once for the package.
var bins struct {
	channel, integration, plain, echo string
}

const helperEnv = "SWITCHBOARD_HOST_TEST_HELPER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		helperHost(dir)
		return
	}
	tmp, err := os.MkdirTemp("", "plugins-host-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins.channel = filepath.Join(tmp, "testchan")
	bins.integration = filepath.Join(tmp, "testint")
	bins.plain = filepath.Join(tmp, "plainchan")
	bins.echo = filepath.Join(tmp, "echo")
	for _, b := range []struct{ out, pkg, ldflags string }{
		{bins.channel, "./testdata/testplugin", ""},
		{bins.integration, "./testdata/testplugin", "-X main.kind=integration -X main.name=testint"},
		{bins.plain, "./testdata/testplugin", "-X main.plain=yes -X main.name=plainchan"},
		{bins.echo, "../examples/echo-channel", ""},
	} {
		if err := goBuild(b.out, b.pkg, b.ldflags); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.RemoveAll(tmp)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func goBuild(out, pkg, ldflags string) error {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	args := []string{"build", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	cmd := exec.Command(gobin, append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// helperHost is a host process for TestHostDeathLeavesNoOrphans: it
// starts the plugins of dir, prints their pids and waits to be killed.
func helperHost(dir string) {
	h, err := host.New(host.Config{Dir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Start(ctx); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for _, s := range h.Plugins() {
		fmt.Println("pid", s.PID)
	}
	fmt.Println("ready")
	time.Sleep(time.Minute) // killed long before
	os.Exit(1)
}

// logBuffer collects slog output for a test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func pluginDir(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		if err := os.Symlink(f, filepath.Join(dir, filepath.Base(f))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fast is a configuration with short timings for tests.
func fast(dir string, logs io.Writer) host.Config {
	return host.Config{
		Dir:            dir,
		CallTimeout:    3 * time.Second,
		HealthInterval: 200 * time.Millisecond,
		HealthTimeout:  time.Second,
		OverdueAfter:   200 * time.Millisecond,
		MinBackoff:     50 * time.Millisecond,
		MaxBackoff:     time.Second,
		KillTimeout:    2 * time.Second,
		Log:            slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func start(t *testing.T, cfg host.Config) *host.Host {
	t.Helper()
	h, err := host.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pids := pidsOf(h)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		for _, pid := range pids {
			if !gone(pid) {
				t.Errorf("plugin process %d outlived Close", pid)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	return h
}

func pidsOf(h *host.Host) []int {
	var pids []int
	for _, s := range h.Plugins() {
		if s.PID > 0 {
			pids = append(pids, s.PID)
		}
	}
	return pids
}

func status(t *testing.T, h *host.Host, name string) host.Status {
	t.Helper()
	for _, s := range h.Plugins() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no plugin %s in %+v", name, h.Plugins())
	return host.Status{}
}

// gone reports whether no process pid runs (a zombie counts as gone: it
// no longer runs, whoever has to reap it).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// pid (comm) state …
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] == 'Z' || b[i+2] == 'X'
	}
	return false
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func configure(t *testing.T, ch *host.ChannelClient, instance string) {
	t.Helper()
	if err := ch.Configure(ctx(t), instance, json.RawMessage(`{"token": "tok-secret-`+instance+`"}`)); err != nil {
		t.Fatalf("configure %s: %v", instance, err)
	}
}

func TestStartCallsAndCloseLeaveNoProcess(t *testing.T) {
	logs := &logBuffer{}
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	h, err := host.New(fast(pluginDir(t, bins.channel, bins.integration), logs))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(ctx(t)); err != nil {
		t.Fatal(err)
	}
	ps := h.Plugins()
	if len(ps) != 2 || ps[0].Name != "testchan" || ps[0].Kind != host.KindChannel || ps[0].State != host.StateRunning ||
		ps[1].Name != "testint" || ps[1].Kind != host.KindIntegration || ps[1].Version != "0.0.2" || ps[1].PID == 0 {
		t.Fatalf("plugins = %+v", ps)
	}
	ch, ok := h.Channel("testchan")
	if !ok {
		t.Fatal("no channel testchan")
	}
	if _, ok := h.Channel("testint"); ok {
		t.Fatal("an integration is not a channel")
	}
	if m := ch.Manifest(); !m.Capabilities.Buttons || m.Capabilities.ReplyWindow != 24*time.Hour || !ch.Polling() {
		t.Fatalf("manifest = %+v, polling %v", m, ch.Polling())
	}
	// A refused configuration is a final error naming the field.
	var se *sdk.Error
	if err := ch.Configure(ctx(t), "bad", json.RawMessage(`{}`)); !errors.As(err, &se) || se.Field != "/token" || se.Retryable {
		t.Fatalf("Configure = %v", err)
	}
	configure(t, ch, "a")
	id, err := ch.Send(ctx(t), "a", &sdk.OutboundMessage{Recipient: "u", Content: sdk.Content{Text: "hi", Buttons: []sdk.Button{{Title: "b"}}}})
	if err != nil || id != "ok:hi" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	res, err := ch.HandleWebhook(ctx(t), "a", &sdk.WebhookRequest{Method: "POST", Path: "/hooks/b/a", Body: []byte("yo")})
	if err != nil || res.Status != 202 || string(res.Body) != "yo" || len(res.Messages) != 1 || res.Messages[0].Content.Text != "yo" {
		t.Fatalf("HandleWebhook = %+v, %v", res, err)
	}
	in, ok := h.Integration("testint")
	if !ok {
		t.Fatal("no integration")
	}
	out, err := in.Invoke(ctx(t), "act", json.RawMessage(`{"Text": "x"}`), sdk.Conversation{Bot: "b1", InvocationID: "inv-1"})
	if err != nil || string(out) != `{"bot":"b1","id":"inv-1","out":"ok:x"}` {
		t.Fatalf("Invoke = %s, %v", out, err)
	}

	pids := pidsOf(h)
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Close(c); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if !gone(pid) {
			t.Errorf("plugin %d still runs after Close", pid)
		}
	}
	for _, s := range h.Plugins() {
		if s.State != host.StateStopped {
			t.Errorf("%s is %s after Close", s.Name, s.State)
		}
	}
	if _, err := ch.Send(ctx(t), "a", &sdk.OutboundMessage{Content: sdk.Content{Text: "hi"}}); !errors.Is(err, host.ErrClosed) {
		t.Errorf("Send after Close = %v", err)
	}
}

func TestCrashedPluginIsRestartedAndConfiguredAgain(t *testing.T) {
	logs := &logBuffer{}
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	h := start(t, fast(pluginDir(t, bins.channel), logs))
	ch, _ := h.Channel("testchan")
	configure(t, ch, "a")
	pid := status(t, h, "testchan").PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the restart", func() bool {
		s := status(t, h, "testchan")
		return s.State == host.StateRunning && s.PID != pid && s.Restarts == 1
	})
	// The instance was configured again: Send works on the new process.
	id, err := ch.Send(ctx(t), "a", &sdk.OutboundMessage{Content: sdk.Content{Text: "pid"}})
	if err != nil || id != strconv.Itoa(status(t, h, "testchan").PID) {
		t.Fatalf("Send after restart = %q, %v", id, err)
	}
	if s := status(t, h, "testchan"); !strings.Contains(s.LastError, "exited") {
		t.Errorf("last error = %q", s.LastError)
	}
	if !gone(pid) {
		t.Errorf("the killed process %d is still there", pid)
	}

	// A plugin that exits by itself in a call: the call fails retryable,
	// the plugin comes back.
	_, err = ch.Send(ctx(t), "a", &sdk.OutboundMessage{Content: sdk.Content{Text: "crash"}})
	if !sdk.IsRetryable(err) {
		t.Fatalf("Send crash = %v", err)
	}
	waitFor(t, 10*time.Second, "the second restart", func() bool {
		s := status(t, h, "testchan")
		return s.State == host.StateRunning && s.Restarts == 2
	})
	if _, err := ch.Send(ctx(t), "a", &sdk.OutboundMessage{Content: sdk.Content{Text: "hi"}}); err != nil {
		t.Fatalf("Send after the second restart: %v", err)
	}
}

func TestHungPluginTimesOutAndIsRestarted(t *testing.T) {
	logs := &logBuffer{}
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	cfg := fast(pluginDir(t, bins.channel), logs)
	cfg.CallTimeout = 500 * time.Millisecond
	cfg.HealthInterval = time.Hour // only the timed-out call triggers the check
	h := start(t, cfg)
	ch, _ := h.Channel("testchan")
	configure(t, ch, "a")
	pid := status(t, h, "testchan").PID

	// A slow call that honours ctx times out and does not count as hung.
	began := time.Now()
	_, err := ch.Send(ctx(t), "a", &sdk.OutboundMessage{Content: sdk.Content{Text: "slow"}})
	if !sdk.IsRetryable(err) || time.Since(began) > 3*time.Second {
		t.Fatalf("Send slow = %v after %v", err, time.Since(began))
	}
	time.Sleep(600 * time.Millisecond)
	if s := status(t, h, "testchan"); s.PID != pid || s.Restarts != 0 {
		t.Fatalf("a plugin that honours its deadline was restarted: %+v", s)
	}

	began = time.Now()
	_, err = ch.Send(ctx(t), "a", &sdk.OutboundMessage{Content: sdk.Content{Text: "hang"}})
	if !sdk.IsRetryable(err) || time.Since(began) > 3*time.Second {
		t.Fatalf("Send hang = %v after %v", err, time.Since(began))
	}
	waitFor(t, 10*time.Second, "the hung plugin's restart", func() bool {
		s := status(t, h, "testchan")
		return s.State == host.StateRunning && s.PID != pid && s.Restarts == 1
	})
	if s := status(t, h, "testchan"); !strings.Contains(s.LastError, "hung") {
		t.Errorf("last error = %q", s.LastError)
	}
	if id, err := ch.Send(ctx(t), "a", &sdk.OutboundMessage{Content: sdk.Content{Text: "hi"}}); err != nil || id != "ok:hi" {
		t.Fatalf("Send after restart = %q, %v", id, err)
	}
	waitFor(t, 5*time.Second, "the hung process to go", func() bool { return gone(pid) })
}

func TestHostDeathLeavesNoOrphans(t *testing.T) {
	dir := pluginDir(t, bins.channel, bins.integration)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var pids []int
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if line == "ready" {
			break
		}
		if p, ok := strings.CutPrefix(line, "pid "); ok {
			n, _ := strconv.Atoi(p)
			pids = append(pids, n)
		} else {
			t.Fatalf("helper: %s", line)
		}
	}
	if len(pids) != 2 || pids[0] == 0 || pids[1] == 0 {
		t.Fatalf("pids = %v", pids)
	}
	for _, pid := range pids {
		if gone(pid) {
			t.Fatalf("plugin %d is not running", pid)
		}
	}
	// The host dies without a chance to clean up.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	for _, pid := range pids {
		waitFor(t, 10*time.Second, fmt.Sprintf("orphaned plugin %d to exit", pid), func() bool { return gone(pid) })
	}
}

func TestChecksumPin(t *testing.T) {
	logs := &logBuffer{}
	sum := func(path string) string {
		out, err := exec.Command("sha256sum", path).Output()
		if err != nil {
			t.Skip("sha256sum:", err)
		}
		return strings.Fields(string(out))[0]
	}
	cfg := fast("", logs)
	cfg.Plugins = []host.PluginConfig{
		{Path: bins.channel, SHA256: sum(bins.channel)},
		{Path: bins.integration, SHA256: strings.Repeat("ab", 32)},
	}
	h := start(t, cfg)
	ps := h.Plugins()
	var good, bad host.Status
	for _, s := range ps {
		switch s.Path {
		case bins.channel:
			good = s
		case bins.integration:
			bad = s
		}
	}
	if good.State != host.StateRunning {
		t.Errorf("pinned plugin = %+v", good)
	}
	if bad.State != host.StateFailed || !strings.Contains(bad.LastError, "SHA-256") || bad.PID != 0 {
		t.Errorf("plugin with a wrong pin = %+v", bad)
	}
	if _, err := host.New(host.Config{Plugins: []host.PluginConfig{{Path: bins.channel, SHA256: "xyz"}}}); err == nil {
		t.Error("a malformed pin was accepted")
	}
}

func TestDuplicateNamesAndNonPlugins(t *testing.T) {
	logs := &logBuffer{}
	dir := pluginDir(t, bins.channel)
	if err := os.Symlink(bins.channel, filepath.Join(dir, "again")); err != nil {
		t.Fatal(err)
	}
	// Not executable: ignored. Executable but not a plugin: fails.
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "script"), []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fast(dir, logs)
	cfg.StartTimeout = 2 * time.Second
	cfg.MaxFailures = 2
	h := start(t, cfg)
	ps := h.Plugins()
	if len(ps) != 3 {
		t.Fatalf("plugins = %+v", ps)
	}
	running, dup := 0, 0
	for _, s := range ps {
		switch {
		case s.State == host.StateRunning && s.Name == "testchan":
			running++
		case strings.Contains(s.LastError, "taken"):
			dup++
		}
	}
	if running != 1 || dup != 1 {
		t.Errorf("plugins = %+v", ps)
	}
	waitFor(t, 10*time.Second, "the script to fail for good", func() bool {
		return status(t, h, "script").State == host.StateFailed
	})
}

func TestPluginLogsAreForwardedRateLimited(t *testing.T) {
	logs := &logBuffer{}
	cfg := fast(pluginDir(t, bins.channel), logs)
	cfg.LogRate, cfg.LogBurst = 1, 20
	h := start(t, cfg)
	ch, _ := h.Channel("testchan")
	configure(t, ch, "a")
	// A plugin that logs a secret does not get it into the host's log.
	if _, err := ch.Send(ctx(t), "a", &sdk.OutboundMessage{Content: sdk.Content{Text: "leak"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the leaky line", func() bool { return strings.Contains(logs.String(), "sending with token") })
	if strings.Contains(logs.String(), "tok-secret-a") {
		t.Errorf("a secret reached the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `msg="sending with token [redacted]"`) || !strings.Contains(logs.String(), `token=[redacted]`) {
		t.Errorf("the leaky line was not redacted:\n%s", logs.String())
	}

	if _, err := ch.Send(ctx(t), "a", &sdk.OutboundMessage{Content: sdk.Content{Text: "spam"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "log drops", func() bool { return status(t, h, "testchan").LogDrops > 200 })
	n := strings.Count(logs.String(), "msg=spam")
	if n == 0 || n > 30 {
		t.Errorf("%d spam lines forwarded, want some and at most the burst", n)
	}
	if !strings.Contains(logs.String(), "plugin=testchan") {
		t.Errorf("log lines do not name the plugin:\n%s", logs.String())
	}
}

func TestReceiveSurvivesARestart(t *testing.T) {
	logs := &logBuffer{}
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	h := start(t, fast(pluginDir(t, bins.channel), logs))
	ch, _ := h.Channel("testchan")
	configure(t, ch, "a")
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	senders := map[string]int{}
	done := make(chan error, 1)
	go func() {
		done <- ch.Receive(c, "a", func(_ context.Context, r sdk.Received) error {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range r.Messages {
				senders[m.Sender]++
			}
			return nil
		})
	}()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(senders)
	}
	waitFor(t, 10*time.Second, "messages", func() bool { return count() == 1 })
	_ = syscall.Kill(status(t, h, "testchan").PID, syscall.SIGKILL)
	waitFor(t, 15*time.Second, "messages from the restarted plugin", func() bool { return count() == 2 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Receive = %v", err)
	}
}

func symlink(file, dir string) error {
	return os.Symlink(file, filepath.Join(dir, filepath.Base(file)))
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestSchemasAreEnforced: configurations, parameters and results that do
// not match the manifest's schemas are refused by the host with final
// errors that say where and what, never the value.
func TestSchemasAreEnforced(t *testing.T) {
	logs := &logBuffer{}
	h := start(t, fast(pluginDir(t, bins.channel, bins.integration), logs))
	ch, _ := h.Channel("testchan")
	var se *sdk.Error
	// The plugin itself would say "a token is required".
	if err := ch.Configure(ctx(t), "a", json.RawMessage(`{"token": 12345678}`)); !errors.As(err, &se) || se.Retryable ||
		se.Field != "/token" || err.Error() != "/token: must be string, not number" {
		t.Fatalf("Configure = %v", err)
	}

	in, _ := h.Integration("testint")
	const key = "short-but-secret-key"
	if err := in.Configure(ctx(t), json.RawMessage(`{"key": "`+key+`"}`)); !errors.As(err, &se) || se.Retryable ||
		se.Field != "/key" || err.Error() != "/key: must be at least 40 characters long" {
		t.Fatalf("integration Configure = %v", err)
	}
	if err := in.Configure(ctx(t), json.RawMessage(`{"key": "`+strings.Repeat("k", 40)+`"}`)); err != nil {
		t.Fatalf("integration Configure: %v", err)
	}
	// The plugin would take a number for an empty text.
	if _, err := in.Invoke(ctx(t), "act", json.RawMessage(`{"Text": 5}`), sdk.Conversation{}); !errors.As(err, &se) || se.Retryable ||
		err.Error() != `parameter "Text" must be string, not number` {
		t.Fatalf("Invoke with a bad parameter = %v", err)
	}
	if _, err := in.Invoke(ctx(t), "act", json.RawMessage(`{"Text": "badresult"}`), sdk.Conversation{}); !errors.As(err, &se) || se.Retryable ||
		err.Error() != "the plugin's result does not match the action's result schema: /out must be string, not number" {
		t.Fatalf("Invoke with a bad result = %v", err)
	}
	if out, err := in.Invoke(ctx(t), "act", json.RawMessage(`{"Text": "x"}`), sdk.Conversation{Bot: "b", InvocationID: "inv-2"}); err != nil ||
		string(out) != `{"bot":"b","id":"inv-2","out":"ok:x"}` {
		t.Fatalf("Invoke = %s, %v", out, err)
	}
	if strings.Contains(logs.String(), key) {
		t.Errorf("the refused secret is in the log")
	}
}

// TestSchemasOfANewManifest: a plugin whose schema does not compile is
// failed, and says why; a restart that brings a new manifest brings its
// schemas, and the configurations it no longer allows are not applied.
func TestSchemasOfANewManifest(t *testing.T) {
	logs := &logBuffer{}
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	schema := filepath.Join(t.TempDir(), "schema.json")
	write := func(s string) {
		if err := os.WriteFile(schema, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"type": "objekt"}`)
	cfg := fast(pluginDir(t, bins.channel, bins.integration), logs)
	cfg.Env = []string{"TESTPLUGIN_SCHEMA=" + schema}
	h := start(t, cfg)
	if s := status(t, h, "testchan"); s.State != host.StateFailed || !strings.Contains(s.LastError, "manifest: the config schema does not compile") {
		t.Fatalf("a plugin with a broken schema: %+v", s)
	}
	if s := status(t, h, "testint"); s.State != host.StateRunning {
		t.Fatalf("the other plugin: %+v", s)
	}

	write(`{"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}}`)
	h = start(t, cfg)
	ch, _ := h.Channel("testchan")
	configure(t, ch, "a")
	configure(t, ch, "xb")
	write(`{"type": "object", "required": ["token"], "properties": {"token": {"type": "string", "pattern": "-x"}}}`)
	pid := status(t, h, "testchan").PID
	_ = syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, 10*time.Second, "the restart", func() bool {
		s := status(t, h, "testchan")
		return s.State == host.StateRunning && s.PID != pid
	})
	if _, err := ch.Send(ctx(t), "xb", &sdk.OutboundMessage{Content: sdk.Content{Text: "hi"}}); err != nil {
		t.Errorf("an instance the new schema allows: %v", err)
	}
	if _, err := ch.Send(ctx(t), "a", &sdk.OutboundMessage{Content: sdk.Content{Text: "hi"}}); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("an instance the new schema refuses was configured: %v", err)
	}
	if !strings.Contains(logs.String(), "does not match its schema now") {
		t.Errorf("the instance left out was not logged")
	}
	if err := ch.Configure(ctx(t), "c", json.RawMessage(`{"token": "tok"}`)); err == nil || err.Error() != "/token: must match the pattern -x" {
		t.Errorf("Configure with the new schema = %v", err)
	}

	write(`{"type": "object", "properties": {"token": {"type": "string", "minLength": -1}}}`)
	pid = status(t, h, "testchan").PID
	_ = syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, 10*time.Second, "the plugin to fail", func() bool { return status(t, h, "testchan").State == host.StateFailed })
	if s := status(t, h, "testchan"); !strings.Contains(s.LastError, "does not compile") {
		t.Errorf("last error = %q", s.LastError)
	}
}

// TestGoPluginKeepsNoClient: the host's clients are its own, not in
// go-plugin's process-wide list of managed clients, which would keep one
// more with every restart for the life of the process (and which
// plugin.CleanupClients kills).
func TestGoPluginKeepsNoClient(t *testing.T) {
	logs := &logBuffer{}
	h := start(t, fast(pluginDir(t, bins.channel), logs))
	ch, _ := h.Channel("testchan")
	configure(t, ch, "a")
	pid := status(t, h, "testchan").PID
	_ = syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, 10*time.Second, "the restart", func() bool {
		s := status(t, h, "testchan")
		return s.State == host.StateRunning && s.PID != pid
	})
	pid = status(t, h, "testchan").PID
	plugin.CleanupClients()
	if gone(pid) {
		t.Fatal("go-plugin held the host's client: CleanupClients killed the plugin")
	}
	if _, err := ch.Send(ctx(t), "a", &sdk.OutboundMessage{Content: sdk.Content{Text: "hi"}}); err != nil {
		t.Fatal(err)
	}
	if s := status(t, h, "testchan"); s.PID != pid {
		t.Fatalf("the plugin was restarted: %+v", s)
	}
}

// TestFetchMedia: a channel's attachments come through its plugin, bounded
// by a timeout and a size, with its refusals and failures told apart and
// no secret in an error.
func TestFetchMedia(t *testing.T) {
	logs := &logBuffer{}
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	cfg := fast(pluginDir(t, bins.channel, bins.plain), logs)
	cfg.MediaTimeout = 500 * time.Millisecond
	cfg.MaxMediaSize = 1 << 20
	h := start(t, cfg)
	ch, _ := h.Channel("testchan")
	if !ch.FetchesMedia() {
		t.Fatal("the test plugin fetches media, its manifest says not")
	}
	configure(t, ch, "a")

	r, info, err := ch.FetchMedia(ctx(t), "a", "tp:receipt")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(b) != "file:receipt" || info != (sdk.MediaInfo{ContentType: "text/plain", Name: "receipt.txt", Size: 12}) {
		t.Fatalf("FetchMedia = %q, %+v, %v", b, info, err)
	}

	var se *sdk.Error
	_, _, err = ch.FetchMedia(ctx(t), "a", "https://169.254.169.254/latest/meta-data")
	if !errors.Is(err, sdk.ErrUnknownMedia) || !errors.As(err, &se) || se.Retryable {
		t.Errorf("a URL not the plugin's own: %v", err)
	}

	// A file over MaxMediaSize fails while it is read.
	r, _, err = ch.FetchMedia(ctx(t), "a", "tp:big")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r)
	r.Close()
	if !errors.Is(err, host.ErrMediaTooLarge) || n > 1<<20 {
		t.Errorf("a file over the limit: %d bytes, %v", n, err)
	}

	began := time.Now()
	_, _, err = ch.FetchMedia(ctx(t), "a", "tp:slow")
	if !host.IsTimeout(err) || time.Since(began) > 3*time.Second {
		t.Errorf("a fetch past MediaTimeout = %v after %v", err, time.Since(began))
	}

	// A careless plugin's error does not carry the configuration's secret.
	_, _, err = ch.FetchMedia(ctx(t), "a", "tp:leak")
	if err == nil || strings.Contains(err.Error(), "tok-secret-a") || !strings.Contains(err.Error(), host.Redacted) || !errors.As(err, &se) || se.Retryable {
		t.Errorf("a leaky error = %v", err)
	}

	// A channel without FetchMedia is told apart without a call.
	plain, _ := h.Channel("plainchan")
	if plain.FetchesMedia() || plain.Polling() {
		t.Error("a channel of sdk.Channel's calls only: its manifest says it polls or fetches media")
	}
	if _, _, err := plain.FetchMedia(ctx(t), "e", "tp:x"); !errors.Is(err, host.ErrNoMedia) {
		t.Errorf("FetchMedia of a channel that does not = %v", err)
	}
}
