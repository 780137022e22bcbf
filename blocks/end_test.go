package blocks_test

import (
	"strings"
	"testing"
)

func TestEndStopsTheFlow(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - run: sub
    - text: not after end
  sub:
    - text: bye
    - end: true
    - text: never
  /default:
    - text: default
`)
	want(t, c.say("hi"), "bye")
	if c.Session.Current() != nil || c.Session.Wait != nil {
		t.Fatalf("session still runs: %+v", c.Session)
	}
	want(t, c.say("again"), "default")
}

func TestEndTakesOnlyTrue(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - end: false
`)
	if !strings.Contains(errs, "test.yaml:5:") {
		t.Fatalf("errors: %s", errs)
	}
}
