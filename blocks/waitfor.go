package blocks

import "github.com/switchboard-bots/switchboard/flows"

// WaitFor waits for the user's next message, for one of some named events,
// or for either.
type WaitFor struct {
	Events    flows.Templates `yaml:"events" doc:"An event name, or a list of names, that end the wait (sent by SEND, the API or a channel)."`
	Message   *bool           `yaml:"message" default:"true" doc:"Whether a message from the user ends the wait. With false, messages are ignored until an event arrives."`
	Save      string          `yaml:"save" doc:"A variable (or contact.<attribute>) for what ended the wait: the message (a tapped button's payload, else its text), or the event's data (a mapping)."`
	SaveEvent string          `yaml:"save_event" doc:"A variable for the name of the event that ended the wait, or \"message\" for a message."`
	Timeout   flows.Duration  `yaml:"timeout" doc:"How long to wait; without it the wait has no end."`
	OnTimeout flows.Target    `yaml:"on_timeout" doc:"Where to go when the timeout passes; without it the flow continues below. Nothing is saved on a timeout."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "waitfor",
		Title:       "WAITFOR",
		Category:    "Time",
		Description: "Waits for the user's next message or for a named event (a payment confirmed, a document signed), with an optional timeout, and saves what arrived.",
		Primary:     "events",
		New:         func() flows.Block { return &WaitFor{} },
		Example: `/start:
  - text: "Please pay with this link: https://pay.example.com. I'll wait here."
  - waitfor: [payment_ok, payment_failed]
    message: false
    save: payment
    save_event: outcome
    timeout: 1h
    on_timeout: too_late
  - text: "Payment {{ outcome == 'payment_ok' ? 'received' : 'failed' }}."
too_late:
  - text: The payment link has expired.`,
	})
}

var (
	_ flows.Enterer = (*WaitFor)(nil)
	_ flows.Resumer = (*WaitFor)(nil)
	_ flows.Checker = (*WaitFor)(nil)
)

func (b *WaitFor) message() bool { return b.Message == nil || *b.Message }

// Check requires something that can end the wait.
func (b *WaitFor) Check(c *flows.Check) {
	if !b.message() && len(b.Events) == 0 {
		c.Errorf(flows.Pos{}, "WAITFOR with message: false needs events to wait for, or it would wait forever")
	}
	checkEventNames(c, b.Events)
	if !b.OnTimeout.IsZero() && b.Timeout.Duration <= 0 {
		c.Errorf(b.OnTimeout.Pos, "on_timeout needs a timeout: how long should WAITFOR wait?")
	}
}

func (b *WaitFor) names() []string {
	if len(b.Events) == 0 {
		return nil
	}
	out := make([]string, len(b.Events))
	for i, t := range b.Events {
		out[i] = t.Src
	}
	return out
}

// Enter starts waiting. Without messages, the wait is a timer wait that
// ignores messages; the named events resume it either way.
func (b *WaitFor) Enter(r flows.Run) flows.Result {
	kind := flows.WaitMessage
	if !b.message() {
		kind = flows.WaitTimer
	}
	return flows.Suspend(flows.WaitSpec{Kind: kind, Events: b.names(), Timeout: b.Timeout.Duration})
}

// Resume saves the message or event that ended the wait, or takes the
// timeout branch.
func (b *WaitFor) Resume(r flows.Run, ev *flows.Event) flows.Result {
	var v any
	name := ""
	switch ev.Kind {
	case flows.EventTimer:
		return flows.Goto(&b.OnTimeout)
	case flows.EventMessage:
		name = "message"
		v = replyText(ev.Message)
	case flows.EventNamed:
		name = ev.Name
		data := ev.Data
		if data == nil {
			data = map[string]any{}
		}
		v = data
	default:
		return flows.Next()
	}
	if err := save(r, b.Save, v); err != nil {
		return flows.Fail(err)
	}
	if err := save(r, b.SaveEvent, name); err != nil {
		return flows.Fail(err)
	}
	return flows.Next()
}
