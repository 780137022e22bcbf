package blocks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

const liveChatBot = `
settings:
  queue: general
skills:
  /start:
    - text: connecting
    - live_chat: "{{ contact.plan ?? 'sales' }}"
      priority: urgent
      message: "One moment, {{ contact.name }}."
      note: "Asked about {{ topic ?? 'billing' }}"
      form:
        email: contact.email
        tries: 1 + 1
      timeout: 30m
      on_resolved: resolved
      on_no_agent: nobody
      on_timeout: timed_out
    - text: below
  resolved:
    - text: glad we could help
  nobody:
    - text: nobody there
  timed_out:
    - text: took too long
  /default:
    - text: default
`

func TestLiveChatRequestsHandover(t *testing.T) {
	c := newChatWith(t, liveChatBot, nil, &flows.Contact{ID: "c1", Name: "Ann", Attributes: map[string]any{"email": "ann@example.com"}})
	want(t, c.say("hi"), "connecting", "One moment, Ann.")
	h := c.Handover
	if h == nil {
		t.Fatal("no handover requested")
	}
	if h.Queue != "sales" || h.Priority != "urgent" || h.Message != "One moment, Ann." || h.Note != "Asked about billing" {
		t.Fatalf("handover: %+v", h)
	}
	if h.Form["email"] != "ann@example.com" || h.Form["tries"] != 2 {
		t.Fatalf("form: %+v", h.Form)
	}
	// While the agent has the conversation the bot stays out.
	want(t, c.say("hello? anybody?"))
	want(t, c.event("page_visit", map[string]any{"url": "/x"}))
	if c.Session.Wait == nil || c.Session.Wait.Kind != flows.WaitHandover {
		t.Fatalf("wait: %+v", c.Session.Wait)
	}
}

func TestLiveChatOutcomes(t *testing.T) {
	for outcome, reply := range map[string]string{
		flows.HandoverResolved: "glad we could help",
		flows.HandoverNoAgent:  "nobody there",
		flows.HandoverTimeout:  "took too long",
		"something_else":       "below",
	} {
		c := newChat(t, liveChatBot)
		c.say("hi")
		ms, err := c.EndHandover(outcome)
		if err != nil {
			t.Fatal(err)
		}
		want(t, texts(ms), reply)
		if c.Session.Wait != nil || len(c.Timers) != 0 {
			t.Fatalf("%s: still waiting: %+v %+v", outcome, c.Session.Wait, c.Timers)
		}
	}
}

func TestLiveChatTimeout(t *testing.T) {
	c := newChat(t, liveChatBot)
	c.say("hi")
	want(t, c.wait(29*time.Minute))
	want(t, c.wait(time.Minute), "took too long")
	// A late end of the handover changes nothing.
	ms, _ := c.EndHandover(flows.HandoverResolved)
	want(t, texts(ms))
}

func TestLiveChatOutcomesDefaultToBelow(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - live_chat:
      message: ""
    - text: back with the bot
`)
	want(t, c.say("hi"))
	if c.Handover == nil || c.Handover.Queue != "support" || c.Handover.Priority != "normal" || c.Handover.Message != "" {
		t.Fatalf("handover: %+v", c.Handover)
	}
	ms, _ := c.EndHandover(flows.HandoverNoAgent)
	want(t, texts(ms), "back with the bot")
}

func TestLiveChatBuiltinSkill(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: need help?
      buttons: [{title: Human, goto: /_start_live_chat}]
`)
	c.say("hi")
	want(t, c.tap("Human", "/_start_live_chat"), "You are being transferred to an agent. Please wait.")
	h := c.Handover
	if h == nil || h.Queue != "support" || h.Priority != "normal" {
		t.Fatalf("handover: %+v", h)
	}
	if len(c.Timers) != 0 {
		t.Fatalf("timers: %+v", c.Timers)
	}
	ms, _ := c.EndHandover(flows.HandoverResolved)
	want(t, texts(ms))
	if c.Session.Current() != nil {
		t.Fatalf("flow still runs: %+v", c.Session)
	}
}

func TestLiveChatLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - live_chat: support
      priority: asap
      on_resolved: nowhere
`)
	for _, w := range []string{
		`test.yaml:6:17: "priority" of the LIVE CHAT block must be one of`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
	errs = loadErrors(t, `
skills:
  /start:
    - live_chat: support
      on_resolved: nowhere
`)
	if !strings.Contains(errs, `test.yaml:6:20: unknown goto target "nowhere"`) {
		t.Fatalf("errors: %s", errs)
	}
}
