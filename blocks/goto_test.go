package blocks_test

import (
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

func TestGotoSkillAndBlockID(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: one
    - goto: other
    - text: never
  other:
    - text: two
    - goto: four
    - text: skipped
    - text: four
      id: four
`)
	want(t, c.say("hi"), "one", "two", "four")
}

func TestGotoUnknownTarget(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - goto: otehr
  other:
    - text: x
`)
	if !strings.Contains(errs, `test.yaml:5:13: unknown goto target "otehr"`) {
		t.Fatalf("errors: %s", errs)
	}
}

func TestGotoBlocksBelowAreUnreachable(t *testing.T) {
	_, ds := flows.Load("test.yaml", []byte(`id: test

skills:
  /start:
    - goto: other
    - text: never
  other:
    - text: x
`))
	if !strings.Contains(ds.Error(), "test.yaml:6:7: warning: this TEXT block can never run") {
		t.Fatalf("diagnostics: %s", ds)
	}
}
