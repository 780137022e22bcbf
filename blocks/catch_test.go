package blocks_test

import (
	"strings"
	"testing"
)

func TestCatchSavesEventAndName(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: welcome
  orders:
    - catch: [order_shipped, order_delayed]
      save: shipment
      save_event: what
    - text: "{{ what }}: order {{ shipment.order }}"
`)
	want(t, c.say("hi"), "welcome")
	want(t, c.event("order_shipped", map[string]any{"order": "A-1"}), "order_shipped: order A-1")
	want(t, c.event("order_delayed", map[string]any{"order": "B-2"}), "order_delayed: order B-2")
	if c.Session.Vars["what"] != "order_delayed" {
		t.Fatalf("vars: %v", c.Session.Vars)
	}
}

func TestCatchInterruptsAWait(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: your name?
    - listen: name
    - text: "thanks {{ name }}"
  alert:
    - catch: alert
      save: contact.last_alert
    - text: "alert: {{ event.data.msg }}"
`)
	want(t, c.say("hi"), "your name?")
	want(t, c.event("alert", map[string]any{"msg": "outage"}), "alert: outage")
	if a, ok := c.Contact.Attributes["last_alert"].(map[string]any); !ok || a["msg"] != "outage" {
		t.Fatalf("attributes: %v", c.Contact.Attributes)
	}
	if c.Session.Wait != nil {
		t.Fatalf("the LISTEN still waits: %+v", c.Session.Wait)
	}
}

func TestCatchEnteredByGotoSavesNothing(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - goto: handler
  handler:
    - catch: ping
      save: data
      save_event: name
    - text: "data={{ data }} name={{ name }}."
`)
	want(t, c.say("hi"), "data={} name=.")
}

func TestCatchEventWithoutData(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - text: hi
  h:
    - catch: ping
      save: data
    - text: "{{ len(data) }} {{ data.x ?? 'none' }}"
`)
	c.say("hi")
	want(t, c.event("ping", nil), "0 none")
}

func TestCatchLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - text: hi
  a:
    - catch: [ping, "x {{ y }}", ping, "two words"]
  b:
    - text: first
    - catch: other
  c:
    - catch: pong
  d:
    - catch: pong
`)
	for _, w := range []string{
		`test.yaml:7:22: event name "x {{ y }}" cannot be a template`,
		`test.yaml:7:34: event "ping" is listed twice`,
		`test.yaml:7:41: event name "two words" contains spaces`,
		`test.yaml:10:7: CATCH must be the first block of its skill`,
		`test.yaml:14:7: event "pong" is already caught by skill "c"`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}
