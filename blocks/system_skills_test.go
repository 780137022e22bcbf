package blocks_test

import (
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

// These tests pin down how the engine routes into system skills with real
// bots: what a designer can rely on when writing /start, /default,
// /_default_fallback, /_page_visit, /_error, intents and CATCH skills.

func TestSystemStartRunsOnFirstMessageOnly(t *testing.T) {
	c := newChat(t, `
intents:
  track:
    patterns: ["(?i)track"]
skills:
  /start:
    - text: "welcome, you said {{ input }}"
  track:
    - text: tracking
  /default:
    - text: default
`)
	// The first message runs /start even when it matches an intent.
	want(t, c.say("track my order"), "welcome, you said track my order")
	want(t, c.say("track my order"), "tracking")
	want(t, c.say("blah"), "default")
	if !c.Session.Started {
		t.Fatal("session not marked started")
	}
}

func TestSystemDefaultForUnmatchedMessages(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: hi
  /default:
    - text: "sorry, what is {{ input }}?"
`)
	c.say("hello")
	want(t, c.say("qwerty"), "sorry, what is qwerty?")
}

func TestSystemNoDefaultNoFallbackSaysNothing(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: hi
`)
	c.say("hello")
	want(t, c.say("qwerty"))
	if c.Session.Current() != nil {
		t.Fatalf("flow runs: %+v", c.Session.Frames)
	}
}

func TestSystemFallbackAfterMissesInARow(t *testing.T) {
	c := newChat(t, `
intents:
  track:
    examples: [track my order]
skills:
  /start:
    - text: hi
  track:
    - text: tracking
  /default:
    - text: default
  /_default_fallback:
    - text: fallback
`)
	c.say("hello")
	want(t, c.say("x"), "default")
	want(t, c.say("y"), "fallback")
	// The count starts again after the fallback…
	want(t, c.say("z"), "default")
	// …and after a message that matched.
	want(t, c.say("track my order"), "tracking")
	want(t, c.say("w"), "default")
	want(t, c.say("v"), "fallback")
}

func TestSystemFallbackAfterSetting(t *testing.T) {
	c := newChat(t, `
settings:
  fallback_after: 3
skills:
  /start:
    - text: hi
  /default:
    - text: default
  /_default_fallback:
    - text: fallback
`)
	c.say("hello")
	want(t, c.say("a"), "default")
	want(t, c.say("b"), "default")
	want(t, c.say("c"), "fallback")
	want(t, c.say("d"), "default")
}

func TestSystemFallbackWithoutDefault(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: hi
  /_default_fallback:
    - text: fallback
`)
	c.say("hello")
	want(t, c.say("a"), "fallback")
	want(t, c.say("b"), "fallback")
}

func TestSystemMissesCountOnlyConsecutiveMisses(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: hi
  /default:
    - text: what do you mean?
    - listen: answer
    - text: "ok, {{ answer }}"
  /_default_fallback:
    - text: fallback
`)
	c.say("hello")
	want(t, c.say("x"), "what do you mean?")
	want(t, c.say("this"), "ok, this")
	want(t, c.say("y"), "what do you mean?")
}

func TestSystemIntentsEnterTheirSkill(t *testing.T) {
	c := newChat(t, `
intents:
  track:
    examples: [where is my order, track my package]
    patterns: ['(?i)\border\s*#?\d+']
  human:
    examples: [talk to a human]
    skill: agent
skills:
  /start:
    - text: hi
  track:
    - text: "tracking ({{ message.intent }})"
  agent:
    - text: "getting a human ({{ message.intent }})"
  /default:
    - text: default
`)
	c.say("hello")
	want(t, c.say("Where is my order?"), "tracking (track)")
	want(t, c.say("status of ORDER #123 please"), "tracking (track)")
	want(t, c.say("talk to a human"), "getting a human (human)")
	want(t, c.say("the weather"), "default")
}

func TestSystemIntentInterruptsNothingWhileListening(t *testing.T) {
	c := newChat(t, `
intents:
  track:
    examples: [track my order]
skills:
  /start:
    - text: name?
    - listen: name
    - text: "hi {{ name }}"
  track:
    - text: tracking
`)
	c.say("hello")
	// A waiting LISTEN takes the message, even one that matches an intent.
	want(t, c.say("track my order"), "hi track my order")
	want(t, c.say("track my order"), "tracking")
}

func TestSystemPageVisit(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: hi
  /_page_visit:
    - switch:
        - {if: 'event.data.url == "/pricing"', goto: pricing}
    - text: "you are on {{ event.data.url }}"
  pricing:
    - text: "questions about {{ event.data.url }}?"
`)
	want(t, c.event("page_visit", map[string]any{"url": "/pricing"}), "questions about /pricing?")
	want(t, c.event("page_visit", map[string]any{"url": "/about"}), "you are on /about")
	// /start still runs on the first message.
	want(t, c.say("hello"), "hi")
}

func TestSystemPageVisitWithoutSkillIsIgnored(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: hi
`)
	ms, err := c.Event("page_visit", map[string]any{"url": "/"})
	if err != nil || len(ms) != 0 {
		t.Fatalf("got %v %v", ms, err)
	}
}

func TestSystemCatchSkillsEnteredBySend(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: start
    - send: step_one
      with: {n: 1}
    - text: start done
  one:
    - catch: step_one
    - text: "one got {{ event.data.n }}"
    - send: step_two
      with: {n: event.data.n + 1}
  two:
    - catch: step_two
    - text: "two got {{ event.data.n }}"
`)
	want(t, c.say("hello"), "start", "start done", "one got 1", "two got 2")
	// Events from outside enter the same skills.
	want(t, c.event("step_two", map[string]any{"n": 10}), "two got 10")
}

func TestSystemSendChainIsBounded(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - send: again
  loop:
    - catch: again
    - text: again
    - send: again
`)
	got := c.say("hello")
	if len(got) == 0 || len(got) > 20 {
		t.Fatalf("an event that sends itself ran %d times", len(got))
	}
}

func TestSystemErrorSkill(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: before
    - text: "{{ number('abc') }}"
    - text: never
  /_error:
    - text: "Oops: {{ error.message }} ({{ error.block }} in {{ error.skill }})"
  /default:
    - text: default
`)
	got := c.say("hello")
	if len(got) != 2 || got[0] != "before" || !strings.HasPrefix(got[1], "Oops: ") ||
		!strings.Contains(got[1], `number("abc"): not a number`) || !strings.HasSuffix(got[1], "(text in /start)") {
		t.Fatalf("bot said %q", got)
	}
	if c.Session.Current() != nil {
		t.Fatalf("flow still runs: %+v", c.Session.Frames)
	}
	want(t, c.say("next"), "default")
}

func TestSystemFailingErrorSkillEndsTheFlow(t *testing.T) {
	var traces []flows.TraceEntry
	c := newChat(t, `
skills:
  /start:
    - text: "{{ number('abc') }}"
  /_error:
    - text: "error: {{ error.block }}"
    - text: "{{ number('also bad') }}"
    - text: never
  /default:
    - text: default
`)
	c.OnSprint = func(sp *flows.Sprint) { traces = append(traces, sp.Trace...) }
	want(t, c.say("hello"), "error: text")
	failed := 0
	for _, tr := range traces {
		if tr.Error != "" {
			failed++
		}
	}
	if failed != 2 {
		t.Fatalf("want the block and /_error to fail once each; trace: %+v", traces)
	}
	if c.Session.Current() != nil {
		t.Fatalf("flow still runs: %+v", c.Session.Frames)
	}
	want(t, c.say("next"), "default")
}

func TestSystemLoopHitsStepLimit(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: looping
    - goto: spin
  spin:
    - goto: spin
  /_error:
    - text: "{{ error.message }}"
`)
	want(t, c.say("hello"), "looping", "the step ran too many blocks: the flow probably loops without waiting for the user")
}

func TestSystemLoopInErrorSkillStops(t *testing.T) {
	c := newChat(t, `
settings:
  max_blocks: 20
skills:
  /start:
    - goto: /start
  /_error:
    - text: handling
    - goto: /_error
`)
	got := c.say("hello")
	if len(got) == 0 || len(got) > 20 || got[0] != "handling" {
		t.Fatalf("bot said %d messages: %q", len(got), got)
	}
	if c.Session.Current() != nil {
		t.Fatalf("flow still runs: %+v", c.Session.Frames)
	}
}

func TestSystemErrorWithoutErrorSkillEndsQuietly(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: before
    - text: "{{ number('abc') }}"
  /default:
    - text: default
`)
	want(t, c.say("hello"), "before")
	want(t, c.say("again"), "default")
}

func TestSystemQueuedEventFailureReachesErrorSkill(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - send: later
    - text: "{{ number('first') }}"
  h:
    - catch: later
    - text: "{{ number('second') }}"
  /_error:
    - text: "error: {{ error.message }}"
`)
	got := c.say("hello")
	if len(got) != 2 || !strings.Contains(got[0], "first") || !strings.Contains(got[1], "second") {
		t.Fatalf("bot said %q", got)
	}
}
