package blocks

import "github.com/switchboard-bots/switchboard/flows"

// Goto jumps to a skill or a block id.
type Goto struct {
	Target flows.Target `yaml:"target" required:"true" doc:"The skill or block id to jump to."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "goto",
		Title:       "GOTO",
		Category:    "Logic",
		Description: "Jumps to a skill or to the block with that id; the blocks below it never run.",
		Primary:     "target",
		New:         func() flows.Block { return &Goto{} },
		Example: `/start:
  - text: Let's look up your order.
  - goto: track
track:
  - text: What's your order number?
    id: ask_order`,
	})
}

var (
	_ flows.Enterer       = (*Goto)(nil)
	_ flows.FallThrougher = (*Goto)(nil)
)

// FallsThrough is false: the flow always jumps.
func (b *Goto) FallsThrough() bool { return false }

// Enter jumps.
func (b *Goto) Enter(r flows.Run) flows.Result { return flows.Goto(&b.Target) }
