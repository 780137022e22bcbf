package blocks

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// Action calls an action of an integration plugin (smtp.email.send,
// twilio.sms.send, webhook.post …) with parameters and saves its result.
type Action struct {
	Action    string            `yaml:"action" required:"true" doc:"The action: the integration's name, a dot, and the action's name, like smtp.email.send. switchboard plugin list and GET /api/v1/plugins list them with their parameters."`
	With      flows.Assignments `yaml:"with" doc:"The action's parameters: names and expressions, like to: contact.email. Text needs inner quotes: subject: '\"Your order\"'."`
	Timeout   flows.Duration    `yaml:"timeout" default:"10s" doc:"How long to wait for the action; at most 30s."`
	Save      string            `yaml:"save" doc:"A variable (or contact.<attribute>) for the action's result."`
	SaveError string            `yaml:"save_error" doc:"A variable for what went wrong, in words, when the action failed; emptied when it succeeded."`
	OnError   flows.Target      `yaml:"on_error" doc:"Where to go when the action fails (its parameters do not match the action's schema, the plugin refused it, it timed out, no such action runs). Without it the flow goes to /_error."`
}

const (
	actionDefaultTimeout = 10 * time.Second
	actionMaxTimeout     = 30 * time.Second
)

// actionNameRe is integration.action.
var actionNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*\.[a-z0-9][a-z0-9_.-]*$`)

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "action",
		Title:       "ACTION",
		Category:    "Data",
		Description: "Calls an action of an integration plugin (send an email, an SMS, a signed webhook…) with parameters, saves its result, and branches on failure.",
		Primary:     "action",
		New:         func() flows.Block { return &Action{} },
		Example: `/start:
  - text: What's your email?
  - listen: contact.email
    validate: email
  - action: smtp.email.send
    with:
      to: contact.email
      subject: '"Your quote"'
      body: '"Hello " + (contact.name ?? "there") + ", here is your quote."'
    save: sent
    on_error: no_mail
  - text: "Sent! (message {{ sent.message_id }})"
no_mail:
  - text: I could not send the email right now. Try again later?`,
	})
}

var _ flows.Enterer = (*Action)(nil)

// Check enforces the name's shape and the timeout's bound.
func (b *Action) Check(c *flows.Check) {
	if !actionNameRe.MatchString(b.Action) {
		c.Errorf(flows.Pos{}, "action %q is not integration.action: write it like smtp.email.send", b.Action)
	}
	checkActionTimeout(c, b.Timeout)
}

// Enter calls the action and saves its result.
func (b *Action) Enter(r flows.Run) flows.Result {
	params, err := evalAssignments(r, b.With)
	if err != nil {
		return flows.Fail(err)
	}
	return callAction(r, b.Action, params, b.Timeout, b.Save, b.SaveError, &b.OnError)
}

// callAction runs an integration's action for a block, saves its result
// and its error, and goes on: below on success, to onError (or /_error) on
// failure. ACTION, EMAIL and SMS share it.
func callAction(r flows.Run, name string, params map[string]any, timeout flows.Duration, saveTo, saveError string, onError *flows.Target) flows.Result {
	var res any
	callErr := fmt.Errorf("%s: no integrations run here", name)
	if inv := r.Actions(); inv != nil {
		d := timeout.Duration
		if d <= 0 {
			d = actionDefaultTimeout
		}
		d = min(d, actionMaxTimeout)
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		c := r.Contact()
		res, callErr = inv.Invoke(ctx, name, params, flows.ActionCaller{Bot: r.Bot().ID, Contact: c.ID, Channel: c.Channel, Attributes: c.Attributes, ID: r.NextCallID()})
		if callErr != nil && ctx.Err() != nil {
			callErr = fmt.Errorf("%s: no answer within %s", name, d)
		}
	}
	errText := ""
	if callErr != nil {
		errText = strings.TrimSpace(callErr.Error())
	} else if err := save(r, saveTo, res); err != nil {
		return flows.Fail(err)
	}
	if err := save(r, saveError, errText); err != nil {
		return flows.Fail(err)
	}
	if callErr == nil {
		return flows.Next()
	}
	if !onError.IsZero() {
		return flows.Goto(onError)
	}
	return flows.Fail(callErr)
}

// checkActionTimeout bounds a block's action timeout.
func checkActionTimeout(c *flows.Check, t flows.Duration) {
	if t.Duration > actionMaxTimeout {
		c.Errorf(t.Pos, "timeout %s is too long: an action may take at most %s", t.Src, actionMaxTimeout)
	}
}
