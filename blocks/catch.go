package blocks

import (
	"github.com/switchboard-bots/switchboard/flows"
)

// Catch makes its skill the handler of named events: when one of them
// arrives (from SEND, the API or a channel), the skill runs from the top.
type Catch struct {
	Events    flows.Templates `yaml:"events" required:"true" doc:"The event name, or a list of names, this skill handles. Names are exact: no {{ }}."`
	Save      string          `yaml:"save" doc:"A variable (or contact.<attribute>) that receives the event's data, a mapping; also readable as event.data while the skill runs."`
	SaveEvent string          `yaml:"save_event" doc:"A variable that receives the name of the event that arrived, for skills that catch several."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "catch",
		Title:       "CATCH",
		Category:    "Events",
		Description: "Makes its skill the handler of one or more named events: when such an event arrives for the contact, the skill runs from the top, whatever the conversation was doing. It must be the first block of its skill; the event's data is in event.data.",
		Primary:     "events",
		New:         func() flows.Block { return &Catch{} },
		Example: `/start:
  - text: Welcome! I'll tell you when your order ships.
order_events:
  - catch: [order_shipped, order_delayed]
    save: shipment
    save_event: what
  - switch:
      - {if: 'what == "order_shipped"', goto: shipped}
  - text: "Your order is delayed until {{ shipment.date }}, sorry."
  - end: true
shipped:
  - text: "Good news: order {{ shipment.order }} is on its way!"`,
	})
}

var (
	_ flows.Enterer      = (*Catch)(nil)
	_ flows.Checker      = (*Catch)(nil)
	_ flows.EventCatcher = (*Catch)(nil)
)

// CatchEvents lists the events the skill handles.
func (b *Catch) CatchEvents() []string {
	out := make([]string, 0, len(b.Events))
	for _, t := range b.Events {
		if eventNameProblem(t.Src) == "" {
			out = append(out, t.Src)
		}
	}
	return out
}

// Check validates the event names.
func (b *Catch) Check(c *flows.Check) {
	if len(b.Events) == 0 {
		c.Errorf(flows.Pos{}, "CATCH needs the name of an event")
	}
	checkEventNames(c, b.Events)
}

// checkEventNames reports bad and repeated event names.
func checkEventNames(c *flows.Check, ts flows.Templates) {
	seen := map[string]bool{}
	for _, t := range ts {
		if msg := eventNameProblem(t.Src); msg != "" {
			c.Errorf(t.Pos, "%s", msg)
			continue
		}
		if seen[t.Src] {
			c.Errorf(t.Pos, "event %q is listed twice", t.Src)
		}
		seen[t.Src] = true
	}
}

// Enter saves the event that entered the skill, if asked to.
func (b *Catch) Enter(r flows.Run) flows.Result {
	data, name := map[string]any{}, ""
	if ev := r.Event(); ev != nil && ev.Kind == flows.EventNamed {
		name = ev.Name
		for k, v := range ev.Data {
			data[k] = v
		}
	}
	if err := save(r, b.Save, data); err != nil {
		return flows.Fail(err)
	}
	if err := save(r, b.SaveEvent, name); err != nil {
		return flows.Fail(err)
	}
	return flows.Next()
}
