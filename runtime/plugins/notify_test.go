package plugins

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
)

// recorder is an integration host that records each call's action and id
// and fails the first one, retryably.
type recorder struct {
	mu    sync.Mutex
	calls []string
	done  chan struct{}
	want  int
}

func (r *recorder) Invoke(_ context.Context, name string, _ map[string]any, from flows.ActionCaller) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, name+" "+from.ID)
	if len(r.calls) == r.want {
		close(r.done)
	}
	if len(r.calls) == 1 {
		return nil, sdk.Retryable(errors.New("busy"), 0)
	}
	return nil, nil
}

func notifyBot(t *testing.T) *flows.Bot {
	t.Helper()
	bot, ds := flows.Load("b.yaml", []byte(`id: b
notify:
  - on: ["*"]
    webhook: true
  - on: [lead]
    email: ops@example.com
skills:
  /start:
    - text: hi
`))
	if bot == nil {
		t.Fatal(ds.Error())
	}
	return bot
}

// TestNotificationCallIDs: the call that delivers a notification to a
// target has one id, the same on every attempt, derived from the
// notification's own id (a TRIGGER's, stamped by the engine) and the
// target; without one the notification gets a random id.
func TestNotificationCallIDs(t *testing.T) {
	bot := notifyBot(t)
	rec := &recorder{done: make(chan struct{}), want: 6}
	n := NewNotifier(rec, func(string) *flows.Bot { return bot }, nil)
	n.Start()
	defer n.Stop()
	contact := &flows.Contact{ID: "c1", Bot: "b", Channel: "webchat"}
	n.Committed(pipeline.Committed{Contact: contact, Notifications: []flows.Notification{{Name: "lead", ID: "n1"}, {Name: "other", ID: "n2"}}})
	n.Notify("b", "handover_waiting", nil, flows.ActionCaller{Bot: "b", Contact: "c1"})
	n.Notify("b", "handover_waiting", nil, flows.ActionCaller{Bot: "b", Contact: "c1"})
	select {
	case <-rec.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("calls: %q", rec.calls)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []string{
		"webhook.post " + flows.CallID("n1", "webhook"), // refused once, retried
		"webhook.post " + flows.CallID("n1", "webhook"),
		"smtp.email.send " + flows.CallID("n1", "email", "ops@example.com"),
		"webhook.post " + flows.CallID("n2", "webhook"),
	}
	if fmt.Sprint(rec.calls[:4]) != fmt.Sprint(want) {
		t.Errorf("calls:\n %q\nwant\n %q", rec.calls[:4], want)
	}
	if a, b := rec.calls[4], rec.calls[5]; a == b || len(a) != len("webhook.post ")+32 {
		t.Errorf("notifications without an id: %q, %q", a, b)
	}
}

// A long notification goes out as one SMS cut at Twilio's limit in
// characters, not bytes, so the text stays valid UTF-8.
func TestSMSNotificationIsCutByCharacters(t *testing.T) {
	nt := notice{bot: &flows.Bot{ID: "b", Name: "Shop"}, name: "lead", data: map[string]any{"note": strings.Repeat("é", 2000)}}
	action, params := target(nt, &flows.NotifyTarget{SMS: "+15550100"})
	text, _ := params["text"].(string)
	if action != "twilio.sms.send" || !utf8.ValidString(text) || utf8.RuneCountInString(text) != maxSMS || !strings.HasSuffix(text, "…") {
		t.Fatalf("%s: %d characters, valid %v, ends %q", action, utf8.RuneCountInString(text), utf8.ValidString(text), text[len(text)-6:])
	}
	short := notice{bot: nt.bot, name: "lead", data: map[string]any{"note": "call back"}}
	if _, params := target(short, &flows.NotifyTarget{SMS: "+15550100"}); strings.Contains(params["text"].(string), "…") {
		t.Fatalf("a short notification was cut: %q", params["text"])
	}
}
