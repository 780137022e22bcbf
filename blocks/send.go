package blocks

import (
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
)

// Send raises a named event for this contact, now or later. A skill that
// starts with CATCH for that event runs when it arrives, and a WAITFOR
// waiting for it resumes.
type Send struct {
	Event string            `yaml:"event" required:"true" doc:"The event's name, as CATCH and WAITFOR name it."`
	Delay flows.Duration    `yaml:"delay" doc:"How long from now the event arrives; without it, as soon as the flow waits or ends."`
	With  flows.Assignments `yaml:"with" doc:"The event's data: names and expressions, evaluated when SEND runs. The receiving skill reads them as event.data.<name>."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "send",
		Title:       "SEND",
		Category:    "Events",
		Description: "Raises a named event for this contact, now or after a delay, with data evaluated when SEND runs. The skill that CATCHes it takes over the conversation when it arrives; a WAITFOR waiting for it resumes instead.",
		Primary:     "event",
		New:         func() flows.Block { return &Send{} },
		Example: `/start:
  - text: I'll remind you about your cart in an hour.
  - send: cart_reminder
    delay: 1h
    with:
      items: 3
      owner: contact.name
reminder:
  - catch: cart_reminder
  - text: "{{ event.data.owner }}, you still have {{ event.data.items }} items in your cart."`,
	})
}

var (
	_ flows.Enterer = (*Send)(nil)
	_ flows.Checker = (*Send)(nil)
)

// Check validates the event name.
func (b *Send) Check(c *flows.Check) {
	if msg := eventNameProblem(b.Event); msg != "" {
		c.Errorf(flows.Pos{}, "SEND: %s", msg)
	}
}

// Enter evaluates the data and emits the event.
func (b *Send) Enter(r flows.Run) flows.Result {
	data, err := evalAssignments(r, b.With)
	if err != nil {
		return flows.Fail(err)
	}
	if err := r.Emit(b.Event, data, b.Delay.Duration); err != nil {
		return flows.Fail(err)
	}
	return flows.Next()
}

// evalAssignments evaluates a mapping of names to expressions into a map;
// nil when there is none.
func evalAssignments(r flows.Run, as flows.Assignments) (map[string]any, error) {
	if len(as) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(as))
	for i := range as {
		a := &as[i]
		v, err := r.Eval(&a.Expr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name, err)
		}
		out[a.Name] = v
	}
	return out, nil
}

// eventNameProblem says what is wrong with an event name, or "".
func eventNameProblem(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "the event name is empty"
	case strings.Contains(name, "{{"):
		return fmt.Sprintf("event name %q cannot be a template: events are matched by their exact name", name)
	case strings.ContainsAny(name, " \t\r\n"):
		return fmt.Sprintf("event name %q contains spaces: use letters, digits, _ or -", name)
	}
	return ""
}
