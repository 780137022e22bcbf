package engine_test

import (
	"testing"
	"time"

	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
)

// benchBot's steady state handles each message with the sprint the
// performance target names: LISTEN resumes, SWITCH with a regex case, DATA,
// TEXT, then TEXT with a template and LISTEN waits again.
const benchBot = `
id: bench
skills:
  /start:
    - text: "Hi {{ contact.name }}, what can I do for you?"
      id: ask
    - listen: question
    - switch:
        - {if: 'question matches "(?i)\\border\\b"', goto: order}
        - {else: other}
  order:
    - data: {asked: '(asked ?? 0) + 1'}
    - text: "Order question {{ asked }} noted."
      next: ask
  other:
    - text: Noted.
      next: ask
`

func loadBench(tb testing.TB) *flows.Bot {
	bot, ds := flows.Load("bench.yaml", []byte(benchBot))
	if bot == nil {
		tb.Fatal(ds)
	}
	return bot
}

// BenchmarkStep measures one message through the engine on one goroutine,
// with the session decoded before and encoded after the step, as the
// runtime does. msgs/s is the figure docs/performance.md records.
func BenchmarkStep(b *testing.B) {
	bot := loadBench(b)
	eng := engine.New(nil)
	contact := &flows.Contact{ID: "c1", Name: "Ann"}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	msg := flows.Content{Text: "where is my order?"}
	sp := eng.Step(engine.Input{Bot: bot, Contact: contact, Event: flows.Event{Kind: flows.EventMessage, Message: &flows.Content{Text: "hi"}}, Now: now})
	buf, err := flows.AppendSession(nil, sp.Session)
	if err != nil {
		b.Fatal(err)
	}
	contact = sp.Contact
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		sess, err := flows.UnmarshalSession(buf)
		if err != nil {
			b.Fatal(err)
		}
		m := msg
		sp := eng.Step(engine.Input{Bot: bot, Session: sess, Contact: contact, Event: flows.Event{Kind: flows.EventMessage, Message: &m}, Now: now, Seed: uint64(i)})
		if len(sp.Messages) != 2 {
			b.Fatalf("step sent %d messages: %+v", len(sp.Messages), sp.Trace)
		}
		buf, err = flows.AppendSession(buf[:0], sp.Session)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

func TestBenchBotSprint(t *testing.T) {
	bot := loadBench(t)
	eng := engine.New(nil)
	contact := &flows.Contact{ID: "c1", Name: "Ann"}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	sp := eng.Step(engine.Input{Bot: bot, Contact: contact, Event: flows.Event{Kind: flows.EventMessage, Message: &flows.Content{Text: "hi"}}, Now: now})
	sp = eng.Step(engine.Input{Bot: bot, Session: sp.Session, Contact: sp.Contact, Event: flows.Event{Kind: flows.EventMessage, Message: &flows.Content{Text: "my ORDER please"}}, Now: now, Trace: true})
	var types []string
	for _, tr := range sp.Trace {
		types = append(types, tr.Type)
	}
	if got := types; len(got) != 6 || got[0] != "listen" || got[1] != "switch" || got[2] != "data" || got[3] != "text" || got[4] != "text" || got[5] != "listen" {
		t.Fatalf("sprint ran %v", got)
	}
	if sp.Messages[0].Text != "Order question 1 noted." || sp.Messages[1].Text != "Hi Ann, what can I do for you?" {
		t.Fatalf("messages: %+v", sp.Messages)
	}
}
