package blocks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

func TestListenSavesToVariableAndTypedAttribute(t *testing.T) {
	c := newChat(t, `
attributes:
  age: {type: number}
skills:
  /start:
    - text: What should I call you?
    - listen: nickname
    - text: How old are you?
    - listen: contact.age
      retry: A number, please.
    - text: "{{ nickname }} is {{ contact.age + 1 }} next year."
`)
	want(t, c.say("hi"), "What should I call you?")
	want(t, c.say("  Annie "), "How old are you?")
	// The attribute's type refuses text: that is a failed attempt.
	want(t, c.say("old"), "A number, please.")
	want(t, c.say("41"), "Annie is 42 next year.")
	if c.Session.Vars["nickname"] != "Annie" || c.Contact.Attributes["age"] != 41.0 {
		t.Fatalf("vars %#v attributes %#v", c.Session.Vars, c.Contact.Attributes)
	}
}

func TestListenTappedReplySavesItsPayload(t *testing.T) {
	src := `
skills:
  /start:
    - text: Which size?
      quick_replies: [{title: Small (8 inch), payload: S}, {title: Large}]
    - listen: size
    - text: "Size {{ size }}"
`
	c := newChat(t, src)
	want(t, c.say("hi"), "Which size?")
	want(t, c.tap("Small (8 inch)", "S"), "Size S")
	// Typing a reply's title picks it too.
	c = newChat(t, src)
	c.say("hi")
	want(t, c.say("small (8 INCH)"), "Size S")
	c = newChat(t, src)
	c.say("hi")
	want(t, c.say("large"), "Size Large")
	c = newChat(t, src)
	c.say("hi")
	want(t, c.say("medium"), "Size medium")
}

func TestListenRetriesThenOnInvalid(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: Your email?
    - listen: contact.email
      validate: email
      retry: ["{{ input }} is not an email."]
      attempts: 2
      on_invalid: human
    - text: "Saved {{ contact.email }}"
  human:
    - text: Let me find a human.
`)
	want(t, c.say("hi"), "Your email?")
	want(t, c.say("ann"), "ann is not an email.")
	want(t, c.say("ann@"), "Let me find a human.")
	if _, ok := c.Contact.Attributes["email"]; ok {
		t.Fatalf("invalid email saved: %#v", c.Contact.Attributes)
	}

	// Without on_invalid the flow continues with nothing saved, after the
	// default 3 attempts; a valid reply resets nothing it should not.
	c = newChat(t, `
skills:
  /start:
    - listen: n
      validate: number
      min: 1
      max: 5
    - text: "n=[{{ n }}]"
`)
	c.say("hi")
	want(t, c.say("NaN"))
	want(t, c.say("9"))
	want(t, c.say("Inf"), "n=[]")

	c = newChat(t, `
skills:
  /start:
    - listen: n
      validate: number
      min: 1
      max: 5
    - text: "n=[{{ n }}]"
`)
	c.say("hi")
	want(t, c.say("9"))
	want(t, c.say("2,5"), "n=[2.5]")
}

func TestListenValidations(t *testing.T) {
	for _, tc := range []struct{ rule, reply, saved string }{
		{"validate: date", "31.12.2026", "2026-12-31"},
		{"validate: date", "Mar 5 2026", "2026-03-05"},
		{"validate: integer", "12", "12"},
		{"validate: url", "https://example.com/x", "https://example.com/x"},
		{"validate: phone", "+1 555 010 9999", "+1 555 010 9999"},
		{"validate: email", "Ann@Example.com", "ann@example.com"},
		{`validate: regex, pattern: "[A-Z]{3}"`, "ABC", "ABC"},
		{`validate: expression, condition: 'input startsWith "#"'`, "#42", "#42"},
	} {
		c := newChat(t, `
skills:
  /start:
    - listen: v
      `+strings.ReplaceAll(tc.rule, ", ", "\n      ")+`
      retry: bad
    - text: "v={{ v }}"
`)
		c.say("hi")
		want(t, c.say(tc.reply), "v="+tc.saved)
	}
	for _, tc := range []struct{ rule, reply string }{
		{"validate: date", "31.02.2026"},
		{"validate: integer", "1.5"},
		{"validate: url", "example.com"},
		{"validate: phone", "12"},
		{"validate: text", "   "},
		{`validate: regex, pattern: "[A-Z]{3}"`, "ABCD"},
		{`validate: expression, condition: 'input startsWith "#"'`, "42"},
	} {
		c := newChat(t, `
skills:
  /start:
    - listen: v
      `+strings.ReplaceAll(tc.rule, ", ", "\n      ")+`
      retry: bad
    - text: "v={{ v }}"
`)
		c.say("hi")
		want(t, c.say(tc.reply), "bad")
	}
}

func TestListenTimeout(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: Still there?
    - listen: answer
      timeout: 10m
      on_timeout: gone
    - text: "You said {{ answer }}"
  gone:
    - text: Talk later!
`)
	want(t, c.say("hi"), "Still there?")
	want(t, c.wait(9*time.Minute))
	want(t, c.wait(time.Minute), "Talk later!")
	// The timeout ended the wait: nothing more happens.
	want(t, c.wait(time.Hour))

	// Without on_timeout the flow continues below, with nothing saved.
	c = newChat(t, `
skills:
  /start:
    - listen: answer
      timeout: 1h
    - text: "answer=[{{ answer }}]"
`)
	c.say("hi")
	want(t, c.wait(time.Hour), "answer=[]")
}

func TestListenReplyBeforeTimeoutLeavesNoTimeout(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: First?
    - listen: a
      timeout: 10m
      on_timeout: gone
    - text: Second?
    - listen: b
      timeout: 10m
      on_timeout: gone
    - text: "{{ a }} {{ b }}"
  gone:
    - text: Timed out.
`)
	want(t, c.say("hi"), "First?")
	if len(c.Timers) != 1 {
		t.Fatalf("timers: %+v", c.Timers)
	}
	first := c.Timers[0]
	c.wait(5 * time.Minute)
	want(t, c.say("one"), "Second?")
	// The runtime may fail to cancel a timer: one for a wait the session
	// has left is stale and must do nothing.
	c.Timers = append([]flows.Timer{first}, c.Timers...)
	want(t, c.wait(6*time.Minute))
	want(t, c.say("two"), "one two")
	want(t, c.wait(time.Hour))
}

func TestListenLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - listen: input
      validate: regex
    - listen: x
      validate: number
      min: 5
      max: 1
      attempts: -1
    - listen: x
      validate: emial
      timeout: soon
    - listen: x
      validate: expression
      on_invalid: nowhere
`)
	for _, w := range []string{
		`test.yaml:5:7: save: "input" is a reserved name in expressions`,
		`test.yaml:5:7: validate: regex needs a pattern`,
		`test.yaml:7:7: min (5) is larger than max (1)`,
		`test.yaml:7:7: attempts must be 1 or more`,
		`test.yaml:13:17: "validate" of the LISTEN block must be one of`,
		`test.yaml:14:16: "soon" is not a duration: write a number and a unit, like 30s, 10m, 2h or 1d`,
		`test.yaml:15:7: validate: expression needs a condition`,
		`test.yaml:17:19: unknown goto target "nowhere"`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}

func TestListenWarnsAboutIgnoredRuleFields(t *testing.T) {
	bot, ds := flows.Load("test.yaml", []byte(`id: test
skills:
  /start:
    - listen: code
      pattern: "[0-9]{6}"
      min: 1
      condition: len(input) > 3
`))
	if bot == nil {
		t.Fatalf("bot does not load: %s", ds.Error())
	}
	got := ds.Error()
	for _, w := range []string{
		`test.yaml:4:7: warning: pattern is used only with validate: regex, so it is ignored here`,
		`test.yaml:4:7: warning: min and max are used only with validate: number or integer, so they are ignored here`,
		`test.yaml:7:18: warning: condition is used only with validate: expression, so it is ignored here`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
}
