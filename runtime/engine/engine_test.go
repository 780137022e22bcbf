package engine_test

import (
	"encoding/json"
	"reflect"
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

// TestTraceOnRequest: the sprint lists the blocks a step ran only when
// asked, and a step that ran blocks without sending is not ignored either
// way.
func TestTraceOnRequest(t *testing.T) {
	bot := load(t, "id: quiet\nskills:\n  /start:\n    - listen: a\n")
	e := engine.New(nil)
	for _, trace := range []bool{false, true} {
		sp := e.Step(engine.Input{Bot: bot, Contact: &flows.Contact{ID: "c"}, Event: msg("hi", ""), Now: t0, Trace: trace})
		if sp.Ignored || sp.Session.Wait == nil {
			t.Fatalf("trace %v: the listen did not run: ignored=%v wait=%+v", trace, sp.Ignored, sp.Session.Wait)
		}
		if want := map[bool]int{false: 0, true: 1}[trace]; len(sp.Trace) != want {
			t.Fatalf("trace %v: %d entries, want %d: %+v", trace, len(sp.Trace), want, sp.Trace)
		}
	}
}

// TestInputContactIsNeverChanged: the step changes its own copy of the
// contact, made at the first change, and leaves the caller's as it was
// (the runtime's cache holds it).
func TestInputContactIsNeverChanged(t *testing.T) {
	bot := load(t, `
id: tags
skills:
  /start:
    - listen: a
    - add_tag: vip
    - remove_tag: old
    - status: busy
    - data: {contact.plan: "'gold'", contact.name: "'Bo'"}
    - text: "{{ contact.name }} {{ contact.plan }} {{ contact.tags }} {{ contact.status }}"
`)
	e := engine.New(nil)
	in := &flows.Contact{ID: "c", Name: "Ann", Tags: []string{"old", "new"}, Attributes: map[string]any{"plan": "free"}}
	sp := e.Step(engine.Input{Bot: bot, Contact: in, Event: msg("hi", ""), Now: t0})
	if sp.Contact != in || sp.ContactDirty {
		t.Fatalf("a step that changed nothing copied the contact: dirty=%v", sp.ContactDirty)
	}
	sp = e.Step(engine.Input{Bot: bot, Session: sp.Session, Contact: in, Event: msg("go", ""), Now: t0})
	if got := texts(sp); got != `Bo gold ["new","vip"] busy` {
		t.Fatalf("said %q", got)
	}
	if in.Name != "Ann" || in.Status != "" || !reflect.DeepEqual(in.Tags, []string{"old", "new"}) || in.Attributes["plan"] != "free" {
		t.Fatalf("the caller's contact changed: %+v", in)
	}
	if c := sp.Contact; c == in || !sp.ContactDirty || c.Name != "Bo" || c.Attributes["plan"] != "gold" || c.Status != "busy" {
		t.Fatalf("the step's contact: %+v", c)
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

func step(e *engine.Engine, bot *flows.Bot, sp *flows.Sprint, ev flows.Event, now time.Time) *flows.Sprint {
	var sess *flows.Session
	c := &flows.Contact{ID: "c"}
	if sp != nil {
		sess, c = sp.Session, sp.Contact
	}
	return e.Step(engine.Input{Bot: bot, Session: sess, Contact: c, Event: ev, Now: now, Trace: true})
}

func msg(text, payload string) flows.Event {
	return flows.Event{Kind: flows.EventMessage, Message: &flows.Content{Text: text, Payload: payload}}
}

func TestWaitsBeyondTenYearsFail(t *testing.T) {
	bot := load(t, `
id: far
skills:
  /start:
    - listen: day
    - waituntil: 'date(day)'
    - text: never
`+errorSkill)
	e := engine.New(nil)
	sp := step(e, bot, nil, msg("hi", ""), t0)
	sp = step(e, bot, sp, msg("2999-01-01", ""), t0)
	if got := texts(sp); !strings.Contains(got, "error: ") || !strings.Contains(got, "10 years") || len(sp.Timers) != 0 {
		t.Fatalf("got %q, timers %+v", got, sp.Timers)
	}
	if _, ds := flows.Load("t.yaml", []byte("id: x\nskills:\n  /start:\n    - timer: 100000d\n")); !strings.Contains(ds.Error(), "10 years") {
		t.Fatalf("a 100000-day timer loads: %v", ds)
	}
}

// TestEventDataIsStorable: values only expressions produce ([]int) are
// made storable before they reach timers, notifications and handovers.
func TestEventDataIsStorable(t *testing.T) {
	bot := load(t, `
id: data
skills:
  /start:
    - send: later
      delay: 1h
      with: {r: '1..3'}
    - trigger: note
      with: {r: '1..2'}
    - live_chat: support
      form: {r: '1..1'}
`)
	sp := step(engine.New(nil), bot, nil, msg("hi", ""), t0)
	if len(sp.Timers) != 1 || sp.Handover == nil || len(sp.Notifications) != 1 {
		t.Fatalf("effects: %+v", sp)
	}
	for _, v := range []any{sp.Timers[0].Event.Data["r"], sp.Notifications[0].Data["r"], sp.Handover.Form["r"]} {
		if _, ok := v.([]any); !ok {
			t.Fatalf("value %#v is %T, want []any", v, v)
		}
	}
	if _, err := flows.AppendTimer(nil, &sp.Timers[0]); err != nil {
		t.Fatalf("timer cannot be stored: %v", err)
	}
}

// TestReplyBeforeStartResumesTheWait: a question asked by /_page_visit
// before the contact's first message gets its answer, not /start.
func TestReplyBeforeStartResumesTheWait(t *testing.T) {
	bot := load(t, `
id: pv
skills:
  /start:
    - text: greeting
  /_page_visit:
    - text: What brings you here?
    - listen: reason
    - text: "Noted: {{ reason }}"
`)
	e := engine.New(nil)
	sp := step(e, bot, nil, flows.Event{Kind: flows.EventNamed, Name: "page_visit"}, t0)
	sp = step(e, bot, sp, msg("pricing", ""), t0)
	if texts(sp) != "Noted: pricing" {
		t.Fatalf("got %q", texts(sp))
	}
	if sp = step(e, bot, sp, msg("hello", ""), t0); texts(sp) != "greeting" {
		t.Fatalf("first unprompted message: %q", texts(sp))
	}
}

// TestOfferedChoicesAreTheLatestShown: every button of the latest step's
// messages can be tapped; buttons of earlier steps cannot.
func TestOfferedChoicesAreTheLatestShown(t *testing.T) {
	bot := load(t, `
id: offers
skills:
  /start:
    - text: first
      buttons: [{title: A, goto: a}]
    - text: second
      buttons: [{title: B, goto: b}]
  a:
    - text: in a
      buttons: [{title: Old, goto: b}]
    - text: no buttons here
  b:
    - text: in b
  /default:
    - text: default
      buttons: [{title: Menu, goto: /start}]
`)
	e := engine.New(nil)
	sp := step(e, bot, nil, msg("hi", ""), t0)
	if sp = step(e, bot, sp, msg("A", ""), t0); !strings.HasPrefix(texts(sp), "in a") {
		t.Fatalf("tapping the first message's button: %q", texts(sp))
	}
	// A message without buttons leaves the last choices standing.
	if sp = step(e, bot, sp, msg("Old", ""), t0); texts(sp) != "in b" {
		t.Fatalf("a button above a plain message: %q", texts(sp))
	}
	sp = step(e, bot, sp, msg("anything", ""), t0) // /default offers new choices
	if sp = step(e, bot, sp, msg("Old", ""), t0); texts(sp) != "default" {
		t.Fatalf("a button of an earlier step still works: %q", texts(sp))
	}
}

// TestGotoButtonLeavesCalledSkills: a goto button starts afresh, so the end
// of its target does not return into a skill entered by RUN earlier.
func TestGotoButtonLeavesCalledSkills(t *testing.T) {
	bot := load(t, `
id: runbtn
skills:
  /start:
    - run: menu
    - text: back in start
  menu:
    - text: pick
      buttons: [{title: Go, goto: other}]
    - listen: x
  other:
    - text: in other
`)
	e := engine.New(nil)
	sp := step(e, bot, nil, msg("hi", ""), t0)
	if sp = step(e, bot, sp, msg("Go", ""), t0); texts(sp) != "in other" {
		t.Fatalf("got %q", texts(sp))
	}
}

// TestTimersOfOneStep: a timer set and ended within one step is never set,
// and a fired timer is always cancelled, even when stale.
func TestTimersOfOneStep(t *testing.T) {
	bot := load(t, `
id: timers
skills:
  /start:
    - send: go
    - listen: x
      timeout: 1h
  caught:
    - catch: go
    - text: caught
`)
	e := engine.New(nil)
	sp := step(e, bot, nil, msg("hi", ""), t0)
	if texts(sp) != "caught" || len(sp.Timers) != 0 || len(sp.CancelTimers) != 0 {
		t.Fatalf("got %q timers %+v cancel %v", texts(sp), sp.Timers, sp.CancelTimers)
	}
	stale := flows.Timer{ID: "c/w99", Contact: "c", Due: t0, Kind: flows.TimerWait, Seq: 99}
	sp = step(e, bot, sp, flows.Event{Kind: flows.EventTimer, Timer: &stale}, t0)
	if !sp.Ignored || len(sp.CancelTimers) != 1 || sp.CancelTimers[0] != "c/w99" {
		t.Fatalf("stale timer: ignored=%v cancel=%v", sp.Ignored, sp.CancelTimers)
	}
}

// TestLiveChatTimeoutClosesTheHandover: when the bot stops waiting for a
// handover, the sprint says so, so the runtime can close the request.
func TestLiveChatTimeoutClosesTheHandover(t *testing.T) {
	bot := load(t, `
id: lc
skills:
  /start:
    - live_chat: support
      timeout: 1h
    - text: back
`)
	e := engine.New(nil)
	sp := step(e, bot, nil, msg("hi", ""), t0)
	if sp.Handover == nil || len(sp.Timers) != 1 {
		t.Fatalf("%+v", sp)
	}
	tm := sp.Timers[0]
	sp = step(e, bot, sp, flows.Event{Kind: flows.EventTimer, Timer: &tm}, tm.Due)
	if sp.HandoverEnd != flows.HandoverTimeout || texts(sp) != "back" {
		t.Fatalf("handover end %q, said %q", sp.HandoverEnd, texts(sp))
	}
}

func TestTooManyMessagesRouteToError(t *testing.T) {
	bot := load(t, `
id: chatty
settings: {max_blocks: 500}
skills:
  /start:
    - text: x
      next: /start
`+errorSkill)
	sp := step(engine.New(nil), bot, nil, msg("hi", ""), t0)
	var failed bool
	for _, tr := range sp.Trace {
		if strings.Contains(tr.Error, "more than 50 messages") {
			failed = true
		}
	}
	if !failed {
		t.Fatalf("no failure in trace: %+v", sp.Trace[len(sp.Trace)-1])
	}
}

func TestPayloadSentAsTextTapsTheButton(t *testing.T) {
	bot := load(t, `
id: pay
skills:
  /start:
    - text: pick
      buttons: [{title: Track my order, goto: track}, {title: Maybe, payload: maybe}]
    - listen: answer
    - text: "answer {{ answer }}"
  track:
    - text: tracking
`)
	e := engine.New(nil)
	sp := step(e, bot, nil, msg("hi", ""), t0)
	if got := texts(step(e, bot, sp, msg("track", ""), t0)); got != "tracking" {
		t.Fatalf("goto payload as text: %q", got)
	}
	sp = step(e, bot, nil, msg("hi", ""), t0) // Step took the first session over
	if got := texts(step(e, bot, sp, msg("maybe", ""), t0)); got != "answer maybe" {
		t.Fatalf("postback payload as text: %q", got)
	}
}

// TestEventSkillReturnsToTheInterruptedWait: a page visit whose skill has
// nothing to say does not lose the question the bot was waiting on; one
// that talks starts a new turn and replaces it.
func TestEventSkillReturnsToTheInterruptedWait(t *testing.T) {
	bot := load(t, `
id: interrupt
skills:
  /start:
    - text: Which topic?
    - listen: topic
      timeout: 10m
      on_timeout: late
    - text: "topic {{ topic }}"
  late:
    - text: too late
  /_page_visit:
    - switch:
        - {if: 'event.data.url == "/pricing"', goto: pricing}
  pricing:
    - text: Want a quote?
    - listen: quote
`)
	e := engine.New(nil)
	pv := func(url string) flows.Event {
		return flows.Event{Kind: flows.EventNamed, Name: "page_visit", Data: map[string]any{"url": url}}
	}
	sp := step(e, bot, nil, msg("hi", ""), t0)
	timer := sp.Timers[0]
	sp = step(e, bot, sp, pv("/about"), t0)
	if len(sp.Messages) != 0 || len(sp.CancelTimers) != 0 {
		t.Fatalf("a silent page visit did something: %+v", sp)
	}
	if got := texts(step(e, bot, sp, msg("shipping", ""), t0)); got != "topic shipping" {
		t.Fatalf("after a silent page visit the answer went to %q", got)
	}

	// The interrupted wait's timer is still the live one.
	sp = step(e, bot, nil, msg("hi", ""), t0)
	timer = sp.Timers[0]
	sp = step(e, bot, sp, pv("/about"), t0)
	if got := texts(step(e, bot, sp, flows.Event{Kind: flows.EventTimer, Timer: &timer}, timer.Due)); got != "too late" {
		t.Fatalf("the interrupted wait's timeout: %q", got)
	}

	// A page visit that starts its own exchange replaces the question.
	sp = step(e, bot, nil, msg("hi", ""), t0)
	timer = sp.Timers[0]
	sp = step(e, bot, sp, pv("/pricing"), t0)
	if texts(sp) != "Want a quote?" || len(sp.CancelTimers) != 1 || sp.CancelTimers[0] != timer.ID {
		t.Fatalf("pricing visit: %q cancel %v", texts(sp), sp.CancelTimers)
	}
}

// TestSkillAsideDuringLiveChat: an agent sends a skill as the answer; the
// bot says it and the conversation stays with the agent.
func TestSkillAsideDuringLiveChat(t *testing.T) {
	bot := load(t, `
id: lc
skills:
  /start:
    - live_chat: support
      timeout: 1h
    - text: back with the bot
  hours:
    - text: We open at 9.
    - data: {contact.asked_hours: "true"}
    - listen: more
      timeout: 5m
    - text: never said
`)
	e := engine.New(nil)
	sp := step(e, bot, nil, msg("hi", ""), t0)
	waitTimer := sp.Timers[0]
	sp = step(e, bot, sp, flows.Event{Kind: flows.EventSkill, Name: "hours"}, t0.Add(time.Minute))
	if texts(sp) != "We open at 9." || len(sp.Timers) != 0 || len(sp.CancelTimers) != 0 || sp.Handover != nil {
		t.Fatalf("aside: said %q, timers %+v, cancels %v", texts(sp), sp.Timers, sp.CancelTimers)
	}
	if w := sp.Session.Wait; w == nil || w.Kind != flows.WaitHandover || w.TimerID != waitTimer.ID {
		t.Fatalf("the handover wait is not back: %+v", sp.Session.Wait)
	}
	if sp.Contact.Attributes["asked_hours"] != true {
		t.Fatalf("the skill's DATA was lost: %+v", sp.Contact.Attributes)
	}
	// The user's message still goes to the agent, not to the skill's LISTEN.
	if sp = step(e, bot, sp, msg("thanks", ""), t0.Add(2*time.Minute)); texts(sp) != "" {
		t.Fatalf("the bot answered during the live chat: %q", texts(sp))
	}
	sp = step(e, bot, sp, flows.Event{Kind: flows.EventHandover, Outcome: flows.HandoverResolved}, t0.Add(3*time.Minute))
	if texts(sp) != "back with the bot" {
		t.Fatalf("after the handover: %q", texts(sp))
	}
	// Outside a live chat the event does nothing.
	if sp = step(e, bot, sp, flows.Event{Kind: flows.EventSkill, Name: "hours"}, t0.Add(4*time.Minute)); texts(sp) != "" {
		t.Fatalf("a skill event outside a live chat: %q", texts(sp))
	}
}

// TestBotInExpressions: `bot` shows the bot's id, name and time zone; a
// step that saves it keeps a copy, so the bot's own view, shared by every
// step, stays as it was.
func TestBotInExpressions(t *testing.T) {
	bot := load(t, `
id: shop
name: Shop
timezone: Europe/Berlin
skills:
  /start:
    - data: {b: 'bot'}
    - text: "{{ bot.id }} {{ bot.name }} {{ bot.timezone }} {{ b.id }}"
`)
	e := engine.New(nil)
	sp := say(e, bot, nil, &flows.Contact{ID: "c"}, "hi")
	if got := texts(sp); got != "shop Shop Europe/Berlin shop" {
		t.Fatalf("got %q", got)
	}
	sp.Session.Vars["b"].(map[string]any)["id"] = "changed"
	if got := texts(say(e, bot, nil, &flows.Contact{ID: "c2"}, "hi")); got != "shop Shop Europe/Berlin shop" {
		t.Fatalf("after a saved copy changed: %q", got)
	}
	if v := (&flows.Bot{ID: "x"}).View(); v["id"] != "x" || v["timezone"] != "UTC" {
		t.Fatalf("view of a bot not loaded from a file: %v", v)
	}
}
