// Package live streams what the pipeline commits to live views: the agent
// console, dashboards, scripts. A Hub fans each committed step out to its
// subscribers as events; a Server serves them over a WebSocket at GET /ws.
//
// Events are JSON objects, each with an id that grows by one per event
// within the hub (a gap tells a subscriber it was not sent something):
//
//	{"id":7,"type":"contact","bot":"shop","contact":{…}}
//	{"id":8,"type":"message","bot":"shop","contact":{…},"message":{"seq","direction","author","channel","status","content","time"}}
//	{"id":9,"type":"handover","bot":"shop","contact":{…},"handover":{"id","status","queue","assignee",…}}
//	{"id":10,"type":"handover_end","bot":"shop","contact":{…},"reason":"timeout"}
//
// A step's events come in this order: contact (only when the step changed
// the contact, or created it), its messages in seq order, handover (one per
// handover the step created or changed, carrying all of it),
// handover_end. The steps of one contact are published in commit order (one
// shard owns a contact), so a subscriber sees a conversation in order.
package live

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// Event types.
const (
	TypeContact     = "contact"
	TypeMessage     = "message"
	TypeHandover    = "handover"
	TypeHandoverEnd = "handover_end"
)

// Event is one event of the hub. JSON is the whole event, id included, as
// sent to sockets; it is shared by every subscriber and must not be
// changed.
type Event struct {
	ID      uint64
	Type    string
	Bot     string
	Contact string
	// Queue is the handover's queue for a handover event, else the
	// conversation's (flows.Contact.Queue).
	Queue string
	JSON  []byte
}

// Filter selects events: Bot and Contact, when set, must match, and the
// bot must be one of Bots when that is not empty. The zero Filter selects
// everything. Bots is what a socket's principal may see (a manager's or
// agent's bots), set by the server; Bot and Contact are what the client
// asks for, so a client narrows its stream but never widens it.
type Filter struct {
	Bot string `json:"bot,omitempty"`
	// Contact and Types select within Bot: with neither, every event;
	// with Contact, that conversation's events; with Types, the events of
	// those types from every conversation; with both, either (a console
	// follows the handovers of its queues and the conversation it has
	// open).
	Contact string   `json:"contact,omitempty"`
	Types   []string `json:"types,omitempty"`
	// Bots, when set, bounds everything else: the principal's bots.
	Bots []string `json:"bots,omitempty"`
	// SeesQueue, when set, must accept an event's queue (the handover's,
	// or the conversation's: flows.Contact.Queue): an agent sees the
	// conversations and handovers of its teams' queues only.
	SeesQueue func(bot, queue string) bool `json:"-"`
}

func (f *Filter) match(bot, contact, typ, queue string) bool {
	if (f.Bot != "" && f.Bot != bot) || (len(f.Bots) > 0 && !slices.Contains(f.Bots, bot)) {
		return false
	}
	if f.SeesQueue != nil && !f.SeesQueue(bot, queue) {
		return false
	}
	switch {
	case f.Contact == "" && len(f.Types) == 0:
		return true
	case f.Contact == contact:
		return true
	default:
		return slices.Contains(f.Types, typ)
	}
}

// Reasons a subscription ends.
var (
	// ErrSlow: the subscriber's buffer was full when an event came; it was
	// dropped rather than waited for.
	ErrSlow = errors.New("live: the subscriber fell behind and was dropped")
	// ErrHubClosed: the hub was closed.
	ErrHubClosed = errors.New("live: the hub is closed")
	// ErrUnsubscribed: the subscriber closed its subscription.
	ErrUnsubscribed = errors.New("live: unsubscribed")
)

// DefaultBuffer is a subscription's buffer when Subscribe is given 0.
const DefaultBuffer = 1024

// Hub fans committed steps out to subscribers. Publish never blocks on a
// subscriber: each has a bounded buffer, and one whose buffer is full is
// dropped (its channel closed, Err saying why). The zero Hub is not usable:
// make one with NewHub.
type Hub struct {
	mu     sync.Mutex
	next   uint64
	subs   map[*Subscription]struct{}
	closed bool

	published atomic.Uint64
	dropped   atomic.Uint64

	handoverView atomic.Pointer[func(*store.Handover) any]
	contentView  atomic.Pointer[func(bot string, m *store.Message) any]
}

// SetHandoverView sets how handover events show a handover (the live chat
// service's view, with names and deadlines); without one they carry the
// stored record.
func (h *Hub) SetHandoverView(view func(*store.Handover) any) { h.handoverView.Store(&view) }

// SetContentView sets how message events show a message's content (the
// API's view, api.ViewContent, which adds where it serves the customer's
// files); without one they carry the stored content.
func (h *Hub) SetContentView(view func(bot string, m *store.Message) any) { h.contentView.Store(&view) }

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[*Subscription]struct{}{}} }

// Subscription receives the events its filter selects on C, in id order,
// until it is dropped, the hub closes, or Close is called; then C is closed
// (after the events already buffered) and Err says why.
type Subscription struct {
	C <-chan Event

	h      *Hub
	ch     chan Event
	filter atomic.Pointer[Filter]
	err    error // under h.mu; set once, when ch is closed
}

// Subscribe adds a subscriber with filter f and a buffer of buffer events
// (DefaultBuffer when 0 or less). On a closed hub the subscription is
// ended already.
func (h *Hub) Subscribe(f Filter, buffer int) *Subscription {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	s := &Subscription{h: h, ch: make(chan Event, buffer)}
	s.C = s.ch
	s.filter.Store(&f)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.endLocked(ErrHubClosed)
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

// SetFilter changes what the subscription receives from the next event on.
func (s *Subscription) SetFilter(f Filter) { s.filter.Store(&f) }

// Filter is the subscription's filter.
func (s *Subscription) Filter() Filter { return *s.filter.Load() }

// Close ends the subscription; C is closed.
func (s *Subscription) Close() {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if _, ok := s.h.subs[s]; ok {
		delete(s.h.subs, s)
		s.endLocked(ErrUnsubscribed)
	}
}

// Err is why the subscription ended, once C is closed; nil before.
func (s *Subscription) Err() error {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return s.err
}

func (s *Subscription) endLocked(err error) {
	if s.err == nil {
		s.err = err
		close(s.ch)
	}
}

// Subscribers is how many subscriptions are open.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Stats reports the events published and the subscribers dropped for
// falling behind, since the hub was made.
func (h *Hub) Stats() (published, dropped uint64) {
	return h.published.Load(), h.dropped.Load()
}

// Close ends every subscription (Err is ErrHubClosed) and makes Publish a
// no-op.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		s.endLocked(ErrHubClosed)
	}
}

// Wire shapes of the events, without the id (added at publication).
type (
	messageView struct {
		Seq       uint64    `json:"seq"`
		ID        string    `json:"id,omitempty"`
		Direction string    `json:"direction"`
		Author    string    `json:"author"`
		Channel   string    `json:"channel,omitempty"`
		Status    string    `json:"status,omitempty"`
		Content   any       `json:"content"`
		Time      time.Time `json:"time"`
	}
	eventBody struct {
		Type     string          `json:"type"`
		Bot      string          `json:"bot"`
		Contact  json.RawMessage `json:"contact"`
		Message  *messageView    `json:"message,omitempty"`
		Handover any             `json:"handover,omitempty"`
		Reason   string          `json:"reason,omitempty"`
		queue    string
	}
)

// wanted reports whether a subscriber's filter selects one of the events
// (of kinds) of the contact. When none does, it numbers the events as published
// without delivering them, as a subscriber that would not have matched them
// sees them.
func (h *Hub) wanted(bot, contact string, kinds []kind) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		f := s.filter.Load()
		for _, k := range kinds {
			if f.match(bot, contact, k.typ, k.queue) {
				return true
			}
		}
	}
	n := uint64(0)
	for _, k := range kinds {
		n += uint64(max(k.n, 1))
	}
	h.next += n
	h.published.Add(n)
	return false
}

// kind is one kind of event a step makes: n of them (1 when 0).
type kind struct {
	typ, queue string
	n          int
}

// pending is an event encoded without its id: body starts with '{'.
type pending struct {
	typ, queue string
	body       []byte
}

// Publish turns a committed step into events and hands them to the
// subscribers they are for. It is meant for pipeline.Config.OnCommit: it
// never blocks on a subscriber, and encodes the events before taking the
// hub's lock, which it holds only to number and deliver them.
func (h *Hub) Publish(c pipeline.Committed) {
	if h == nil || c.Contact == nil {
		return
	}
	// A step usually has no one watching: skip encoding its events.
	contactChanged := c.At.IsZero() || c.Contact.UpdatedAt.Equal(c.At)
	var buf [4]kind // room for the usual step's kinds without an allocation
	kinds := buf[:0]
	if contactChanged {
		kinds = append(kinds, kind{typ: TypeContact, queue: c.Contact.Queue})
	}
	if len(c.Messages) > 0 {
		kinds = append(kinds, kind{typ: TypeMessage, queue: c.Contact.Queue, n: len(c.Messages)})
	}
	for _, ho := range c.Handovers {
		kinds = append(kinds, kind{typ: TypeHandover, queue: ho.Queue})
	}
	if c.HandoverEnd != "" {
		kinds = append(kinds, kind{typ: TypeHandoverEnd, queue: c.Contact.Queue})
	}
	if len(kinds) == 0 || !h.wanted(c.Contact.Bot, c.Contact.ID, kinds) {
		return
	}
	contact, err := json.Marshal(c.Contact)
	if err != nil {
		return
	}
	bot, cid := c.Contact.Bot, c.Contact.ID
	evs := make([]pending, 0, len(c.Messages)+2)
	add := func(b eventBody) {
		b.Bot, b.Contact = bot, contact
		if b.Type != TypeHandover {
			b.queue = c.Contact.Queue
		}
		if body, err := json.Marshal(b); err == nil {
			evs = append(evs, pending{b.Type, b.queue, body})
		}
	}
	// A step changed the contact when it stamped it (new contacts too);
	// a commit of the contact alone (an API update) has no step time.
	if contactChanged {
		add(eventBody{Type: TypeContact})
	}
	contentView := h.contentView.Load()
	for i := range c.Messages {
		m := &c.Messages[i]
		id := m.ID
		if id == "" {
			id = m.ExternalID
		}
		var content any = m.Content
		if contentView != nil {
			content = (*contentView)(bot, m)
		}
		add(eventBody{Type: TypeMessage, Message: &messageView{
			Seq: m.Seq, ID: id, Direction: m.Direction, Author: m.Author, Channel: m.Channel,
			Status: m.Status, Content: content, Time: m.Time,
		}})
	}
	view := h.handoverView.Load()
	for _, ho := range c.Handovers {
		var v any = ho
		if view != nil {
			v = (*view)(ho)
		}
		add(eventBody{Type: TypeHandover, Handover: v, queue: ho.Queue})
	}
	if c.HandoverEnd != "" {
		add(eventBody{Type: TypeHandoverEnd, Reason: c.HandoverEnd})
	}
	if len(evs) == 0 {
		return
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	for _, p := range evs {
		h.next++
		b := make([]byte, 0, len(p.body)+24)
		b = append(b, `{"id":`...)
		b = strconv.AppendUint(b, h.next, 10)
		b = append(b, ',')
		b = append(b, p.body[1:]...)
		ev := Event{ID: h.next, Type: p.typ, Bot: bot, Contact: cid, Queue: p.queue, JSON: b}
		h.published.Add(1)
		for s := range h.subs {
			if !s.filter.Load().match(bot, cid, p.typ, p.queue) {
				continue
			}
			select {
			case s.ch <- ev:
			default:
				delete(h.subs, s)
				s.endLocked(ErrSlow)
				h.dropped.Add(1)
			}
		}
	}
}
