package blocks_test

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestEmailSends(t *testing.T) {
	var got map[string]any
	a := &actions{fn: func(_ context.Context, name string, params map[string]any) (any, error) {
		if name != "smtp.email.send" {
			return nil, errors.New("wrong action " + name)
		}
		got = params
		return map[string]any{"message_id": "<q1@x>"}, nil
	}}
	c := actionChat(t, `
skills:
  /start:
    - data: {contact.email: '"ann@example.com"'}
    - email: "{{ contact.email }}"
      subject: "Quote for {{ contact.name }}"
      body: "Hello {{ contact.name }}, here it is."
      attachments: ["https://example.com/q/{{ contact.name }}.pdf"]
      save: sent
    - text: "sent {{ sent.message_id }}"
`, a)
	want(t, c.say("hi"), "sent <q1@x>")
	if got["to"] != "ann@example.com" || got["subject"] != "Quote for Ann" || got["body"] != "Hello Ann, here it is." {
		t.Fatalf("params: %v", got)
	}
	if atts, _ := got["attachments"].([]any); len(atts) != 1 || atts[0].(map[string]any)["url"] != "https://example.com/q/Ann.pdf" {
		t.Fatalf("attachments: %v", got["attachments"])
	}
}

func TestEmailFails(t *testing.T) {
	a := &actions{fn: func(context.Context, string, map[string]any) (any, error) {
		return nil, errors.New("550 no such mailbox")
	}}
	c := actionChat(t, `
skills:
  /start:
    - email: "x@example.com"
      subject: s
      body: b
      save_error: why
      on_error: failed
  failed:
    - text: "failed: {{ why }}"
`, a)
	want(t, c.say("hi"), "failed: 550 no such mailbox")
	if got := loadErrors(t, "skills:\n  /start:\n    - email: x@example.com\n      subject: s\n"); !strings.Contains(got, "body") {
		t.Fatalf("an email without a body: %s", got)
	}
}
