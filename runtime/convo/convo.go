// Package convo drives one conversation with a bot in memory, on a clock
// the caller moves: it feeds events to the engine, keeps the session, the
// contact and the pending timers, and fires timers as the clock passes them.
// Conversation tests, block tests and the terminal chat are built on it.
package convo

import (
	"fmt"
	"sort"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
)

// MaxTimerFires bounds how many timers one Advance may fire, so a bot that
// keeps setting timers cannot spin a test forever.
const MaxTimerFires = 1000

// Conversation is one contact talking to one bot.
type Conversation struct {
	Bot     *flows.Bot
	Engine  *engine.Engine
	Contact *flows.Contact
	Session *flows.Session
	Now     time.Time
	// Timers are pending, ordered by due time.
	Timers []flows.Timer
	// Handover is the open live-chat request, if any.
	Handover *flows.HandoverRequest
	// Seed feeds the engine's random source; it advances every step.
	Seed uint64
	// RoundTrip, when set, passes the session through its serialized form
	// after every step, so tests exercise the codec as the runtime does.
	RoundTrip func(*flows.Session) (*flows.Session, error)
	// OnSprint, when set, sees every sprint (the chat prints from it).
	OnSprint func(*flows.Sprint)
}

// New starts a conversation for contact at now.
func New(bot *flows.Bot, eng *engine.Engine, contact *flows.Contact, now time.Time) *Conversation {
	if contact.ID == "" {
		contact.ID = "contact-1"
	}
	contact.Bot = bot.ID
	return &Conversation{Bot: bot, Engine: eng, Contact: contact, Now: now, Seed: 1}
}

// Say sends a user text message and returns the bot's replies.
func (c *Conversation) Say(text string) ([]flows.Content, error) {
	return c.Send(flows.Content{Text: text})
}

// Tap sends a button or quick-reply tap by payload.
func (c *Conversation) Tap(title, payload string) ([]flows.Content, error) {
	return c.Send(flows.Content{Text: title, Payload: payload})
}

// Send sends any inbound message.
func (c *Conversation) Send(msg flows.Content) ([]flows.Content, error) {
	return c.Step(flows.Event{Kind: flows.EventMessage, Message: &msg})
}

// Event sends a named event.
func (c *Conversation) Event(name string, data map[string]any) ([]flows.Content, error) {
	return c.Step(flows.Event{Kind: flows.EventNamed, Name: name, Data: data})
}

// EndHandover ends the open handover with an outcome (flows.HandoverResolved…).
func (c *Conversation) EndHandover(outcome string) ([]flows.Content, error) {
	c.Handover = nil
	return c.Step(flows.Event{Kind: flows.EventHandover, Outcome: outcome})
}

// Step runs one event and applies the sprint.
func (c *Conversation) Step(ev flows.Event) ([]flows.Content, error) {
	c.Seed++
	sp := c.Engine.Step(engine.Input{Bot: c.Bot, Session: c.Session, Contact: c.Contact, Event: ev, Now: c.Now, Seed: c.Seed, Trace: true})
	if err := c.apply(sp); err != nil {
		return sp.Messages, err
	}
	return sp.Messages, nil
}

func (c *Conversation) apply(sp *flows.Sprint) error {
	c.Session, c.Contact = sp.Session, sp.Contact
	if c.RoundTrip != nil {
		s, err := c.RoundTrip(c.Session)
		if err != nil {
			return fmt.Errorf("session round trip: %w", err)
		}
		c.Session = s
	}
	for _, id := range sp.CancelTimers {
		for i, t := range c.Timers {
			if t.ID == id {
				c.Timers = append(c.Timers[:i], c.Timers[i+1:]...)
				break
			}
		}
	}
	c.Timers = append(c.Timers, sp.Timers...)
	sort.SliceStable(c.Timers, func(i, j int) bool { return c.Timers[i].Due.Before(c.Timers[j].Due) })
	if sp.Handover != nil {
		c.Handover = sp.Handover
	}
	if c.OnSprint != nil {
		c.OnSprint(sp)
	}
	return nil
}

// Advance moves the clock by d, firing every timer that comes due on the
// way, in due order, each at its own due time. It returns the messages the
// timers produced.
func (c *Conversation) Advance(d time.Duration) ([]flows.Content, error) {
	return c.AdvanceTo(c.Now.Add(d))
}

// AdvanceTo moves the clock to t, firing due timers on the way.
func (c *Conversation) AdvanceTo(t time.Time) ([]flows.Content, error) {
	var out []flows.Content
	for fired := 0; len(c.Timers) > 0 && !c.Timers[0].Due.After(t); fired++ {
		if fired >= MaxTimerFires {
			return out, fmt.Errorf("more than %d timers fired while the clock moved: the bot keeps setting timers", MaxTimerFires)
		}
		tm := c.Timers[0]
		c.Timers = c.Timers[1:]
		if tm.Due.After(c.Now) {
			c.Now = tm.Due
		}
		msgs, err := c.Step(flows.Event{Kind: flows.EventTimer, Timer: &tm})
		out = append(out, msgs...)
		if err != nil {
			return out, err
		}
	}
	if t.After(c.Now) {
		c.Now = t
	}
	return out, nil
}
