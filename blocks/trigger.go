package blocks

import (
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
)

// Trigger raises a notification for the bot's owners: the runtime hands it
// to the bot's notification targets (a webhook, an email, the inbox).
type Trigger struct {
	Notification string            `yaml:"notification" required:"true" doc:"The notification's name, which the bot's notification targets subscribe to."`
	With         flows.Assignments `yaml:"with" doc:"Data sent with the notification: names and expressions, evaluated when TRIGGER runs."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "trigger",
		Title:       "TRIGGER",
		Category:    "Events",
		Description: "Raises a notification, with data, for the bot's owners and integrations (a webhook, an email, the agents' inbox); the conversation continues at once.",
		Primary:     "notification",
		New:         func() flows.Block { return &Trigger{} },
		Example: `/start:
  - text: What's your email? We'll get back to you.
  - listen: contact.email
    validate: email
  - trigger: new_lead
    with:
      email: contact.email
      name: contact.name
  - text: Thanks, talk soon!`,
	})
}

var (
	_ flows.Enterer = (*Trigger)(nil)
	_ flows.Checker = (*Trigger)(nil)
)

// Check validates the notification name.
func (b *Trigger) Check(c *flows.Check) {
	switch {
	case strings.TrimSpace(b.Notification) == "":
		c.Errorf(flows.Pos{}, "TRIGGER needs the name of a notification")
	case strings.Contains(b.Notification, "{{"):
		c.Errorf(flows.Pos{}, "notification name %q cannot be a template: put changing values in with", b.Notification)
	}
}

// Enter evaluates the data and raises the notification.
func (b *Trigger) Enter(r flows.Run) flows.Result {
	data, err := evalAssignments(r, b.With)
	if err != nil {
		return flows.Fail(err)
	}
	if err := r.Notify(flows.Notification{Name: b.Notification, Data: data}); err != nil {
		return flows.Fail(err)
	}
	return flows.Next()
}
