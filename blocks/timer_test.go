package blocks_test

import (
	"strings"
	"testing"
	"time"
)

func TestTimerPausesAndIgnoresMessages(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: wait for it
    - timer: 2m
    - text: done waiting
  /default:
    - text: default
`)
	want(t, c.say("hi"), "wait for it")
	if len(c.Timers) != 1 || !c.Timers[0].Due.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("timers: %+v", c.Timers)
	}
	want(t, c.say("hello?"))
	want(t, c.wait(time.Minute))
	want(t, c.wait(time.Minute), "done waiting")
}

func TestTimerInterruptible(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: wait for it
    - timer: 2m
      interruptible: true
    - text: done waiting
  /default:
    - text: default
`)
	want(t, c.say("hi"), "wait for it")
	want(t, c.say("hello?"), "default")
	if len(c.Timers) != 0 {
		t.Fatalf("timer not cancelled: %+v", c.Timers)
	}
	want(t, c.wait(5*time.Minute))
}

func TestTimerDays(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - timer: 1d12h
    - text: later
`)
	c.say("hi")
	if len(c.Timers) != 1 || !c.Timers[0].Due.Equal(t0.Add(36*time.Hour)) {
		t.Fatalf("timers: %+v", c.Timers)
	}
	want(t, c.wait(36*time.Hour), "later")
}

func TestTimerLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - timer: 0s
    - timer: forever
`)
	for _, w := range []string{
		`test.yaml:5:14: TIMER needs a pause longer than zero`,
		`test.yaml:6:14: "forever" is not a duration`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}
