package blocks

import (
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
)

// Lead asks for the contact's name, email and phone number, one question at
// a time, and saves the answers on the contact.
type Lead struct {
	Ask       []string        `yaml:"ask" doc:"The questions to ask, in order: name, email and phone, or some of them. Default: all three."`
	Prompts   LeadPrompts     `yaml:"prompts" doc:"What to ask for each field."`
	Retry     flows.Templates `yaml:"retry" default:"That doesn't look right, please try again." doc:"Sent when an answer is not a valid name, email or phone number, before asking again."`
	Attempts  int             `yaml:"attempts" default:"3" doc:"How many invalid answers to one question before on_invalid."`
	SkipKnown *bool           `yaml:"skip_known" default:"true" doc:"Skip the questions whose answer the contact already has (a name, an email or a phone attribute)."`
	Timeout   flows.Duration  `yaml:"timeout" doc:"How long to wait for each answer."`
	OnTimeout flows.Target    `yaml:"on_timeout" doc:"Where to go when an answer does not come in time; without it the flow continues below."`
	OnInvalid flows.Target    `yaml:"on_invalid" doc:"Where to go when every attempt at one question failed; without it that question is skipped and the next one asked."`
}

// LeadPrompts are the questions LEAD asks.
type LeadPrompts struct {
	Name  flows.Templates `yaml:"name" default:"What's your name?" doc:"Asks for the name."`
	Email flows.Templates `yaml:"email" default:"What's your email address?" doc:"Asks for the email address."`
	Phone flows.Templates `yaml:"phone" default:"What's your phone number?" doc:"Asks for the phone number."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "lead",
		Title:       "LEAD",
		Category:    "Input",
		Description: "Collects the contact's name, email address and phone number, one question at a time with validation and retries, into contact.name, contact.email and contact.phone; questions already answered are skipped.",
		Primary:     "ask",
		New:         func() flows.Block { return &Lead{} },
		Example: `/start:
  - text: Let's get you a quote.
  - lead: [email, phone]
    prompts:
      email: "What's your email, {{ contact.name ?? 'friend' }}?"
    attempts: 2
    timeout: 1h
    on_timeout: later
  - text: "Thanks! We'll send the quote to {{ contact.email }}."
later:
  - text: No problem, come back any time.`,
	})
}

var (
	_ flows.Enterer = (*Lead)(nil)
	_ flows.Resumer = (*Lead)(nil)
	_ flows.Checker = (*Lead)(nil)
)

// leadFields are the questions LEAD knows, in their default order.
var leadFields = []string{"name", "email", "phone"}

// leadRules validate the answers.
var leadRules = map[string]*Rule{
	"name":  {Validate: "text"},
	"email": {Validate: "email"},
	"phone": {Validate: "phone"},
}

// Check reports unknown and repeated questions.
func (b *Lead) Check(c *flows.Check) {
	seen := map[string]bool{}
	for _, q := range b.Ask {
		if leadRules[q] == nil {
			c.Errorf(flows.Pos{}, "LEAD cannot ask for %q: ask for name, email or phone", q)
			continue
		}
		if seen[q] {
			c.Errorf(flows.Pos{}, "LEAD asks for %s twice: list each field once", q)
		}
		seen[q] = true
	}
	if b.Attempts < 0 {
		c.Errorf(flows.Pos{}, "attempts must be 1 or more")
	}
}

func (b *Lead) questions() []string {
	if len(b.Ask) == 0 {
		return leadFields
	}
	return b.Ask
}

// known reports whether the contact already has the field.
func (b *Lead) known(r flows.Run, field string) bool {
	if b.SkipKnown != nil && !*b.SkipKnown {
		return false
	}
	switch v := r.Get("contact." + field).(type) {
	case nil:
		return false
	case string:
		return strings.TrimSpace(v) != ""
	}
	return true
}

// ask moves to the first question from step on that still needs an answer:
// it sends the question and waits, or continues when none is left.
func (b *Lead) ask(r flows.Run, step int) flows.Result {
	qs := b.questions()
	for ; step < len(qs); step++ {
		if !b.known(r, qs[step]) {
			break
		}
	}
	if step >= len(qs) {
		return flows.Next()
	}
	text, err := b.prompt(r, qs[step])
	if err != nil {
		return flows.Fail(err)
	}
	r.Send(flows.Content{Text: text}, nil)
	return b.wait(step, 0)
}

func (b *Lead) wait(step, attempts int) flows.Result {
	return flows.Suspend(flows.WaitSpec{Kind: flows.WaitMessage, Timeout: b.Timeout.Duration, Step: step, Attempts: attempts})
}

func (b *Lead) prompt(r flows.Run, field string) (string, error) {
	var ts flows.Templates
	switch field {
	case "name":
		ts = b.Prompts.Name
	case "email":
		ts = b.Prompts.Email
	case "phone":
		ts = b.Prompts.Phone
	}
	if len(ts) == 0 {
		return leadDefaultPrompts[field], nil
	}
	return pick(r, ts)
}

var leadDefaultPrompts = map[string]string{
	"name":  "What's your name?",
	"email": "What's your email address?",
	"phone": "What's your phone number?",
}

// Enter asks the first question the contact has no answer to.
func (b *Lead) Enter(r flows.Run) flows.Result { return b.ask(r, 0) }

// Resume saves a valid answer and asks the next question, asks again after
// an invalid one, or takes the timeout branch.
func (b *Lead) Resume(r flows.Run, ev *flows.Event) flows.Result {
	w := r.Wait()
	if w == nil {
		return b.ask(r, 0)
	}
	if ev.Kind == flows.EventTimer {
		return flows.Goto(&b.OnTimeout)
	}
	qs := b.questions()
	if w.Step < 0 || w.Step >= len(qs) {
		// The bot changed under the session: the question is gone.
		return flows.Next()
	}
	if ev.Kind != flows.EventMessage || ev.Message == nil {
		return b.wait(w.Step, w.Attempts)
	}
	field := qs[w.Step]
	rule := leadRules[field]
	if rule == nil {
		return flows.Failf("LEAD cannot ask for %q: ask for name, email or phone", field)
	}
	v, ok, err := rule.apply(r, replyText(ev.Message))
	if err != nil {
		return flows.Fail(err)
	}
	if ok {
		if res, refused := storeInput(r, "contact."+field, v); refused {
			ok = false
		} else if res != nil {
			return *res
		}
	}
	if ok {
		return b.ask(r, w.Step+1)
	}
	attempts := w.Attempts + 1
	max := b.Attempts
	if max == 0 {
		max = 3
	}
	if attempts >= max {
		if !b.OnInvalid.IsZero() {
			return flows.Goto(&b.OnInvalid)
		}
		return b.ask(r, w.Step+1)
	}
	text := "That doesn't look right, please try again."
	if len(b.Retry) > 0 {
		if text, err = pick(r, b.Retry); err != nil {
			return flows.Fail(err)
		}
	}
	r.Send(flows.Content{Text: text}, nil)
	return b.wait(w.Step, attempts)
}
