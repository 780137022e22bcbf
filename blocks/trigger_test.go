package blocks_test

import (
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

func TestTriggerRaisesNotification(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - listen: contact.email
    - trigger: new_lead
      with:
        email: contact.email
        score: 10 * 2
    - trigger: ping
    - text: thanks
`)
	var got []flows.Notification
	c.OnSprint = func(sp *flows.Sprint) { got = append(got, sp.Notifications...) }
	c.say("hi")
	want(t, c.say("ann@example.com"), "thanks")
	if len(got) != 2 || got[0].Name != "new_lead" || got[0].Data["email"] != "ann@example.com" || got[0].Data["score"] != 20 || got[1].Name != "ping" || got[1].Data != nil {
		t.Fatalf("notifications: %+v", got)
	}
	// Each has its own id, for the calls that deliver it.
	if got[0].ID == "" || got[0].ID == got[1].ID {
		t.Fatalf("notification ids: %q, %q", got[0].ID, got[1].ID)
	}
}

func TestTriggerLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - trigger: "lead {{ x }}"
    - trigger: ok
      with: {a: "1 +"}
`)
	for _, w := range []string{
		`test.yaml:5:7: notification name "lead {{ x }}" cannot be a template`,
		`test.yaml:7:20: expression "1 +" does not compile`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}
