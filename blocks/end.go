package blocks

import "github.com/switchboard-bots/switchboard/flows"

// End ends the conversation flow: the bot waits for nothing and the next
// message is routed afresh (an intent, a button or /default).
type End struct{}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "end",
		Title:       "END",
		Category:    "Logic",
		Description: "Ends the flow: nothing below it runs, and the bot's next reply depends on what the user says next. Inside a skill called by RUN it ends the whole flow, not just that skill.",
		New:         func() flows.Block { return &End{} },
		Example: `/start:
  - text: That's all for today. Bye!
  - end: true`,
	})
}

var (
	_ flows.Enterer       = (*End)(nil)
	_ flows.FallThrougher = (*End)(nil)
)

// FallsThrough is false: nothing runs after END.
func (b *End) FallsThrough() bool { return false }

// Enter ends the flow.
func (b *End) Enter(r flows.Run) flows.Result { return flows.End() }
