package blocks_test

import (
	"strings"
	"testing"
)

func TestStatusSetsAndClears(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - status: "  waiting_for_{{ 'payment' }} "
    - text: "Status: {{ contact.status }}"
    - listen: answer
    - status: ""
    - text: "Status: [{{ contact.status }}]"
    - listen: answer
    - status:
    - text: "Status: [{{ contact.status }}]"
`)
	want(t, c.say("hi"), "Status: waiting_for_payment")
	if c.Contact.Status != "waiting_for_payment" {
		t.Fatalf("status: %q", c.Contact.Status)
	}
	want(t, c.say("paid"), "Status: []")
	c.Contact.Status = "set by an agent"
	want(t, c.say("again"), "Status: []")
	if c.Contact.Status != "" {
		t.Fatalf("status: %q", c.Contact.Status)
	}
}

func TestStatusLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - status: [a, b]
    - status: "{{ contact.status == }}"
`)
	for _, w := range []string{
		`test.yaml:5:15: the value of STATUS must be text or empty, not a list`,
		`test.yaml:6:35: expression "contact.status ==" does not compile`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}
