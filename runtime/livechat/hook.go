package livechat

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// Names of the Service's system timers (flows.TimerSystem); their event's
// Data holds the handover id under "handover".
const (
	timerIdle    = "livechat.idle"    // the idle auto-off is due
	timerOverdue = "livechat.overdue" // the queue's reply target passed
	timerNotify  = "livechat.notify"  // the handover waited NotifyAfter
)

// ratingPayload prefixes the payloads of the rating quick replies.
const ratingPayload = "rating:"

// Before handles the Service's timers and the customer's messages to an
// active handover. It is the pipeline's Hook.
func (s *Service) Before(ctx context.Context, tx *pipeline.Tx) error {
	if t := tx.Timer; t != nil && t.Kind == flows.TimerSystem {
		tx.Event = nil
		return s.fired(ctx, tx, t)
	}
	in := tx.Inbound
	if in == nil || in.Event != nil {
		return nil
	}
	id := s.activeOf(tx.Contact.ID)
	if id == "" {
		return nil
	}
	h, err := s.pending(ctx, tx, id)
	if err != nil {
		return err
	}
	switch {
	case store.HandoverOpen(h.Status):
		h.LastCustomerAt = tx.Now
		if h.Status == store.HandoverPending {
			record(h, "", store.HandoverChatting, "the customer answered", tx.Now)
		}
	case h.RatingAsked:
		// The answer to the rating question is the handover's, not the
		// bot's; anything else ends the question and goes to the bot.
		h.RatingAsked = false
		if n := rating(in.Content); n > 0 {
			h.Rating = n
			tx.Event = nil
			tx.Batch.Messages = append(tx.Batch.Messages, systemMessage(tx.Now, tx.Contact.Channel, flows.Content{Text: ratingThanks}))
		}
	}
	return nil
}

// rating reads a 1–5 rating from a tapped quick reply or a typed digit.
func rating(c flows.Content) int {
	v := strings.TrimSpace(c.Payload)
	if v == "" {
		v = strings.TrimSpace(c.Text)
	}
	v = strings.TrimPrefix(v, ratingPayload)
	if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 5 {
		return n
	}
	return 0
}

// After opens a handover when the bot asked for one, and closes the open
// one when the bot stopped waiting for it.
func (s *Service) After(ctx context.Context, tx *pipeline.Tx) error {
	sp := tx.Sprint
	if sp == nil {
		return nil
	}
	if sp.HandoverEnd != "" {
		if id := s.activeOf(tx.Contact.ID); id != "" {
			h, err := s.pending(ctx, tx, id)
			if err != nil {
				return err
			}
			if store.HandoverOpen(h.Status) {
				h.Outcome = sp.HandoverEnd
				h.ClosedAt = tx.Now
				record(h, "", store.HandoverClosed, "the bot stopped waiting: "+sp.HandoverEnd, tx.Now)
				s.cancelTimers(tx, h)
			}
		}
	}
	if sp.Handover != nil {
		return s.openHandover(ctx, tx, sp.Handover)
	}
	return nil
}

// openHandover creates the handover the bot asked for.
func (s *Service) openHandover(ctx context.Context, tx *pipeline.Tx, req *flows.HandoverRequest) error {
	c := tx.Contact
	if id := s.activeOf(c.ID); id != "" {
		// A handover still open (or asking for a rating) ends here.
		old, err := s.pending(ctx, tx, id)
		if err != nil {
			return err
		}
		old.RatingAsked = false
		if store.HandoverOpen(old.Status) {
			old.ClosedAt = tx.Now
			record(old, "", store.HandoverClosed, "a new handover replaced it", tx.Now)
			s.cancelTimers(tx, old)
		}
	}
	h := &store.Handover{
		ID: store.NewHandoverID(tx.Now), Bot: c.Bot, Contact: c.ID, Channel: c.Channel,
		Queue: req.Queue, Priority: req.Priority, Message: req.Message, Note: req.Note, Form: req.Form,
		CreatedAt: tx.Now, LastCustomerAt: s.lastCustomer(tx),
	}
	record(h, "", store.HandoverNew, "", tx.Now)
	setQueue(tx, h.Queue)
	set, err := s.Settings(ctx, c.Bot)
	if err != nil {
		return err
	}
	team, err := s.team(ctx, h.Queue)
	if err != nil {
		return err
	}
	online := s.presence.onlineFor(h.Bot, h.Queue)
	if agent := s.pick(h, team); agent != "" {
		h.Assignee, h.AssignedAt = agent, tx.Now
		record(h, "", store.HandoverAssigned, "assigned automatically", tx.Now)
	}
	tx.Batch.Handovers = append(tx.Batch.Handovers, h)
	if online == 0 && req.NoAgentBranch {
		// The bot has a way on without agents: end the handover at once
		// and let the bot go on in this same commit.
		h.Outcome, h.ClosedAt = flows.HandoverNoAgent, tx.Now
		record(h, "", store.HandoverClosed, "no agent was online", tx.Now)
		tx.Then = &flows.Event{Kind: flows.EventHandover, Outcome: flows.HandoverNoAgent}
		s.waiting(set.NotifyWebhook, notice(h, c, "no agent is online; the bot took the conversation back"), "created")
		return nil
	}
	tx.Batch.Timers = append(tx.Batch.Timers,
		systemTimer(h, timerOverdue, tx.Now.Add(team.Target())),
		systemTimer(h, timerNotify, tx.Now.Add(set.NotifyAfter)))
	if online == 0 {
		tx.Batch.Messages = append(tx.Batch.Messages, systemMessage(tx.Now, c.Channel, flows.Content{Text: set.OfflineMessage}))
		s.waiting(set.NotifyWebhook, notice(h, c, "no agent is online"), "created")
	}
	return nil
}

// setQueue files the conversation under queue: the agents who see it are
// those of the queue's team (flows.Contact.Queue).
func setQueue(tx *pipeline.Tx, queue string) {
	if tx.Contact.Queue == queue {
		return
	}
	c := tx.Contact.Clone()
	c.Queue = queue
	tx.SetContact(c)
}

// lastCustomer is when the customer last wrote, as far as this step knows:
// now when the step is the customer's message.
func (s *Service) lastCustomer(tx *pipeline.Tx) (t time.Time) {
	if tx.Inbound != nil && tx.Inbound.Event == nil {
		return tx.Now
	}
	return t
}

// fired handles one of the Service's timers. The pipeline deletes it
// (store.Batch.Fired), unless a later step set it again.
func (s *Service) fired(ctx context.Context, tx *pipeline.Tx, t *flows.Timer) error {
	if t.Event == nil {
		return nil
	}
	id, _ := t.Event.Data["handover"].(string)
	h, err := s.pending(ctx, tx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !store.HandoverOpen(h.Status) {
		return nil
	}
	switch t.Event.Name {
	case timerIdle:
		set, err := s.Settings(ctx, h.Bot)
		if err != nil {
			return err
		}
		if set.IdleOff < 0 || h.LastAgentAt.IsZero() || tx.Now.Before(h.LastAgentAt.Add(set.IdleOff)) {
			return nil // an agent wrote since: a later timer is set
		}
		return s.resolve(ctx, tx, h, "", "live chat turned off after "+set.IdleOff.String()+" without an agent message")
	case timerOverdue:
		if h.FirstReplyAt.IsZero() && h.Status != store.HandoverOverdue {
			record(h, "", store.HandoverOverdue, "no agent reply within the queue's target", tx.Now)
		}
	case timerNotify:
		if h.FirstReplyAt.IsZero() {
			set, err := s.Settings(ctx, h.Bot)
			if err != nil {
				return err
			}
			h.Notified = tx.Now
			s.waiting(set.NotifyWebhook, notice(h, tx.Contact, fmt.Sprintf("waiting for %s", tx.Now.Sub(h.CreatedAt).Round(1e9))), timerNotify)
		}
	}
	return nil
}

// systemTimer is a timer of the Service for handover h; a handover has at
// most one of each kind (setting it again moves it).
func systemTimer(h *store.Handover, name string, due time.Time) flows.Timer {
	return flows.Timer{ID: h.ID + "/" + name, Contact: h.Contact, Due: due, Kind: flows.TimerSystem,
		Event: &flows.Event{Kind: flows.EventNamed, Name: name, Data: map[string]any{"handover": h.ID}}}
}

// cancelTimers cancels the Service's timers of h.
func (s *Service) cancelTimers(tx *pipeline.Tx, h *store.Handover) {
	for _, name := range []string{timerIdle, timerOverdue, timerNotify} {
		tx.Batch.CancelTimers = append(tx.Batch.CancelTimers, h.ID+"/"+name)
	}
}

// load reads a handover.
func (s *Service) load(ctx context.Context, id string) (*store.Handover, error) {
	if id == "" {
		return nil, ErrNotFound
	}
	h, err := s.cfg.Store.Handover(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	return h, err
}

// pending returns handover id as this job leaves it: the copy already in
// the batch, or a fresh one from the store, added to the batch.
func (s *Service) pending(ctx context.Context, tx *pipeline.Tx, id string) (*store.Handover, error) {
	for _, h := range tx.Batch.Handovers {
		if h.ID == id {
			return h, nil
		}
	}
	h, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	tx.Batch.Handovers = append(tx.Batch.Handovers, h)
	return h, nil
}
