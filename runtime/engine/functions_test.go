package engine_test

import (
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
)

// TestDocumentedFunctions evaluates the example of every helper function,
// checks its documented result, and checks docs/expressions.md shows it.
func TestDocumentedFunctions(t *testing.T) {
	doc, err := os.ReadFile("../../docs/expressions.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range flows.Functions {
		src := "id: fn\nskills:\n  /start:\n    - text: '{{ " + strings.ReplaceAll(f.Example, "'", "''") + " }}'\n"
		bot, ds := flows.Load("fn.yaml", []byte(src))
		if bot == nil {
			t.Fatalf("%s: %v", f.Name, ds)
		}
		sp := engine.New(nil).Step(engine.Input{Bot: bot, Contact: &flows.Contact{ID: "c"}, Event: flows.Event{Kind: flows.EventMessage, Message: &flows.Content{Text: "hi"}}, Now: time.Now()})
		if len(sp.Messages) != 1 {
			t.Fatalf("%s: no message: %+v", f.Name, sp.Trace)
		}
		want := strings.Trim(f.Result, `"`)
		if got := sp.Messages[0].Text; got != want {
			t.Errorf("%s: %s = %q, documented %q", f.Name, f.Example, got, want)
		}
		row := "| `" + f.Signature[:strings.IndexByte(f.Signature, ')')+1] + "` | " + f.Doc + " | `" + f.Example + "` | `" + f.Result + "` |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/expressions.md lacks the row:\n%s", row)
		}
	}
}

// TestDateInBotTimeZone: date() parses in the bot's time zone, and methods
// can be called on its result.
func TestDateInBotTimeZone(t *testing.T) {
	src := `id: tz
timezone: America/New_York
skills:
  /start:
    - text: "{{ date('2026-03-10').Year() }} {{ date('2026-03-10 09:00', '2006-01-02 15:04').UTC().Hour() }} {{ date('2026-07-01').Format('MST') }}"
`
	bot, ds := flows.Load("tz.yaml", []byte(src))
	if bot == nil {
		t.Fatal(ds)
	}
	sp := engine.New(nil).Step(engine.Input{Bot: bot, Contact: &flows.Contact{ID: "c"}, Event: flows.Event{Kind: flows.EventMessage, Message: &flows.Content{Text: "hi"}}, Now: time.Now()})
	if len(sp.Messages) != 1 || sp.Messages[0].Text != "2026 13 EDT" {
		t.Fatalf("got %+v %+v", sp.Messages, sp.Trace)
	}
}

func TestRepeatIsBounded(t *testing.T) {
	bot, ds := flows.Load("r.yaml", []byte(`id: r
skills:
  /start:
    - text: "{{ repeat('ab', 3) }}"
    - text: "{{ repeat('x', 100000000) }}"
  /_error:
    - text: "error: {{ error.message }}"
`))
	if bot == nil {
		t.Fatal(ds)
	}
	sp := engine.New(nil).Step(engine.Input{Bot: bot, Contact: &flows.Contact{ID: "c"}, Event: flows.Event{Kind: flows.EventMessage, Message: &flows.Content{Text: "hi"}}, Now: time.Now()})
	if len(sp.Messages) != 2 || sp.Messages[0].Text != "ababab" || !strings.Contains(sp.Messages[1].Text, "at most 65536 characters") {
		t.Fatalf("got %+v", sp.Messages)
	}
}
