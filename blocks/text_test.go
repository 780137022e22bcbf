package blocks_test

import (
	"strings"
	"testing"
)

func TestTextTemplatesAndButtons(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: "Hi {{ contact.name }}! You have {{ 2 + 3 }} items."
      buttons:
        - {title: Track, goto: track}
        - {title: Site, url: "https://example.com/{{ contact.name }}"}
        - {title: Maybe, payload: maybe}
      quick_replies: [{title: Yes}, {title: Human, goto: track}]
  track:
    - text: Tracking.
`)
	ms := c.sayMsgs("hi")
	if len(ms) != 1 || ms[0].Text != "Hi Ann! You have 5 items." {
		t.Fatalf("got %+v", ms)
	}
	b := ms[0].Buttons
	if len(b) != 3 || b[0].Payload != "track" || b[1].URL != "https://example.com/Ann" || b[2].Payload != "maybe" {
		t.Fatalf("buttons: %+v", b)
	}
	if q := ms[0].QuickReplies; len(q) != 2 || q[0].Payload != "Yes" || q[1].Payload != "track" {
		t.Fatalf("quick replies: %+v", q)
	}
	want(t, c.tap("Track", "track"), "Tracking.")
}

func TestTextTypedTitlePicksButton(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: Choose
      buttons: [{title: Track my order, goto: track}]
  track:
    - text: Tracking.
`)
	c.say("hi")
	want(t, c.say("track MY order"), "Tracking.")
}

func TestTextVariantsAreSeeded(t *testing.T) {
	src := `
skills:
  /start:
    - text: [a, b, c, d, e, f, g, h]
`
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		c := newChat(t, src)
		c.Seed = uint64(i)
		seen[strings.Join(c.say("hi"), "")] = true
	}
	if len(seen) < 2 {
		t.Fatalf("variants never vary: %v", seen)
	}
	// The same seed gives the same pick.
	a, b := newChat(t, src), newChat(t, src)
	if x, y := a.say("hi"), b.say("hi"); x[0] != y[0] {
		t.Fatalf("same seed, different picks: %v %v", x, y)
	}
}

func TestTextButtonNeedsOneAction(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - text: Hi
      buttons: [{title: Both, goto: /start, url: "https://x.y"}]
`)
	if !strings.Contains(errs, `test.yaml:6:`) || !strings.Contains(errs, "exactly one of goto, url or payload") {
		t.Fatalf("errors: %s", errs)
	}
}
