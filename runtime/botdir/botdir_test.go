package botdir_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/botdir"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func write(t *testing.T, dir, name, src string, mod time.Time) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// Distinct modification times, whatever the file system's resolution.
	if err := os.Chtimes(p, mod, mod); err != nil {
		t.Fatal(err)
	}
}

func bot(greeting string) string {
	return "id: shop\nskills:\n  /start:\n    - text: " + greeting + "\n"
}

// TestChangesApplyOnlyWhenValid: an edit replaces the running bot once it
// validates; a broken edit is reported and the working version stays.
func TestChangesApplyOnlyWhenValid(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "shop.yaml", bot("v1"), t0)
	write(t, dir, "shop.test.yaml", "bot: shop.yaml\ntests: []\n", t0)
	write(t, dir, "notes.txt", "not a bot", t0)
	var applied []map[string]*flows.Bot
	reports := map[string]string{}
	d := botdir.New(dir, func(m map[string]*flows.Bot) { applied = append(applied, m) },
		func(file string, ds flows.Diagnostics) { reports[filepath.Base(file)] = ds.Error() })
	source := func() string {
		b := d.Bots()["shop"]
		if b == nil {
			return ""
		}
		return string(b.Source)
	}
	if changed, err := d.Scan(); err != nil || !changed || !strings.Contains(source(), "v1") {
		t.Fatalf("first scan: %v %v %q", changed, err, source())
	}
	if changed, _ := d.Scan(); changed {
		t.Fatal("a scan without changes applied something")
	}

	write(t, dir, "shop.yaml", "id: shop\nskills:\n  /start:\n    - txet: v2\n", t0.Add(time.Second))
	if changed, _ := d.Scan(); changed || !strings.Contains(source(), "v1") {
		t.Fatalf("a broken edit replaced the bot: %q", source())
	}
	if !strings.Contains(reports["shop.yaml"], `shop.yaml:4:7: unknown block type "txet"`) {
		t.Fatalf("broken edit not reported: %q", reports["shop.yaml"])
	}

	write(t, dir, "shop.yaml", bot("v3"), t0.Add(2*time.Second))
	if changed, _ := d.Scan(); !changed || !strings.Contains(source(), "v3") {
		t.Fatalf("a fixed edit did not apply: %q", source())
	}
	if reports["shop.yaml"] != "" {
		t.Fatalf("the fix did not clear the report: %q", reports["shop.yaml"])
	}
	if len(applied) != 2 {
		t.Fatalf("applied %d times", len(applied))
	}
}

func TestAddedAndRemovedFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "shop.yaml", bot("hi"), t0)
	d := botdir.New(dir, nil, nil)
	d.Scan()
	write(t, dir, "other.json", `{"id": "other", "skills": {"/start": [{"text": "x"}]}}`, t0)
	d.Scan()
	if len(d.Bots()) != 2 {
		t.Fatalf("bots: %v", d.Bots())
	}
	os.Remove(filepath.Join(dir, "shop.yaml"))
	if changed, _ := d.Scan(); !changed || len(d.Bots()) != 1 || d.Bots()["other"] == nil {
		t.Fatalf("after removing: %v", d.Bots())
	}
}

func TestDuplicateIDsAreRefused(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", bot("a"), t0)
	write(t, dir, "b.yaml", bot("b"), t0)
	var report string
	d := botdir.New(dir, nil, func(file string, ds flows.Diagnostics) { report += ds.Error() })
	d.Scan()
	if len(d.Bots()) != 1 || !strings.Contains(report, `bot id "shop" is already used`) {
		t.Fatalf("bots %v, report %q", d.Bots(), report)
	}
}

func TestWatchStops(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "shop.yaml", bot("v1"), t0)
	d := botdir.New(dir, nil, nil)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { d.Watch(5*time.Millisecond, stop, nil); close(done) }()
	for i := 0; i < 200 && d.Bots()["shop"] == nil; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if d.Bots()["shop"] == nil {
		t.Fatal("watch never scanned")
	}
	close(stop)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("watch did not stop")
	}
}

// TestMovedBotRunsFromItsNewFile: a bot moved to a file of another name
// (shop.yaml → shop.json) runs from the new file once the old one is gone,
// even though the new file did not change in between.
func TestMovedBotRunsFromItsNewFile(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "shop.yaml", bot("old"), t0)
	d := botdir.New(dir, nil, nil)
	d.Scan()
	write(t, dir, "shop.json", `{"id": "shop", "skills": {"/start": [{"text": "new"}]}}`, t0)
	d.Scan() // refused: shop.yaml still runs shop
	os.Remove(filepath.Join(dir, "shop.yaml"))
	if changed, _ := d.Scan(); !changed || !strings.Contains(string(d.Bots()["shop"].Source), "new") {
		t.Fatalf("after the move: %v", d.Bots())
	}
}
