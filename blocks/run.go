package blocks

import "github.com/switchboard-bots/switchboard/flows"

// RunSkill runs another skill like a subroutine: when that skill ends, the
// flow continues with the block below RUN.
type RunSkill struct {
	Skill flows.Target `yaml:"skill" required:"true" doc:"The skill to run. It must name a skill, not a block id."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "run",
		Title:       "RUN",
		Category:    "Logic",
		Description: "Runs a skill and comes back: when the skill's last block is done, the flow continues with the block below RUN. A GOTO inside it moves within the call and still comes back when the skill it reached ends; an END, or a tapped goto button, ends the call.",
		Primary:     "skill",
		New:         func() flows.Block { return &RunSkill{} },
		Example: `/start:
  - run: greet
  - text: Now, how can I help?
greet:
  - text: "Hello {{ contact.name ?? 'there' }}!"`,
	})
}

var (
	_ flows.Enterer = (*RunSkill)(nil)
	_ flows.Checker = (*RunSkill)(nil)
)

// Check rejects block ids: RUN enters a skill from its start.
func (b *RunSkill) Check(c *flows.Check) {
	if b.Skill.Ref().Block != 0 {
		c.Errorf(b.Skill.Pos, "RUN runs a skill, and %q is a block id: name its skill, or use goto to jump to the block", b.Skill.Name)
	}
}

// Enter calls the skill.
func (b *RunSkill) Enter(r flows.Run) flows.Result {
	if b.Skill.IsZero() {
		return flows.Failf("RUN names no skill")
	}
	if b.Skill.Ref().Block != 0 {
		return flows.Failf("RUN runs a skill, and %q is a block id", b.Skill.Name)
	}
	return flows.Call(&b.Skill)
}
