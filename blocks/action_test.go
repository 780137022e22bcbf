package blocks_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/convo"
	"github.com/switchboard-bots/switchboard/runtime/engine"
)

// actions is an integration host for the test: it records the calls and
// answers them with fn.
type actions struct {
	calls []string
	fn    func(ctx context.Context, name string, params map[string]any) (any, error)
}

func (a *actions) Invoke(ctx context.Context, name string, params map[string]any, from flows.ActionCaller) (any, error) {
	a.calls = append(a.calls, fmt.Sprintf("%s %v from %s/%s", name, params, from.Bot, from.Contact))
	return a.fn(ctx, name, params)
}

func actionChat(t *testing.T, src string, inv flows.ActionInvoker) *chat {
	t.Helper()
	eng := engine.New(nil)
	eng.Actions = inv
	c := convo.New(loadBot(t, src), eng, &flows.Contact{ID: "c1", Name: "Ann", Channel: "test"}, t0)
	c.RoundTrip = convo.SessionRoundTrip
	return &chat{t: t, Conversation: c}
}

const actionBot = `
skills:
  /start:
    - action: smtp.email.send
      with:
        to: '"ann@example.com"'
        subject: '"Hi " + contact.name'
      save: sent
      save_error: why
      timeout: 50ms
      on_error: failed
    - text: "sent {{ sent.message_id }}"
  failed:
    - text: "not sent: {{ why }}"
`

func TestActionCallsAndSaves(t *testing.T) {
	a := &actions{fn: func(_ context.Context, name string, params map[string]any) (any, error) {
		return map[string]any{"message_id": "<m1@x>"}, nil
	}}
	c := actionChat(t, actionBot, a)
	want(t, c.say("hi"), "sent <m1@x>")
	if len(a.calls) != 1 || a.calls[0] != "smtp.email.send map[subject:Hi Ann to:ann@example.com] from test/c1" {
		t.Fatalf("calls: %q", a.calls)
	}
}

func TestActionFailures(t *testing.T) {
	refuse := &actions{fn: func(context.Context, string, map[string]any) (any, error) {
		return nil, errors.New("550 mailbox unavailable")
	}}
	want(t, actionChat(t, actionBot, refuse).say("hi"), "not sent: 550 mailbox unavailable")

	slow := &actions{fn: func(ctx context.Context, _ string, _ map[string]any) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	want(t, actionChat(t, actionBot, slow).say("hi"), "not sent: smtp.email.send: no answer within 50ms")

	// Without plugins, and without on_error, the failure goes to /_error.
	c := actionChat(t, "skills:\n  /start:\n    - action: twilio.sms.send\n  /_error:\n    - text: \"error: {{ error.message }}\"\n", nil)
	if got := c.say("hi"); len(got) != 1 || !strings.Contains(got[0], "no integrations run here") {
		t.Fatalf("without plugins: %q", got)
	}
}

func TestActionChecks(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"    - action: sendmail\n", `action "sendmail" is not integration.action`},
		{"    - action: smtp.email.send\n      timeout: 1m\n", "timeout 1m is too long"},
	} {
		if got := loadErrors(t, "skills:\n  /start:\n"+c.src); !strings.Contains(got, c.want) {
			t.Errorf("%q: got %s", c.src, got)
		}
	}
}
