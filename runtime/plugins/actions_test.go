package plugins

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/plugins/host"
	"github.com/switchboard-bots/switchboard/runtime/convo"
	"github.com/switchboard-bots/switchboard/runtime/engine"
)

// startIntegration builds plugins/host's test integration (action act:
// {"Text"} → {"out", "bot", "id"}, declared with schemas) and runs it in a
// host.
func startIntegration(t *testing.T) *host.Host {
	t.Helper()
	return startTestPlugin(t, "testint", "-X main.kind=integration -X main.name=testint")
}

// startTestPlugin builds plugins/host's test plugin into name, with
// ldflags, and runs it in a host.
func startTestPlugin(t *testing.T, name, ldflags string) *host.Host {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, name), "-ldflags", ldflags, "../../plugins/host/testdata/testplugin")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test plugin: %v\n%s", err, out)
	}
	h, err := host.New(host.Config{Dir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Close(ctx)
	})
	return h
}

// TestActionBlockThroughAPlugin: an ACTION block's call reaches the plugin
// with the engine's call id; parameters the action's schema refuses never
// reach it and take the block's error branch, with the reason saved in
// words.
func TestActionBlockThroughAPlugin(t *testing.T) {
	h := startIntegration(t)
	bot, ds := flows.Load("b.yaml", []byte(`id: b
skills:
  /start:
    - action: testint.act
      with: {Text: '"x"'}
      save: res
    - text: "{{ res.out }} {{ res.id }}"
    - action: testint.act
      with: {Text: 5}
      save_error: why
      on_error: failed
    - text: not reached
  failed:
    - text: "failed: {{ why }}"
    - action: testint.act
      save_error: why
      on_error: nothing
  nothing:
    - text: "{{ why }}"
`))
	if bot == nil {
		t.Fatal(ds.Error())
	}
	eng := engine.New(nil)
	eng.Actions = Actions{Host: h}
	c := convo.New(bot, eng, &flows.Contact{ID: "c1", Channel: "test"}, time.Now())
	ms, err := c.Say("hi")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Text)
	}
	want := []string{
		"ok:x " + flows.CallID("b", "c1", "1"),
		`failed: testint.act: parameter "Text" must be string, not number`,
		// No parameters are an empty object.
		`testint.act: parameter "Text" is required`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the bot said %q, want %q", got, want)
	}
}
