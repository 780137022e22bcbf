package blocks

import "github.com/switchboard-bots/switchboard/flows"

// Listen waits for the user's next message and saves it.
type Listen struct {
	Save      string          `yaml:"save" doc:"Where to store the reply: a variable name, or contact.<attribute> to store it on the contact (converted to the attribute's type)."`
	Rule      Rule            `yaml:",inline"`
	Retry     flows.Templates `yaml:"retry" doc:"Sent when the reply fails validation, before waiting again."`
	Attempts  int             `yaml:"attempts" default:"3" doc:"How many replies may fail validation before on_invalid."`
	OnInvalid flows.Target    `yaml:"on_invalid" doc:"Where to go when every attempt failed; without it the flow continues with nothing saved."`
	Timeout   flows.Duration  `yaml:"timeout" doc:"How long to wait for a reply."`
	OnTimeout flows.Target    `yaml:"on_timeout" doc:"Where to go when the timeout passes; without it the flow continues."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "listen",
		Title:       "LISTEN",
		Category:    "Input",
		Description: "Waits for the user's next message and saves it to a variable or a contact attribute, optionally validating it with retries, and with a timeout.",
		Primary:     "save",
		New:         func() flows.Block { return &Listen{} },
		Example: `/start:
  - text: What's your email?
  - listen: contact.email
    validate: email
    retry: That doesn't look like an email address. Please try again.
    attempts: 2
    on_invalid: /_start_live_chat
    timeout: 10m
    on_timeout: bye
  - text: "Thanks, we'll write to {{ contact.email }}."
bye:
  - text: Talk to you later!`,
	})
}

var (
	_ flows.Enterer = (*Listen)(nil)
	_ flows.Resumer = (*Listen)(nil)
	_ flows.Checker = (*Listen)(nil)
)

// Check validates the rule and the name replies are saved to.
func (b *Listen) Check(c *flows.Check) {
	b.Rule.check(c)
	if b.Save != "" {
		checkName(c, flows.Pos{}, "save", b.Save)
	}
	if b.Attempts < 0 {
		c.Errorf(flows.Pos{}, "attempts must be 1 or more")
	}
}

func (b *Listen) wait(attempts int) flows.Result {
	return flows.Suspend(flows.WaitSpec{Kind: flows.WaitMessage, Timeout: b.Timeout.Duration, Attempts: attempts})
}

// Enter starts waiting.
func (b *Listen) Enter(r flows.Run) flows.Result { return b.wait(0) }

// Resume saves a valid reply, asks again after an invalid one, or takes the
// timeout branch.
func (b *Listen) Resume(r flows.Run, ev *flows.Event) flows.Result {
	if ev.Kind == flows.EventTimer {
		return flows.Goto(&b.OnTimeout)
	}
	if ev.Kind != flows.EventMessage || ev.Message == nil {
		return b.wait(r.Wait().Attempts)
	}
	v, ok, err := b.Rule.apply(r, replyText(ev.Message))
	if err != nil {
		return flows.Fail(err)
	}
	if ok {
		if res, refused := storeInput(r, b.Save, v); !refused {
			if res != nil {
				return *res
			}
		} else {
			ok = false
		}
	}
	if ok {
		return flows.Next()
	}
	attempts := r.Wait().Attempts + 1
	max := b.Attempts
	if max == 0 {
		max = 3
	}
	if attempts >= max {
		return flows.Goto(&b.OnInvalid)
	}
	if len(b.Retry) > 0 {
		text, err := pick(r, b.Retry)
		if err != nil {
			return flows.Fail(err)
		}
		r.Send(flows.Content{Text: text}, nil)
	}
	return b.wait(attempts)
}

// replyText is what a reply says: the payload of a tapped button or quick
// reply (the value it stands for), else the typed text, else the URL of the
// first attachment.
func replyText(m *flows.Content) string {
	if m == nil {
		return ""
	}
	switch {
	case m.Payload != "":
		return m.Payload
	case m.Text != "":
		return m.Text
	case len(m.Attachments) > 0:
		return m.Attachments[0].URL
	}
	return ""
}
