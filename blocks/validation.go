package blocks

import "github.com/switchboard-bots/switchboard/flows"

// Validation checks a value against a rule and branches on the outcome.
type Validation struct {
	Value   flows.Template `yaml:"value" required:"true" doc:"The value to check, usually a template like {{ contact.email }}; surrounding spaces are ignored."`
	Rule    Rule           `yaml:",inline"`
	Save    string         `yaml:"save" doc:"Where to store the normalized value when it is valid (emails lower-cased, numbers as numbers, dates as YYYY-MM-DD): a variable name or contact.<attribute>."`
	Valid   flows.Target   `yaml:"valid" doc:"Where to go when the value passes; without it the flow continues below."`
	Invalid flows.Target   `yaml:"invalid" doc:"Where to go when the value fails; without it the flow continues below."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "validation",
		Title:       "VALIDATION",
		Category:    "Logic",
		Description: "Checks a value (an email, a phone number, a number in a range, a date, a pattern, …) and goes to valid or invalid. With validate: expression the condition decides on its own: write it against the data itself, e.g. 'contact.age >= 18'.",
		Primary:     "value",
		New:         func() flows.Block { return &Validation{} },
		Example: `/start:
  - validation: "{{ contact.email }}"
    validate: email
    valid: known
    invalid: ask_email
known:
  - text: "We'll write to {{ contact.email }}."
ask_email:
  - text: What's your email address?
  - listen: contact.email
    validate: email`,
	})
}

var (
	_ flows.Enterer       = (*Validation)(nil)
	_ flows.Checker       = (*Validation)(nil)
	_ flows.FallThrougher = (*Validation)(nil)
)

// Check requires a rule and a writable save name.
func (b *Validation) Check(c *flows.Check) {
	if b.Rule.Validate == "" {
		c.Errorf(flows.Pos{}, "VALIDATION needs validate: what the value must be (email, phone, number, integer, date, url, text, regex or expression)")
	}
	b.Rule.check(c)
	if b.Save != "" {
		checkName(c, flows.Pos{}, "save", b.Save)
	}
	if b.Valid.IsZero() && b.Invalid.IsZero() && b.Save == "" {
		c.Warnf(flows.Pos{}, "this VALIDATION has no valid, invalid or save, so it changes nothing: add where each outcome goes")
	}
}

// FallsThrough is false when both outcomes go elsewhere.
func (b *Validation) FallsThrough() bool { return b.Valid.IsZero() || b.Invalid.IsZero() }

// Enter checks the value and branches.
func (b *Validation) Enter(r flows.Run) flows.Result {
	s, err := r.Render(&b.Value)
	if err != nil {
		return flows.Fail(err)
	}
	v, ok, err := b.Rule.apply(r, s)
	if err != nil {
		return flows.Fail(err)
	}
	if ok {
		if res, refused := storeInput(r, b.Save, v); refused {
			ok = false
		} else if res != nil {
			return *res
		}
	}
	if ok {
		return flows.Goto(&b.Valid)
	}
	return flows.Goto(&b.Invalid)
}
