package blocks_test

import (
	"strings"
	"testing"
	"time"
)

func TestWaitForMessageOrEvent(t *testing.T) {
	src := `
skills:
  /start:
    - text: waiting
    - waitfor: [paid, cancelled]
      save: got
      save_event: what
    - text: "{{ what }}: {{ got }}"
`
	c := newChat(t, src)
	want(t, c.say("hi"), "waiting")
	want(t, c.say("any news?"), "message: any news?")

	c = newChat(t, src)
	c.say("hi")
	want(t, c.event("other", map[string]any{"x": 1}))
	if c.Session.Wait == nil {
		t.Fatal("an unrelated event ended the wait")
	}
	want(t, c.event("paid", map[string]any{"amount": 12}), `paid: {"amount":12}`)
}

func TestWaitForPlainMessage(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: say something
    - waitfor:
      save: contact.note
    - text: "noted {{ contact.note }}"
`)
	want(t, c.say("hi"), "say something")
	want(t, c.say("hello"), "noted hello")
}

func TestWaitForEventsOnlyIgnoresMessages(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: pay please
    - waitfor: payment_ok
      message: false
      save: payment
    - text: "paid {{ payment.amount }}"
  /default:
    - text: default
`)
	want(t, c.say("hi"), "pay please")
	want(t, c.say("done?"))
	want(t, c.event("payment_ok", map[string]any{"amount": 9.5}), "paid 9.5")
}

func TestWaitForTimeout(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - waitfor: signed
      save_event: what
      timeout: 1h
      on_timeout: late
    - text: "{{ what }}"
  late:
    - text: "too late ({{ what ?? 'nothing' }})"
`)
	c.say("hi")
	want(t, c.wait(time.Hour), "too late (nothing)")

	c = newChat(t, `
skills:
  /start:
    - waitfor: signed
      timeout: 1h
    - text: continued
`)
	c.say("hi")
	want(t, c.wait(time.Hour), "continued")
}

func TestWaitForLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - waitfor:
      message: false
    - waitfor: "{{ x }}"
    - waitfor: a
      on_timeout: /start
`)
	for _, w := range []string{
		`test.yaml:5:7: WAITFOR with message: false needs events`,
		`test.yaml:7:17: event name "{{ x }}" cannot be a template`,
		`test.yaml:9:19: on_timeout needs a timeout`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}
