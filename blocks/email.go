package blocks

import (
	"github.com/switchboard-bots/switchboard/flows"
)

// Email sends an email through the smtp integration plugin.
type Email struct {
	To          flows.Template   `yaml:"to" required:"true" doc:"The address, or addresses separated by commas: a template, like {{ contact.email }}."`
	Subject     flows.Template   `yaml:"subject" required:"true" doc:"The subject, a template."`
	Body        flows.Template   `yaml:"body" required:"true" doc:"The text of the email, a template: {{ contact.name }} and any variable are filled in."`
	Attachments []flows.Template `yaml:"attachments" doc:"Files to attach, by http(s) URL (templates); the smtp plugin downloads them."`
	Timeout     flows.Duration   `yaml:"timeout" default:"10s" doc:"How long to wait for the mail server; at most 30s."`
	Save        string           `yaml:"save" doc:"A variable for the result: message_id, the sent email's Message-ID."`
	SaveError   string           `yaml:"save_error" doc:"A variable for what went wrong, in words, when the email could not be sent; emptied when it was."`
	OnError     flows.Target     `yaml:"on_error" doc:"Where to go when the email could not be sent. Without it the flow goes to /_error."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "email",
		Title:       "EMAIL",
		Category:    "Data",
		Description: "Sends an email with a templated subject and body, and attachments, through the smtp integration plugin; failures take on_error.",
		Primary:     "to",
		New:         func() flows.Block { return &Email{} },
		Example: `/start:
  - text: What's your email?
  - listen: contact.email
    validate: email
  - email: "{{ contact.email }}"
    subject: "Your quote, {{ contact.name ?? 'there' }}"
    body: |
      Hello {{ contact.name ?? 'there' }},
      here is the quote you asked for.
    attachments: ["https://example.com/quote.pdf"]
    on_error: no_mail
  - text: Sent! Check your inbox.
no_mail:
  - text: I could not send the email right now.`,
	})
}

var (
	_ flows.Enterer = (*Email)(nil)
	_ flows.Checker = (*Email)(nil)
)

// Check bounds the timeout.
func (b *Email) Check(c *flows.Check) { checkActionTimeout(c, b.Timeout) }

// Enter renders the email and sends it with smtp.email.send.
func (b *Email) Enter(r flows.Run) flows.Result {
	params := map[string]any{}
	for name, t := range map[string]*flows.Template{"to": &b.To, "subject": &b.Subject, "body": &b.Body} {
		v, err := r.Render(t)
		if err != nil {
			return flows.Fail(err)
		}
		params[name] = v
	}
	if len(b.Attachments) > 0 {
		var atts []any
		for i := range b.Attachments {
			u, err := r.Render(&b.Attachments[i])
			if err != nil {
				return flows.Fail(err)
			}
			atts = append(atts, map[string]any{"url": u})
		}
		params["attachments"] = atts
	}
	return callAction(r, "smtp.email.send", params, b.Timeout, b.Save, b.SaveError, &b.OnError)
}
