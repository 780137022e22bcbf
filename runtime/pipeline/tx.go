package pipeline

import (
	"context"
	"slices"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// Tx is one job of a contact as a Hook or a Do function sees it: on the
// contact's shard, between the contact's other jobs, so nothing else changes
// the conversation meanwhile. What it adds to Batch commits in one
// transaction with the step.
type Tx struct {
	// Contact is the contact as the job leaves it; change it with
	// SetContact.
	Contact *flows.Contact
	Now     time.Time
	// Inbound is the channel's message or event, Timer the timer that fired;
	// at most one is set (neither for Do).
	Inbound *Inbound
	Timer   *flows.Timer
	// Event is what the engine steps with after Before (or the Do
	// function): the job's own event, which a Hook may replace, or nil to
	// keep the engine out (a Do function sets one to run the bot).
	Event *flows.Event
	// Batch is what commits. The engine's session, timers and messages are
	// added to it; hooks and Do functions add their own.
	Batch *store.Batch
	// Sprint is the engine's step, for After; nil when the engine did not
	// run.
	Sprint *flows.Sprint
	// Then, set by After, is an event for the engine to step with right
	// after this step, in the same commit (the end of a handover that
	// found nobody). After runs again after it; a second Then is dropped.
	Then *flows.Event
}

// apply adds a step of the engine to the batch. A timer the step cancels
// that an earlier step of the same job set is simply not set.
func (tx *Tx) apply(sp *flows.Sprint, status string) {
	b := tx.Batch
	b.Session = sp.Session
	if len(b.Timers) == 0 && len(b.CancelTimers) == 0 {
		// The usual step: the batch takes the sprint's lists as they are.
		b.Timers, b.CancelTimers = sp.Timers, sp.CancelTimers
	} else {
		for _, id := range sp.CancelTimers {
			n := len(b.Timers)
			b.Timers = slices.DeleteFunc(b.Timers, func(t flows.Timer) bool { return t.ID == id })
			if len(b.Timers) == n {
				b.CancelTimers = append(b.CancelTimers, id)
			}
		}
		b.Timers = append(b.Timers, sp.Timers...)
	}
	if sp.ContactDirty {
		sp.Contact.UpdatedAt = tx.Now
		tx.SetContact(sp.Contact)
	}
	for _, m := range sp.Messages {
		b.Messages = append(b.Messages, store.Message{
			Time: tx.Now, Direction: store.DirectionOut, Author: store.AuthorBot,
			Channel: tx.Contact.Channel, Status: status, Content: m,
		})
	}
}

// SetContact replaces the contact, for the engine and the commit.
func (tx *Tx) SetContact(c *flows.Contact) {
	tx.Contact = c
	tx.Batch.Contact = c
}

// Hook takes part in every job of every contact (but UpdateContact's), on
// the contact's shard. Before runs before the engine and may change or drop
// the event it steps with; After runs once the engine stepped (or did not)
// and before the commit. Both may add to the batch; an error fails the job
// and nothing of it commits. They must be quick: a shard runs one job at a
// time.
type Hook interface {
	Before(ctx context.Context, tx *Tx) error
	After(ctx context.Context, tx *Tx) error
}

// Do runs fn on the contact's shard, then the engine if fn set tx.Event,
// then the hook's After, and commits it all in one transaction: how the
// runtime acts on a conversation from outside it (an agent's reply, the end
// of a handover). fn must be quick and must not call the pipeline; its
// error is returned as is, and nothing commits. Outbound messages fn adds
// are queued for the outbox unless it sets their status.
func (p *Pipeline) Do(ctx context.Context, contactID string, fn func(ctx context.Context, tx *Tx) error) (*Result, error) {
	return p.do(ctx, &job{contact: contactID, do: fn})
}
