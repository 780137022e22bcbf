// Package livechat is the human side of a conversation: handovers of
// conversations from the bot to agents, their lifecycle, assignment, agent
// replies, notes, canned replies, presence, notifications and analytics.
//
// # Lifecycle
//
// A LIVE CHAT block (or /_start_live_chat) makes the engine ask for a
// handover and wait. The Service, a pipeline Hook, turns that request into a
// Handover record in the same transaction as the step, so a handover exists
// exactly when the bot waits for one. From then on the bot stays out: the
// customer's messages are stored and shown to agents, and the bot answers
// nothing until the handover ends.
//
//	new ──assign──▶ assigned ──agent reply──▶ chatting ──resolve──▶ resolved ──close──▶ closed
//	 │  ◀─unassign─┘     │  ◀──────────────────┘ │ ▲
//	 │                   │        pending ◀──────┘ └── customer replies
//	 └── overdue (no agent reply within the queue's target; any reply clears it)
//
// Resolving (by an agent, or by the idle auto-off after the last agent
// message) tells the bot "resolved" and it continues at the LIVE CHAT
// block's resolved branch; the bot giving up (the block's timeout) closes the
// handover with outcome "timeout". Every change is recorded in the
// handover's history with who and when, and every change of a handover is
// made on its contact's pipeline shard (Pipeline.Do), in order with the
// conversation's own steps.
package livechat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/channel"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// Defaults of a bot's live-chat settings.
const (
	DefaultIdleOff        = time.Hour
	DefaultResolveMessage = "This conversation was resolved. Thank you! You are back with the bot."
	DefaultOfflineMessage = "No agent is online right now. The team has been notified: leave your message here and an agent will answer as soon as possible."
	DefaultNotifyAfter    = 5 * time.Minute
	ratingPrompt          = "How would you rate the help you got, from 1 (poor) to 5 (great)?"
	ratingThanks          = "Thank you for your rating!"
)

// Errors of the Service; the API maps them to statuses.
var (
	ErrNotFound = errors.New("livechat: no such handover")
	// ErrForbidden: the principal may not do this.
	ErrForbidden = errors.New("livechat: not allowed")
	// ErrConflict: the handover is not in a state that allows this.
	ErrConflict = errors.New("livechat: the handover does not allow this now")
	// ErrReplyWindow: the channel's reply window closed.
	ErrReplyWindow = errors.New("livechat: the channel's reply window has closed")
	ErrInvalid     = errors.New("livechat: invalid request")
)

// Config configures a Service. Store is required, and Pipeline (or
// SetPipeline).
type Config struct {
	Store    store.Store
	Pipeline *pipeline.Pipeline
	// Capabilities says what a channel can do (its reply window); nil
	// means no channel has a reply window.
	Capabilities func(channel string) channel.Capabilities
	// HTTP sends webhook notifications; nil means a client with a 10 s
	// timeout.
	HTTP *http.Client
	// OnPresence, when set, is called when an agent's presence changes.
	OnPresence func(Agent)
	// Notify, when set, gets the runtime's notifications of a bot (a
	// handover waits: handover_waiting) for its notify targets.
	Notify func(bot, name string, data map[string]any, from flows.ActionCaller)
	Now    func() time.Time
	Log    *slog.Logger
}

// Service runs live chat. Make it with New, give it to the pipeline as its
// Hook and its Committed to the pipeline's OnCommit, Load it, Start it once
// the pipeline runs, and Stop it.
type Service struct {
	cfg Config

	// active maps a contact to its handover while the handover is open or
	// waits for the customer's rating: the hook consults it on every
	// message, so that conversations without a handover cost no read.
	mu     sync.Mutex
	active map[string]string
	// open holds what assignment needs of each open handover, by id.
	open map[string]openInfo
	// told is how much of each handover's history its notify targets
	// heard of, until it is closed.
	told map[string]int
	// kick wakes the assigner.
	kick chan struct{}

	presence *presence
	notify   *notifier
	// cannedMu serializes the read-modify-writes of canned replies.
	cannedMu sync.Mutex

	stop chan struct{}
	wg   sync.WaitGroup
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	s := &Service{cfg: cfg, active: map[string]string{}, open: map[string]openInfo{}, told: map[string]int{}, kick: make(chan struct{}, 1), stop: make(chan struct{})}
	s.presence = newPresence()
	s.notify = newNotifier(cfg.HTTP, cfg.Log)
	return s
}

// SetNotify sets Config.Notify, for a Service made before its notifier.
func (s *Service) SetNotify(fn func(bot, name string, data map[string]any, from flows.ActionCaller)) {
	s.cfg.Notify = fn
}

// SetPipeline gives the Service the pipeline it acts through, when the
// pipeline was made after the Service (it needs the Service as its Hook).
func (s *Service) SetPipeline(p *pipeline.Pipeline) { s.cfg.Pipeline = p }

// Load reads the open handovers into memory; call it before the pipeline
// takes messages.
func (s *Service) Load(ctx context.Context) error {
	cursor := ""
	for {
		last, more, err := s.cfg.Store.ScanHandovers(ctx, true, cursor, 0, func(h *store.Handover) bool {
			s.setActive(h)
			s.mu.Lock()
			s.told[h.ID] = len(h.History)
			s.mu.Unlock()
			return true
		})
		if err != nil {
			return fmt.Errorf("live chat: loading the open handovers: %w", err)
		}
		if !more {
			return nil
		}
		cursor = last
	}
}

// Start starts the notifier and the assigner; Stop stops them.
func (s *Service) Start() {
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.notify.run(s.stop)
	}()
	go func() {
		defer s.wg.Done()
		s.assigner(s.stop)
	}()
}

// Stop stops what Start started.
func (s *Service) Stop() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
}

// openInfo is what assignment needs of an open handover.
type openInfo struct {
	id, contact, bot, queue, assignee string
	created                           time.Time
}

// setActive records h as its contact's active handover, or forgets it once
// it is over.
func (s *Service) setActive(h *store.Handover) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if store.HandoverOpen(h.Status) {
		s.open[h.ID] = openInfo{id: h.ID, contact: h.Contact, bot: h.Bot, queue: h.Queue, assignee: h.Assignee, created: h.CreatedAt}
	} else {
		delete(s.open, h.ID)
	}
	if store.HandoverOpen(h.Status) || h.RatingAsked {
		s.active[h.Contact] = h.ID
		return
	}
	if s.active[h.Contact] == h.ID {
		delete(s.active, h.Contact)
	}
}

// Forget drops what the Service remembers of a deleted contact's
// handovers.
func (s *Service) Forget(contact string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.active, contact)
	for id, o := range s.open {
		if o.contact == contact {
			delete(s.open, id)
			delete(s.told, id)
		}
	}
}

// Committed keeps the Service's memory of the open handovers current; call
// it from the pipeline's OnCommit.
func (s *Service) Committed(c pipeline.Committed) {
	for _, h := range c.Handovers {
		s.setActive(h)
		s.lifecycle(h)
	}
}

// lifecycle tells the bot's notify targets of the changes of status a
// commit made to a handover: handover_new, handover_assigned, …,
// handover_resolved, handover_closed.
func (s *Service) lifecycle(h *store.Handover) {
	s.mu.Lock()
	from, known := s.told[h.ID]
	if !known {
		// Not seen since the start (a resolved handover closed now):
		// the change is the last entry.
		from = len(h.History) - 1
	}
	if h.Status != store.HandoverClosed {
		s.told[h.ID] = len(h.History)
	} else {
		delete(s.told, h.ID)
	}
	s.mu.Unlock()
	if s.cfg.Notify == nil {
		return
	}
	for i := max(0, min(from, len(h.History))); i < len(h.History); i++ {
		t := h.History[i]
		if t.From == t.To {
			continue // a note in the history, not a change of status
		}
		// The change is the handover's i-th entry: that is its identity.
		s.cfg.Notify(h.Bot, "handover_"+t.To, map[string]any{
			"handover": h.ID, "queue": h.Queue, "status": t.To, "from": t.From, "assignee": t.Assignee, "by": t.By, "note": t.Note, "outcome": h.Outcome,
		}, flows.ActionCaller{Bot: h.Bot, Contact: h.Contact, Channel: h.Channel, ID: h.ID + "/" + strconv.Itoa(i)})
	}
}

func (s *Service) activeOf(contact string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active[contact]
}

// Settings are a bot's live-chat settings with the defaults filled in.
func (s *Service) Settings(ctx context.Context, bot string) (store.LiveChatSettings, error) {
	ls, err := s.cfg.Store.LiveChatSettings(ctx, bot)
	switch {
	case errors.Is(err, store.ErrNotFound):
		ls = &store.LiveChatSettings{}
	case err != nil:
		return store.LiveChatSettings{}, err
	}
	out := *ls
	if out.IdleOff == 0 {
		out.IdleOff = DefaultIdleOff
	}
	if out.ResolveMessage == "" {
		out.ResolveMessage = DefaultResolveMessage
	}
	if out.OfflineMessage == "" {
		out.OfflineMessage = DefaultOfflineMessage
	}
	if out.NotifyAfter == 0 {
		out.NotifyAfter = DefaultNotifyAfter
	}
	return out, nil
}

// replyWindow is the reply window of a channel; 0 for none.
func (s *Service) replyWindow(ch string) time.Duration {
	if s.cfg.Capabilities == nil {
		return 0
	}
	return s.cfg.Capabilities(ch).ReplyWindow
}

// record appends a transition to h's history.
func record(h *store.Handover, by, to, note string, at time.Time) {
	h.History = append(h.History, store.Transition{From: h.Status, To: to, By: by, Assignee: h.Assignee, Queue: h.Queue, Note: note, At: at})
	h.Status = to
}

// systemMessage is an outbound message of the runtime's own to the
// customer.
func systemMessage(now time.Time, ch string, c flows.Content) store.Message {
	return store.Message{Time: now, Direction: store.DirectionOut, Author: store.AuthorSystem, Channel: ch, Status: store.StatusQueued, Content: c}
}
