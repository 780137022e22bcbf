package flows_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
)

// FuzzLoad feeds arbitrary bytes to the loader and, when they load, runs the
// bot for one message and one event. Nothing may panic; every diagnostic must
// have a position; a bot comes back exactly when there is no error.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"testdata/diagnostics/*", "examples/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("id: x\nskills: {/start: [{text: hi}]}"))
	f.Add([]byte("&a [*a]"))
	eng := engine.New(nil)
	f.Fuzz(func(t *testing.T, src []byte) {
		bot, ds := flows.Load("fuzz.yaml", src)
		for _, d := range ds {
			if d.Line < 1 || d.Col < 1 || d.Message == "" {
				t.Fatalf("diagnostic without position or message: %#v", d)
			}
		}
		if (bot == nil) != ds.HasErrors() {
			t.Fatalf("bot=%v but errors=%v: %v", bot != nil, ds.HasErrors(), ds)
		}
		if bot == nil {
			return
		}
		c := &flows.Contact{ID: "f"}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		sp := eng.Step(engine.Input{Bot: bot, Contact: c, Event: flows.Event{Kind: flows.EventMessage, Message: &flows.Content{Text: "hi"}}, Now: now})
		sp = eng.Step(engine.Input{Bot: bot, Session: sp.Session, Contact: sp.Contact, Event: flows.Event{Kind: flows.EventNamed, Name: "page_visit"}, Now: now})
		for _, tm := range sp.Timers {
			eng.Step(engine.Input{Bot: bot, Session: sp.Session, Contact: sp.Contact, Event: flows.Event{Kind: flows.EventTimer, Timer: &tm}, Now: tm.Due})
			break
		}
	})
}
