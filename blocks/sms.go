package blocks

import (
	"github.com/switchboard-bots/switchboard/flows"
)

// SMS sends a text message through the twilio integration plugin.
type SMS struct {
	To        flows.Template `yaml:"to" required:"true" doc:"The phone number in international form (+15550001111): a template, like {{ contact.phone }}."`
	Message   flows.Template `yaml:"message" required:"true" doc:"The message, a template; at most 1600 characters once filled in."`
	Timeout   flows.Duration `yaml:"timeout" default:"10s" doc:"How long to wait for the SMS provider; at most 30s."`
	Save      string         `yaml:"save" doc:"A variable for the result: sid and status of the message at the provider."`
	SaveError string         `yaml:"save_error" doc:"A variable for what went wrong, in words, when the SMS could not be sent; emptied when it was."`
	OnError   flows.Target   `yaml:"on_error" doc:"Where to go when the SMS could not be sent. Without it the flow goes to /_error."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "sms",
		Title:       "SMS",
		Category:    "Data",
		Description: "Sends a text message with a templated text through the twilio integration plugin; failures take on_error.",
		Primary:     "to",
		New:         func() flows.Block { return &SMS{} },
		Example: `/start:
  - text: What's your mobile number, with its country code?
  - listen: mobile
  - sms: "{{ mobile }}"
    message: "Your code is 4821. It expires in 10 minutes."
    on_error: no_sms
  - text: I sent you a code.
no_sms:
  - text: I could not send the text message right now.`,
	})
}

var (
	_ flows.Enterer = (*SMS)(nil)
	_ flows.Checker = (*SMS)(nil)
)

// Check bounds the timeout.
func (b *SMS) Check(c *flows.Check) { checkActionTimeout(c, b.Timeout) }

// Enter renders the message and sends it with twilio.sms.send.
func (b *SMS) Enter(r flows.Run) flows.Result {
	to, err := r.Render(&b.To)
	if err != nil {
		return flows.Fail(err)
	}
	text, err := r.Render(&b.Message)
	if err != nil {
		return flows.Fail(err)
	}
	return callAction(r, "twilio.sms.send", map[string]any{"to": to, "text": text}, b.Timeout, b.Save, b.SaveError, &b.OnError)
}
