package blocks

import "github.com/switchboard-bots/switchboard/flows"

// Timer pauses the flow for a while.
type Timer struct {
	Wait          flows.Duration `yaml:"wait" required:"true" doc:"How long to pause, like 30s, 10m, 2h or 1d."`
	Interruptible bool           `yaml:"interruptible" default:"false" doc:"When true, a message from the user cancels the pause and is answered as usual (an intent, a button, /default), and the blocks below TIMER do not run. When false, messages during the pause are ignored."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "timer",
		Title:       "TIMER",
		Category:    "Time",
		Description: "Pauses the flow for a while, then continues with the block below. Messages during the pause are ignored, unless the timer is interruptible: then a message cancels it and is answered as usual.",
		Primary:     "wait",
		New:         func() flows.Block { return &Timer{} },
		Example: `/start:
  - text: Your code is on its way.
  - timer: 30s
    interruptible: true
  - text: Did you get it? If not, just say "resend".`,
	})
}

var (
	_ flows.Enterer = (*Timer)(nil)
	_ flows.Resumer = (*Timer)(nil)
	_ flows.Checker = (*Timer)(nil)
)

// Check rejects a zero pause, which would never end.
func (b *Timer) Check(c *flows.Check) {
	if b.Wait.Duration <= 0 {
		c.Errorf(b.Wait.Pos, "TIMER needs a pause longer than zero, like 30s or 10m")
	}
}

// Enter starts the pause.
func (b *Timer) Enter(r flows.Run) flows.Result {
	if b.Wait.Duration <= 0 {
		return flows.Next()
	}
	return flows.Suspend(flows.WaitSpec{Kind: flows.WaitTimer, Timeout: b.Wait.Duration, Interruptible: b.Interruptible})
}

// Resume continues when the pause is over.
func (b *Timer) Resume(r flows.Run, ev *flows.Event) flows.Result { return flows.Next() }
