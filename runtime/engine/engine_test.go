package engine_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func load(t *testing.T, src string) *flows.Bot {
	t.Helper()
	bot, ds := flows.Load("t.yaml", []byte(src))
	if bot == nil {
		t.Fatal(ds)
	}
	return bot
}

func say(e *engine.Engine, bot *flows.Bot, sess *flows.Session, c *flows.Contact, text string) *flows.Sprint {
	return e.Step(engine.Input{Bot: bot, Session: sess, Contact: c, Event: flows.Event{Kind: flows.EventMessage, Message: &flows.Content{Text: text}}, Now: t0, Seed: 7})
}

func texts(sp *flows.Sprint) string {
	var out []string
	for _, m := range sp.Messages {
		out = append(out, m.Text)
	}
	return strings.Join(out, "|")
}

const errorSkill = `
  /_error:
    - text: "error: {{ error.message }}"
`

func TestMemoryBudgetRoutesToError(t *testing.T) {
	bot := load(t, `
id: mem
skills:
  /start:
    - data: {big: 'map(1..1000000, # * 2)'}
    - text: never
`+errorSkill)
	sp := say(engine.New(nil), bot, nil, &flows.Contact{ID: "c"}, "hi")
	if got := texts(sp); !strings.HasPrefix(got, "error: ") || !strings.Contains(got, "memory budget") {
		t.Fatalf("got %q", got)
	}
}

func TestStepLimitRoutesToErrorOnce(t *testing.T) {
	bot := load(t, `
id: loop
settings: {max_blocks: 20}
skills:
  /start:
    - text: again
      next: /start
`+errorSkill)
	sp := say(engine.New(nil), bot, nil, &flows.Contact{ID: "c"}, "hi")
	msgs := sp.Messages
	if len(msgs) == 0 || !strings.Contains(msgs[len(msgs)-1].Text, "too many blocks") {
		t.Fatalf("last message: %q", texts(sp))
	}
	if n := len(msgs); n > 21 {
		t.Fatalf("%d messages: the limit did not stop the loop", n)
	}
}

func TestMessagesPerStepAreBounded(t *testing.T) {
	bot := load(t, `
id: chatty
skills:
  /start:
    - text: x
      next: /start
`)
	e := engine.New(nil)
	sp := say(e, bot, nil, &flows.Contact{ID: "c"}, "hi")
	if len(sp.Messages) > engine.DefaultLimits.MaxMessages {
		t.Fatalf("%d messages in one step", len(sp.Messages))
	}
}

// TestStepIsDeterministic: the same session, event, clock and seed give
// the same sprint, random variants included.
func TestStepIsDeterministic(t *testing.T) {
	bot := load(t, `
id: det
skills:
  /start:
    - text: [a, b, c, d, e, f, g]
    - text: "{{ now }}"
    - listen: x
      timeout: 5m
`)
	e := engine.New(nil)
	var first []byte
	for i := 0; i < 5; i++ {
		sp := say(e, bot, nil, &flows.Contact{ID: "c"}, "hi")
		b, err := json.Marshal(sp)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if string(b) != string(first) {
			t.Fatalf("run %d differs:\n%s\n%s", i, b, first)
		}
	}
}

// TestStaleTimerIsIgnored: a timeout set for a wait the session has left
// does nothing when it fires, even after the session was stored and loaded.
func TestStaleTimerIsIgnored(t *testing.T) {
	bot := load(t, `
id: stale
skills:
  /start:
    - listen: a
      timeout: 1m
      on_timeout: late
    - text: "got {{ a }}"
    - listen: b
  late:
    - text: timed out
`)
	e := engine.New(nil)
	c := &flows.Contact{ID: "c"}
	sp := say(e, bot, nil, c, "hi")
	if len(sp.Timers) != 1 {
		t.Fatalf("timers: %+v", sp.Timers)
	}
	timer := sp.Timers[0]
	sp = say(e, bot, sp.Session, sp.Contact, "x")
	if texts(sp) != "got x" || len(sp.CancelTimers) != 1 || sp.CancelTimers[0] != timer.ID {
		t.Fatalf("reply: %q cancel %v", texts(sp), sp.CancelTimers)
	}
	b, err := flows.MarshalSession(sp.Session)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := flows.UnmarshalSession(b)
	if err != nil {
		t.Fatal(err)
	}
	sp = e.Step(engine.Input{Bot: bot, Session: sess, Contact: sp.Contact, Event: flows.Event{Kind: flows.EventTimer, Timer: &timer}, Now: timer.Due})
	if !sp.Ignored || len(sp.Messages) != 0 {
		t.Fatalf("stale timer acted: %+v", sp)
	}
}

// TestEventsWithoutContentDoNotPanic: malformed events from a channel are
// ignored, never a crash.
func TestEventsWithoutContentDoNotPanic(t *testing.T) {
	bot := load(t, "id: e\nskills:\n  /start:\n    - listen: a\n")
	e := engine.New(nil)
	c := &flows.Contact{ID: "c"}
	for _, ev := range []flows.Event{
		{Kind: flows.EventMessage},
		{Kind: flows.EventTimer},
		{Kind: flows.EventTimer, Timer: &flows.Timer{Kind: flows.TimerEvent}},
		{Kind: flows.EventHandover, Outcome: "weird"},
		{Kind: flows.EventNamed},
		{Kind: "unknown"},
	} {
		e.Step(engine.Input{Bot: bot, Contact: c, Event: ev, Now: t0})
	}
}
