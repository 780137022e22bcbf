package blocks_test

import (
	"strings"
	"testing"
	"time"
)

func TestSendNowEntersCatchSkill(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: sending
    - send: ping
      with:
        who: contact.name
        n: 1 + 2
    - text: sent
  pinged:
    - catch: ping
    - text: "ping from {{ event.data.who }}, n={{ event.data.n }}, event={{ event.name }}"
`)
	want(t, c.say("hi"), "sending", "sent", "ping from Ann, n=3, event=ping")
}

func TestSendWithDelay(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - send: reminder
      delay: 1h
      with: {item: '"socks"'}
    - text: see you
  remind:
    - catch: reminder
    - text: "Still want the {{ event.data.item }}?"
`)
	want(t, c.say("hi"), "see you")
	if len(c.Timers) != 1 || !c.Timers[0].Due.Equal(t0.Add(time.Hour)) {
		t.Fatalf("timers: %+v", c.Timers)
	}
	want(t, c.wait(59*time.Minute))
	want(t, c.wait(time.Minute), "Still want the socks?")
}

func TestSendDataIsEvaluatedWhenSent(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - listen: color
    - send: later
      delay: 10m
      with: {color: color}
    - listen: color
  got:
    - catch: later
    - text: "first answer {{ event.data.color }}, now {{ color }}"
`)
	c.say("hi")
	c.say("red")
	c.say("blue")
	want(t, c.wait(10*time.Minute), "first answer red, now blue")
}

func TestSendUncaughtEventIsIgnored(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - send: nobody_listens
    - text: done
`)
	want(t, c.say("hi"), "done")
}

func TestSendDataErrorFails(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - send: x
      with: {n: 'number("abc")'}
  /_error:
    - text: "{{ error.message }}"
`)
	got := c.say("hi")
	if len(got) != 1 || !strings.HasPrefix(got[0], "n: ") || !strings.Contains(got[0], "not a number") {
		t.Fatalf("bot said %q", got)
	}
}

func TestSendLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - send: "order {{ id }}"
    - send: ok
      delay: soon
`)
	for _, w := range []string{
		`test.yaml:5:7: SEND: event name "order {{ id }}" cannot be a template`,
		`test.yaml:7:14: "soon" is not a duration`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}
