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
	ids   []string // each call's from.ID
	fn    func(ctx context.Context, name string, params map[string]any) (any, error)
}

func (a *actions) Invoke(ctx context.Context, name string, params map[string]any, from flows.ActionCaller) (any, error) {
	a.calls = append(a.calls, fmt.Sprintf("%s %v from %s/%s", name, params, from.Bot, from.Contact))
	a.ids = append(a.ids, from.ID)
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

// TestActionCallIDs: every call has its own id; a step run again from the
// same stored session (the runtime died before it committed the step)
// calls with the same ids; and an interruption that leaves no trace, which
// puts the session's position back, does not make a later call reuse one.
func TestActionCallIDs(t *testing.T) {
	a := &actions{fn: func(context.Context, string, map[string]any) (any, error) { return nil, nil }}
	c := actionChat(t, `
skills:
  /start:
    - text: your name?
    - listen: name
    - action: crm.note
      with: {text: name}
    - action: crm.note
      with: {text: '"again"'}
    - text: noted
  ping:
    - catch: ping
    - action: crm.ping
`, a)
	want(t, c.say("hi"), "your name?")
	// Two silent interruptions of the wait: the session's Seq comes back
	// each time, the calls' ids do not.
	want(t, c.event("ping", nil))
	want(t, c.event("ping", nil))
	pings := a.ids
	if len(pings) != 2 || pings[0] == "" || pings[0] == pings[1] || c.Session.Wait == nil {
		t.Fatalf("ids of two interruptions: %q; wait %+v", pings, c.Session.Wait)
	}

	stored, err := flows.MarshalSession(c.Session)
	if err != nil {
		t.Fatal(err)
	}
	contact := c.Contact.Clone()
	a.ids = nil
	want(t, c.say("Ann"), "noted")
	first := a.ids

	// The same step again, from what was stored before it.
	if c.Session, err = flows.UnmarshalSession(stored); err != nil {
		t.Fatal(err)
	}
	c.Contact = contact
	a.ids = nil
	want(t, c.say("Ann"), "noted")
	if len(first) != 2 || first[0] == first[1] || strings.Join(a.ids, ",") != strings.Join(first, ",") {
		t.Fatalf("ids of the step and of its re-run: %q, %q", first, a.ids)
	}
	if first[0] == pings[0] || first[0] == pings[1] || first[1] == pings[1] {
		t.Fatalf("the step's ids %q repeat the interruptions' %q", first, pings)
	}
}
