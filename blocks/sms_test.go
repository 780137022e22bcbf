package blocks_test

import (
	"context"
	"errors"
	"testing"
)

func TestSMSSends(t *testing.T) {
	var got map[string]any
	a := &actions{fn: func(_ context.Context, name string, params map[string]any) (any, error) {
		if name != "twilio.sms.send" {
			return nil, errors.New("wrong action " + name)
		}
		got = params
		return map[string]any{"sid": "SM1", "status": "queued"}, nil
	}}
	c := actionChat(t, `
skills:
  /start:
    - sms: "+15550001111"
      message: "Hi {{ contact.name }}, your code is 42."
      save: res
      timeout: 5s
    - text: "{{ res.status }}"
`, a)
	want(t, c.say("hi"), "queued")
	if got["to"] != "+15550001111" || got["text"] != "Hi Ann, your code is 42." {
		t.Fatalf("params: %v", got)
	}
	if got := loadErrors(t, "skills:\n  /start:\n    - sms: \"+1555\"\n      message: m\n      timeout: 2m\n"); got == "" {
		t.Fatal("a timeout over 30s loads")
	}
}
