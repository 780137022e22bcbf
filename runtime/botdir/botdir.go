// Package botdir runs the bots of a folder: it loads every bot file in it,
// and while running notices files that change, appear or disappear. A file
// that changed is loaded and validated first; only a version without errors
// replaces the running one, so a half-saved or broken edit never takes a
// working bot down.
package botdir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// MaxFiles bounds the files of a bots folder that are considered.
const MaxFiles = 1000

// Dir is a folder of bots.
type Dir struct {
	path string
	// Apply receives the full set of running bots after every change.
	apply func(map[string]*flows.Bot)
	// Report receives the diagnostics of a file that did not load (the bot
	// it would have replaced, if any, keeps running), or nil once it loads.
	report func(file string, ds flows.Diagnostics)

	mu    sync.Mutex
	files map[string]*entry // by path
}

type entry struct {
	mod  time.Time
	size int64
	bot  *flows.Bot // the running version loaded from this file, if any
	bad  bool       // the file's current version has errors
	// dup is set when the file was refused because another file runs a
	// bot with its id: it is tried again at every scan, since the other
	// file may go away (a bot moved from shop.yaml to shop.json).
	dup bool
}

// New returns a Dir; Scan loads it.
func New(path string, apply func(map[string]*flows.Bot), report func(string, flows.Diagnostics)) *Dir {
	return &Dir{path: path, apply: apply, report: report, files: map[string]*entry{}}
}

// Bots returns the running bots.
func (d *Dir) Bots() map[string]*flows.Bot {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.running()
}

func (d *Dir) running() map[string]*flows.Bot {
	out := map[string]*flows.Bot{}
	for _, e := range d.files {
		if e.bot != nil {
			out[e.bot.ID] = e.bot
		}
	}
	return out
}

// IsBotFile reports whether a file name is a bot file (not a test file).
func IsBotFile(name string) bool {
	ext := filepath.Ext(name)
	return !strings.HasSuffix(name, ".test.yaml") && (ext == ".yaml" || ext == ".yml" || ext == ".json")
}

// Scan looks at the folder once: new and changed files are loaded, removed
// files stop their bots. It calls Apply when the running set changed and
// reports whether it did.
func (d *Dir) Scan() (bool, error) {
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return false, fmt.Errorf("reading the bots folder: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[string]bool{}
	changed := false
	n := 0
	for _, de := range entries {
		if de.IsDir() || !IsBotFile(de.Name()) {
			continue
		}
		if n++; n > MaxFiles {
			break
		}
		path := filepath.Join(d.path, de.Name())
		seen[path] = true
		info, err := de.Info()
		if err != nil {
			continue // removed while listing: the next scan sees it gone
		}
		e := d.files[path]
		if e != nil && e.mod.Equal(info.ModTime()) && e.size == info.Size() && !e.dup {
			continue
		}
		if e == nil {
			e = &entry{}
			d.files[path] = e
		}
		e.mod, e.size = info.ModTime(), info.Size()
		if d.load(path, e) {
			changed = true
		}
	}
	removedBot := false
	for path, e := range d.files {
		if !seen[path] {
			delete(d.files, path)
			if e.bot != nil {
				changed, removedBot = true, true
			}
		}
	}
	if removedBot {
		// A file refused as a duplicate may run now that the other is gone.
		for path, e := range d.files {
			if e.dup && d.load(path, e) {
				changed = true
			}
		}
	}
	if changed && d.apply != nil {
		d.apply(d.running())
	}
	return changed, nil
}

// load loads one file; it reports whether the running set changed.
func (d *Dir) load(path string, e *entry) bool {
	bot, ds := flows.LoadFile(path)
	if bot == nil {
		e.bad = true
		if d.report != nil {
			d.report(path, ds)
		}
		return false
	}
	for other, o := range d.files {
		if other != path && o.bot != nil && o.bot.ID == bot.ID {
			// Reported once; retried quietly while the other file runs.
			if !e.dup && d.report != nil {
				d.report(path, flows.Diagnostics{{File: path, Line: 1, Col: 1, Severity: flows.SevError,
					Message: fmt.Sprintf("bot id %q is already used by %s: give this bot another id", bot.ID, other)}})
			}
			e.bad, e.dup = true, true
			return false
		}
	}
	wasBad := e.bad
	e.bad, e.dup = false, false
	if d.report != nil && (wasBad || len(ds) > 0) {
		d.report(path, ds)
	}
	e.bot = bot
	return true
}

// Watch scans every interval until stop is closed. The caller owns the
// goroutine it runs in.
func (d *Dir) Watch(interval time.Duration, stop <-chan struct{}, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if _, err := d.Scan(); err != nil && onErr != nil {
				onErr(err)
			}
		}
	}
}
