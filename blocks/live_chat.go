package blocks

import "github.com/switchboard-bots/switchboard/flows"

// LiveChat hands the conversation to a human agent and waits until the
// handover ends. While it lasts the bot stays out: the user's messages go to
// the agents.
type LiveChat struct {
	Queue      flows.Template    `yaml:"queue" doc:"The agents' queue; without it, the bot's settings.queue."`
	Priority   string            `yaml:"priority" enum:"low|normal|high|urgent" default:"normal" doc:"How urgent the request is for agents."`
	Message    flows.Templates   `yaml:"message" doc:"Sent to the user when the handover starts; a list of variants sends one picked at random. Write message: \"\" to send nothing."`
	Note       flows.Template    `yaml:"note" doc:"A note for the agents, not shown to the user."`
	Form       flows.Assignments `yaml:"form" doc:"What the bot collected, shown to the agents: names and expressions, like email: contact.email."`
	Timeout    flows.Duration    `yaml:"timeout" doc:"How long the bot waits for the handover to end before on_timeout."`
	OnResolved flows.Target      `yaml:"on_resolved" doc:"Where to go when an agent resolved the conversation; without it the flow continues below."`
	OnNoAgent  flows.Target      `yaml:"on_no_agent" doc:"Where to go when no agent is online when the handover starts; without it the handover waits for an agent and the user is told to leave a message."`
	OnTimeout  flows.Target      `yaml:"on_timeout" doc:"Where to go when the handover timed out; without it the flow continues below."`
}

// defaultHandoverMessage is sent when a LIVE CHAT block sets no message.
const defaultHandoverMessage = "You are being transferred to an agent. Please wait."

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "live_chat",
		Title:       "LIVE CHAT",
		Category:    "Live chat",
		Description: "Hands the conversation to a human agent in a queue, with a note and the collected data, and waits until the handover ends: resolved by an agent, no agent available, or timed out, each with its own branch. The user's messages go to the agents meanwhile.",
		Primary:     "queue",
		New:         func() flows.Block { return &LiveChat{} },
		Example: `/start:
  - text: Let me find someone from billing for you.
  - live_chat: billing
    priority: high
    message: "Connecting you to billing, {{ contact.name ?? 'there' }}..."
    note: Customer asked about an invoice.
    form:
      email: contact.email
    timeout: 30m
    on_no_agent: offline
    on_timeout: offline
  - text: Thanks for chatting with us!
offline:
  - text: Nobody is available right now. We'll email you.`,
	})
}

var (
	_ flows.Enterer = (*LiveChat)(nil)
	_ flows.Resumer = (*LiveChat)(nil)
)

// Enter tells the user, asks for an agent and waits for the handover to end.
func (b *LiveChat) Enter(r flows.Run) flows.Result {
	text := defaultHandoverMessage
	if len(b.Message) > 0 {
		t, err := pick(r, b.Message)
		if err != nil {
			return flows.Fail(err)
		}
		text = t
	}
	queue, err := r.Render(&b.Queue)
	if err != nil {
		return flows.Fail(err)
	}
	note, err := r.Render(&b.Note)
	if err != nil {
		return flows.Fail(err)
	}
	form, err := evalAssignments(r, b.Form)
	if err != nil {
		return flows.Fail(err)
	}
	priority := b.Priority
	if priority == "" {
		priority = "normal"
	}
	if text != "" {
		r.Send(flows.Content{Text: text}, nil)
	}
	if err := r.Handover(flows.HandoverRequest{
		Queue:    queue,
		Priority: priority,
		Message:  text,
		Note:     note,
		Form:     form,
		// With on_no_agent, nobody online ends the handover there.
		NoAgentBranch: !b.OnNoAgent.IsZero(),
	}); err != nil {
		return flows.Fail(err)
	}
	return flows.Suspend(flows.WaitSpec{Kind: flows.WaitHandover, Timeout: b.Timeout.Duration})
}

// Resume takes the branch of the handover's outcome.
func (b *LiveChat) Resume(r flows.Run, ev *flows.Event) flows.Result {
	switch ev.Kind {
	case flows.EventTimer:
		return flows.Goto(&b.OnTimeout)
	case flows.EventHandover:
		switch ev.Outcome {
		case flows.HandoverResolved:
			return flows.Goto(&b.OnResolved)
		case flows.HandoverNoAgent:
			return flows.Goto(&b.OnNoAgent)
		case flows.HandoverTimeout:
			return flows.Goto(&b.OnTimeout)
		}
	}
	return flows.Next()
}
