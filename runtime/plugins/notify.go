package plugins

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
)

// Notifier hands the bots' notifications (TRIGGER's, and the runtime's own
// such as handover_waiting) to the targets of each bot's notify list,
// through the integrations: webhook.post, smtp.email.send, twilio.sms.send.
// One goroutine, owned by the Notifier, sends them, so that a slow
// integration never holds a conversation up; its queue is bounded, and a
// notification that finds it full is dropped and logged.
type Notifier struct {
	actions flows.ActionInvoker
	bot     func(id string) *flows.Bot
	log     *slog.Logger
	q       chan notice
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

type notice struct {
	bot  *flows.Bot
	name string
	data map[string]any
	// from.ID identifies the notification; each target's call derives
	// its own id from it (callID).
	from flows.ActionCaller
}

// Bounds of notifications.
const (
	notifyQueue    = 1024
	notifyTimeout  = 30 * time.Second
	notifyAttempts = 3
)

// NewNotifier returns a Notifier sending through actions, finding bots
// with bot; Start runs it.
func NewNotifier(actions flows.ActionInvoker, bot func(id string) *flows.Bot, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{actions: actions, bot: bot, log: log, q: make(chan notice, notifyQueue), stop: make(chan struct{}), done: make(chan struct{})}
}

// Start starts the sending goroutine; Stop stops it.
func (n *Notifier) Start() { go n.run() }

// Stop stops sending; what is queued is dropped.
func (n *Notifier) Stop() {
	n.once.Do(func() { close(n.stop) })
	<-n.done
}

// Committed queues the notifications of a committed step (pipeline
// OnCommit).
func (n *Notifier) Committed(c pipeline.Committed) {
	if len(c.Notifications) == 0 || c.Contact == nil {
		return
	}
	for _, nt := range c.Notifications {
		from := flows.ActionCaller{Bot: c.Contact.Bot, Contact: c.Contact.ID, Channel: c.Contact.Channel, ID: nt.ID}
		n.Notify(c.Contact.Bot, nt.Name, nt.Data, from)
	}
}

// Notify queues a notification of bot for its notify targets. from.ID
// identifies the notification (a TRIGGER's flows.Notification.ID, a
// handover's change of status); the call to each target has an id derived
// from it and the target, the same on every retry. Without one, the
// notification gets a random id.
func (n *Notifier) Notify(botID, name string, data map[string]any, from flows.ActionCaller) {
	bot := n.bot(botID)
	if bot == nil || len(bot.Notify) == 0 {
		return
	}
	if from.ID == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		from.ID = hex.EncodeToString(b[:])
	}
	select {
	case n.q <- notice{bot: bot, name: name, data: data, from: from}:
	default:
		n.log.Warn("notification dropped: the queue is full", "bot", botID, "notification", name)
	}
}

func (n *Notifier) run() {
	defer close(n.done)
	for {
		select {
		case <-n.stop:
			return
		case nt := <-n.q:
			for _, t := range nt.bot.Notify {
				if t.Wants(nt.name) {
					n.send(nt, &t)
				}
			}
		}
	}
}

// send delivers one notification to one target, trying again (up to
// notifyAttempts) when the integration says it may.
func (n *Notifier) send(nt notice, t *flows.NotifyTarget) {
	action, params := target(nt, t)
	from := nt.from
	from.ID = callID(nt, t)
	wait := time.Second
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
		_, err := n.actions.Invoke(ctx, action, params, from)
		cancel()
		if err == nil {
			return
		}
		var pe *sdk.Error
		retryable := !errors.As(err, &pe) || pe.Retryable
		if !retryable || attempt == notifyAttempts {
			n.log.Warn("notification not delivered", "bot", nt.bot.ID, "notification", nt.name, "action", action, "attempts", attempt, "err", err)
			return
		}
		if pe != nil && pe.RetryAfter > wait {
			wait = min(pe.RetryAfter, time.Minute)
		}
		select {
		case <-n.stop:
			return
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// callID is the id of the call that delivers nt to t: one per
// notification and target, whatever the attempt.
func callID(nt notice, t *flows.NotifyTarget) string {
	switch {
	case t.Email != "":
		return flows.CallID(nt.from.ID, "email", t.Email)
	case t.SMS != "":
		return flows.CallID(nt.from.ID, "sms", t.SMS)
	default:
		return flows.CallID(nt.from.ID, "webhook")
	}
}

// target is the action and parameters that deliver nt to t.
func target(nt notice, t *flows.NotifyTarget) (string, map[string]any) {
	title := nt.bot.Name + ": " + nt.name
	switch {
	case t.Email != "":
		return "smtp.email.send", map[string]any{"to": t.Email, "subject": title, "body": describe(nt)}
	case t.SMS != "":
		text := title + " " + strings.ReplaceAll(describe(nt), "\n", "; ")
		if r := []rune(text); len(r) > maxSMS {
			text = string(r[:maxSMS-1]) + "…"
		}
		return "twilio.sms.send", map[string]any{"to": t.SMS, "text": text}
	default:
		return "webhook.post", map[string]any{"event": nt.name, "data": map[string]any{"bot": nt.bot.ID, "contact": nt.from.Contact, "channel": nt.from.Channel, "data": nt.data}}
	}
}

// maxSMS is the longest SMS text Twilio sends (in characters): longer
// notifications are cut, marked with "…".
const maxSMS = 1600

// describe writes a notification's data as lines of text, in name order.
func describe(nt notice) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Conversation %s on %s.\n", nt.from.Contact, nt.from.Channel)
	keys := make([]string, 0, len(nt.data))
	for k := range nt.data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %v\n", k, nt.data[k])
	}
	return b.String()
}
