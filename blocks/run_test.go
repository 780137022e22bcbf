package blocks_test

import (
	"strings"
	"testing"
)

func TestRunComesBack(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - run: greet
    - text: back in start
    - run: ask
    - text: "got {{ answer }}"
  greet:
    - text: hello
    - run: inner
    - text: greet done
  inner:
    - text: inner
  ask:
    - text: question?
    - listen: answer
`)
	want(t, c.say("hi"), "hello", "inner", "greet done", "back in start", "question?")
	want(t, c.say("42"), "got 42")
}

func TestRunGotoInsideCalledSkillStillReturns(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - run: a
    - text: after a
  a:
    - goto: b
  b:
    - text: in b
`)
	want(t, c.say("hi"), "in b", "after a")
}

func TestRunRecursionIsBounded(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - run: /start
  /_error:
    - text: "{{ error.message }}"
`)
	got := c.say("hi")
	if len(got) != 1 || !strings.Contains(got[0], "RUN nests deeper than 32 skills") {
		t.Fatalf("bot said %q", got)
	}
}

func TestRunRejectsBlockID(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - run: middle
  other:
    - text: first
    - text: second
      id: middle
`)
	if !strings.Contains(errs, `test.yaml:5:12: RUN runs a skill, and "middle" is a block id`) {
		t.Fatalf("errors: %s", errs)
	}
}

func TestRunNextAppliesAfterReturn(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - run: sub
      next: after
    - text: below
  sub:
    - text: sub
  after:
    - text: after
`)
	want(t, c.say("hi"), "sub", "after")
}
