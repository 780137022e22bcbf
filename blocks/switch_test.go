package blocks_test

import (
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

const switchBot = `
skills:
  /start:
    - text: Say something.
    - listen: q
    - switch:
        - {if: 'q matches "(?i)agent"', goto: agent}
        - {if: 'q matches "(?i)agent|help"', goto: help}
        - {if: 'len(q) > 20', goto: long}
    - text: "Below the switch: {{ q }}"
  agent:
    - text: Agent.
  help:
    - text: Help.
  long:
    - text: Long.
`

func TestSwitchFirstTrueCaseWins(t *testing.T) {
	for _, tc := range []struct{ say, want string }{
		{"AGENT please help", "Agent."}, // cases 1 and 2 are true: the first wins
		{"help", "Help."},
		{"this is a rather long message", "Long."},
		{"hello", "Below the switch: hello"}, // no case, no else: fall through
	} {
		c := newChat(t, switchBot)
		c.say("hi")
		want(t, c.say(tc.say), tc.want)
	}
}

func TestSwitchElse(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - data: {n: 3}
    - switch:
        - {if: n > 5, goto: big}
        - {else: small}
  big:
    - text: Big.
  small:
    - text: Small.
`)
	want(t, c.say("hi"), "Small.")
}

func TestSwitchExpressionErrorGoesToError(t *testing.T) {
	src := `
skills:
  /start:
    - listen: n
    - switch:
        - {if: 'number(n) > 5', goto: big}
        - {else: small}
  big:
    - text: Big.
  small:
    - text: Small.
  /_error:
    - text: "Oops: {{ error.message }} (in {{ error.skill }}, a {{ error.block }} block)"
`
	c := newChat(t, src)
	c.say("hi")
	want(t, c.say("9"), "Big.")
	c = newChat(t, src)
	c.say("hi")
	got := c.say("nine")
	if len(got) != 1 || !strings.HasPrefix(got[0], `Oops: line 7: number(n) > 5: number("nine"): not a number`) || !strings.HasSuffix(got[0], "(in /start, a switch block)") {
		t.Fatalf("bot said %q", got)
	}
}

func TestSwitchLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - switch:
        - {else: b}
        - {if: x == 1, goto: b}
    - switch:
        - {if: x == 1}
        - {goto: b}
        - {if: x == 2, else: b}
    - switch:
        - {if: 'x ==', goto: b}
        - {if: x == 3, goto: nowhere}
  b:
    - text: B
`)
	for _, w := range []string{
		`test.yaml:6:18: else must be the last case: cases after it never run`,
		`test.yaml:9:16: case 1 needs a goto: where should the conversation go when it is true?`,
		`test.yaml:10:18: case 2 needs an if condition (or is it the else?)`,
		`test.yaml:11:30: an else case takes no if or goto: write it as {else: target}`,
		`test.yaml:13:20: expression "x ==" does not compile`,
		`test.yaml:14:30: unknown goto target "nowhere"`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}

func TestSwitchWithElseDoesNotFallThrough(t *testing.T) {
	bot, ds := switchLoad(`
skills:
  /start:
    - switch:
        - {if: x == 1, goto: b}
        - {else: b}
    - text: never
  b:
    - text: B
`)
	if bot == nil || !strings.Contains(ds, "test.yaml:8:7: warning: this TEXT block can never run") {
		t.Fatalf("diagnostics: %s", ds)
	}
}

// switchLoad loads a bot that may have warnings and returns it with its
// diagnostics.
func switchLoad(src string) (*flows.Bot, string) {
	bot, ds := flows.Load("test.yaml", []byte("id: test\n"+src))
	return bot, ds.Error()
}
