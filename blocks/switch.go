package blocks

import "github.com/switchboard-bots/switchboard/flows"

// Switch branches on the first case whose condition is true.
type Switch struct {
	Cases []Case `yaml:"cases" required:"true" doc:"Cases tried in order; the first whose if is true wins, else is taken when none is."`
}

// Case is one branch of a SWITCH.
type Case struct {
	If   flows.Expr   `yaml:"if" doc:"A condition, e.g. 'input matches \"(?i)agent\"' or 'contact.plan == \"gold\"'."`
	Goto flows.Target `yaml:"goto" doc:"Where to go when the condition is true."`
	Else flows.Target `yaml:"else" doc:"Where to go when no case matched; the last case."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "switch",
		Title:       "SWITCH",
		Category:    "Logic",
		Description: "Branches the conversation: tries its cases in order and goes where the first true condition says; without a match it takes else, or continues below.",
		Primary:     "cases",
		New:         func() flows.Block { return &Switch{} },
		Example: `/start:
  - text: Ask me anything.
  - listen: question
  - switch:
      - {if: 'question matches "(?i)\\b(agent|human)\\b"', goto: /_start_live_chat}
      - {if: 'contact.plan == "gold"', goto: vip}
      - {else: /default}
vip:
  - text: Welcome back, gold member.
/default:
  - text: Sorry, I did not get that.`,
	})
}

var (
	_ flows.Enterer       = (*Switch)(nil)
	_ flows.Checker       = (*Switch)(nil)
	_ flows.FallThrougher = (*Switch)(nil)
)

// Check enforces the shape of cases.
func (b *Switch) Check(c *flows.Check) {
	for i, cs := range b.Cases {
		switch {
		case !cs.Else.IsZero():
			if !cs.If.IsZero() || !cs.Goto.IsZero() {
				c.Errorf(cs.Else.Pos, "an else case takes no if or goto: write it as {else: target}")
			}
			if i != len(b.Cases)-1 {
				c.Errorf(cs.Else.Pos, "else must be the last case: cases after it never run")
			}
		case cs.If.IsZero():
			c.Errorf(cs.Goto.Pos, "case %d needs an if condition (or is it the else?)", i+1)
		case cs.Goto.IsZero():
			c.Errorf(cs.If.Pos, "case %d needs a goto: where should the conversation go when it is true?", i+1)
		}
	}
}

// FallsThrough is false when an else catches every remaining case.
func (b *Switch) FallsThrough() bool {
	return len(b.Cases) == 0 || b.Cases[len(b.Cases)-1].Else.IsZero()
}

// Enter evaluates the cases.
func (b *Switch) Enter(r flows.Run) flows.Result {
	for i := range b.Cases {
		cs := &b.Cases[i]
		if !cs.Else.IsZero() {
			return flows.Goto(&cs.Else)
		}
		ok, err := r.Truthy(&cs.If)
		if err != nil {
			return flows.Fail(err)
		}
		if ok {
			return flows.Goto(&cs.Goto)
		}
	}
	return flows.Next()
}
