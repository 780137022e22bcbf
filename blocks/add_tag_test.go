package blocks_test

import (
	"strings"
	"testing"
)

func TestAddTagAddsEveryTagOnce(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - add_tag: [lead, "plan-{{ contact.plan ?? 'free' }}", lead, "{{ '' }}"]
    - add_tag: vip
    - switch:
        - {if: '"vip" in contact.tags', goto: vip}
  vip:
    - text: "Tags: {{ join(contact.tags, ', ') }}"
`)
	want(t, c.say("hi"), "Tags: lead, plan-free, vip")
	if got := strings.Join(c.Contact.Tags, ","); got != "lead,plan-free,vip" {
		t.Fatalf("tags: %s", got)
	}
}

func TestAddTagTemplateErrorGoesToError(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - add_tag: "{{ number('x') }}"
  /_error:
    - text: "Oops: {{ error.message }}"
`)
	if got := c.say("hi"); len(got) != 1 || !strings.HasPrefix(got[0], `Oops: line 5: number('x'): number("x"): not a number`) {
		t.Fatalf("bot said %q", got)
	}
	if len(c.Contact.Tags) != 0 {
		t.Fatalf("tags: %v", c.Contact.Tags)
	}
}

func TestAddTagLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - add_tag: []
    - add_tag:
`)
	for _, w := range []string{
		`test.yaml:5:16: the value of ADD TAG must not be empty`,
		`test.yaml:6:15: the value of ADD TAG must be text or a list, not empty`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}

// TestAddTagIsBounded: tags that come from user input cannot grow without
// bound.
func TestAddTagIsBounded(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - listen: word
    - add_tag: "{{ word }}"
      next: /start
  /_error:
    - text: "error: {{ error.message }}"
`)
	c.say("hi")
	got := c.say(strings.Repeat("x", 65))
	if len(got) != 1 || !strings.Contains(got[0], "longer than 64 characters") {
		t.Fatalf("long tag: %q", got)
	}
}
