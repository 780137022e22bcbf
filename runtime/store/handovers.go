package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Handovers keeps live chat: the handovers of conversations to human agents,
// the canned replies agents send, and each bot's live-chat settings.
// Handovers are written in the same transaction as the conversation step
// that opens, answers or ends them (Batch.Handovers); the rest are written on
// their own.
type Handovers interface {
	// Handover returns the handover with id, or ErrNotFound.
	Handover(ctx context.Context, id string) (*Handover, error)
	// ContactHandovers returns a contact's handovers, newest first, at most
	// limit (DefaultPage when 0, at most MaxPage).
	ContactHandovers(ctx context.Context, contact string, limit int) ([]*Handover, error)
	// ScanHandovers calls fn with handovers newest first, starting after
	// the handover id cursor ("" for the newest), only the open ones when
	// open is set. It reads at most scan handovers (at most MaxScan) and
	// stops early when fn returns false. It returns the id of the last
	// handover read, the cursor of the next call, and whether more remain.
	ScanHandovers(ctx context.Context, open bool, cursor string, scan int, fn func(*Handover) bool) (last string, more bool, err error)

	// PutCannedReply creates or replaces a canned reply.
	PutCannedReply(ctx context.Context, r *CannedReply) error
	// CannedReply returns the canned reply with id, or ErrNotFound.
	CannedReply(ctx context.Context, id string) (*CannedReply, error)
	// CannedReplies lists the canned replies of bot ("" for every bot) in
	// ID order, at most MaxCannedReplies.
	CannedReplies(ctx context.Context, bot string) ([]*CannedReply, error)
	// DeleteCannedReply deletes a canned reply, or returns ErrNotFound.
	DeleteCannedReply(ctx context.Context, id string) error

	// LiveChatSettings returns a bot's live-chat settings, or ErrNotFound
	// when none were saved.
	LiveChatSettings(ctx context.Context, bot string) (*LiveChatSettings, error)
	// PutLiveChatSettings saves a bot's live-chat settings.
	PutLiveChatSettings(ctx context.Context, bot string, s *LiveChatSettings) error
}

// Handover statuses. New, Assigned, Chatting, Pending and Overdue are open:
// the bot waits and agents see the conversation in their queue.
const (
	HandoverNew      = "new"      // waiting for an agent
	HandoverAssigned = "assigned" // an agent has it and has not answered yet
	HandoverChatting = "chatting" // an agent answered
	HandoverPending  = "pending"  // the agent waits on the customer
	HandoverOverdue  = "overdue"  // no agent answered within the queue's target
	HandoverResolved = "resolved" // an agent (or the idle auto-off) ended it
	HandoverClosed   = "closed"   // archived, or ended without an agent
)

// HandoverOpen reports whether a handover with status is still open.
func HandoverOpen(status string) bool {
	return status != HandoverResolved && status != HandoverClosed
}

// Limits of a handover's record.
const (
	MaxHandoverNotes   = 200
	MaxHandoverHistory = 500
	MaxCannedReplies   = 2000
	// MaxScan bounds the records one scan reads.
	MaxScan = 50000
)

// Handover is a conversation handed to human agents.
type Handover struct {
	ID      string `json:"id"`
	Bot     string `json:"bot"`
	Contact string `json:"contact"`
	Channel string `json:"channel"`
	// Queue is the team that should take it ("" for any agent of the bot).
	Queue    string         `json:"queue,omitempty"`
	Priority string         `json:"priority,omitempty"`
	Message  string         `json:"message,omitempty"`
	Note     string         `json:"note,omitempty"`
	Form     map[string]any `json:"form,omitempty"`
	Status   string         `json:"status"`
	// Assignee is the account of the agent who has it.
	Assignee string   `json:"assignee,omitempty"`
	Tags     []string `json:"tags,omitempty"`

	CreatedAt    time.Time `json:"created_at"`
	AssignedAt   time.Time `json:"assigned_at,omitzero"`
	FirstReplyAt time.Time `json:"first_reply_at,omitzero"`
	ResolvedAt   time.Time `json:"resolved_at,omitzero"`
	ClosedAt     time.Time `json:"closed_at,omitzero"`
	// LastCustomerAt is the customer's last message (reply windows count
	// from it); LastAgentAt an agent's (the idle auto-off counts from it).
	LastCustomerAt time.Time `json:"last_customer_at,omitzero"`
	LastAgentAt    time.Time `json:"last_agent_at,omitzero"`
	// Notified is when agents were last told the handover waits.
	Notified time.Time `json:"notified,omitzero"`

	ResolveNote string `json:"resolve_note,omitempty"`
	// Outcome is what the bot was told when the handover ended:
	// flows.HandoverResolved, HandoverNoAgent or HandoverTimeout.
	Outcome string `json:"outcome,omitempty"`
	// Rating is the customer's rating, 1 to 5 (0: none). RatingAsked is
	// set while the customer is asked for one.
	Rating      int  `json:"rating,omitempty"`
	RatingAsked bool `json:"rating_asked,omitempty"`

	Notes   []Note       `json:"notes,omitempty"`
	History []Transition `json:"history,omitempty"`
}

// Note is an internal note on a handover: agents see it, customers never.
type Note struct {
	ID     string    `json:"id"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
	Color  string    `json:"color,omitempty"`
	Time   time.Time `json:"time"`
}

// Transition records a change of a handover: its status, its assignee or
// its queue, who made it and when.
type Transition struct {
	From string `json:"from,omitempty"`
	To   string `json:"to"`
	// By is the account that made the change ("" for the system).
	By       string    `json:"by,omitempty"`
	Assignee string    `json:"assignee,omitempty"`
	Queue    string    `json:"queue,omitempty"`
	Note     string    `json:"note,omitempty"`
	At       time.Time `json:"at"`
}

// CannedReply is a ready answer agents send with a shortcut.
type CannedReply struct {
	ID       string `json:"id"`
	Bot      string `json:"bot"`
	Title    string `json:"title"`
	Shortcut string `json:"shortcut,omitempty"`
	Text     string `json:"text,omitempty"`
	// ButtonTitle and ButtonURL make the text a text with a link button.
	ButtonTitle string `json:"button_title,omitempty"`
	ButtonURL   string `json:"button_url,omitempty"`
	ImageURL    string `json:"image_url,omitempty"`
	// Sent counts how many times it was sent.
	Sent      int       `json:"sent"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// LiveChatSettings are a bot's live-chat settings, set in the console. Zero
// fields take the defaults of the live chat service.
type LiveChatSettings struct {
	// IdleOff ends a live chat this long after the last agent message
	// (negative: never).
	IdleOff time.Duration `json:"idle_off,omitempty"`
	// ResolveMessage is sent to the customer when an agent resolves.
	ResolveMessage string `json:"resolve_message,omitempty"`
	// Rating asks the customer for a 1–5 rating after a resolve.
	Rating bool `json:"rating,omitempty"`
	// OfflineMessage is sent when a handover starts with no agent online.
	OfflineMessage string `json:"offline_message,omitempty"`
	// NotifyWebhook is POSTed a JSON notice when a handover waits with no
	// agent online, or longer than NotifyAfter.
	NotifyWebhook string        `json:"notify_webhook,omitempty"`
	NotifyAfter   time.Duration `json:"notify_after,omitempty"`
	UpdatedAt     time.Time     `json:"updated_at,omitzero"`
}

// NewHandoverID returns a new handover id. Ids sort by creation time, so
// that id order is age order.
func NewHandoverID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMicro()))
	_, _ = rand.Read(b[8:])
	return "h" + strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func (h *Handover) validate() error {
	switch {
	case h.ID == "" || h.Bot == "" || h.Contact == "":
		return fmt.Errorf("%w: a handover needs an id, a bot and a contact", ErrInvalid)
	case h.Status == "":
		return fmt.Errorf("%w: handover %s has no status", ErrInvalid, h.ID)
	case len(h.Notes) > MaxHandoverNotes:
		return fmt.Errorf("%w: handover %s has more than %d notes", ErrInvalid, h.ID, MaxHandoverNotes)
	}
	return nil
}

func keyHandover(dst []byte, id string) []byte { return append(append(dst, tHandover...), id...) }
func keyOpen(dst []byte, id string) []byte     { return append(append(dst, tOpen...), id...) }

func prefixContactHandovers(dst []byte, contact string) []byte {
	return appendLP(append(dst, tHandovers...), contact)
}

// putHandover writes a handover and its index entries into the batch's
// transaction.
func (w *writer) putHandover(h *Handover) error {
	if len(h.History) > MaxHandoverHistory {
		h.History = h.History[len(h.History)-MaxHandoverHistory:]
	}
	b, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("%w: handover %s: %w", ErrInvalid, h.ID, err)
	}
	k := w.mark()
	w.arena = keyHandover(w.arena, h.ID)
	key := w.since(k)
	v := w.mark()
	w.arena = append(w.arena, b...)
	if err := w.set(key, w.since(v)); err != nil {
		return err
	}
	k = w.mark()
	w.arena = append(prefixContactHandovers(w.arena, h.Contact), h.ID...)
	if err := w.set(w.since(k), nil); err != nil {
		return err
	}
	k = w.mark()
	w.arena = keyOpen(w.arena, h.ID)
	if HandoverOpen(h.Status) {
		return w.set(w.since(k), nil)
	}
	return w.txn.Delete(w.since(k))
}

func decodeHandover(v []byte) (*Handover, error) {
	var h Handover
	if err := json.Unmarshal(v, &h); err != nil {
		return nil, fmt.Errorf("store: bad handover: %w", err)
	}
	return &h, nil
}

func (s *badgerStore) Handover(ctx context.Context, id string) (*Handover, error) {
	var h *Handover
	err := s.get(ctx, keyHandover(nil, id), func(v []byte) (err error) {
		h, err = decodeHandover(v)
		return err
	})
	return h, err
}

func (s *badgerStore) ContactHandovers(ctx context.Context, contact string, limit int) ([]*Handover, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	limit = pageSize(limit, DefaultPage, MaxPage)
	prefix := prefixContactHandovers(nil, contact)
	var out []*Handover
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		seek := append(bytes.Clone(prefix), 0xff)
		var key []byte
		for it.Seek(seek); it.ValidForPrefix(prefix) && len(out) < limit; it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			key = keyHandover(key[:0], string(it.Item().Key()[len(prefix):]))
			err := getIn(txn, key, func(v []byte) error {
				h, err := decodeHandover(v)
				if err == nil {
					out = append(out, h)
				}
				return err
			})
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return nil
	})
	return out, err
}

func (s *badgerStore) ScanHandovers(ctx context.Context, open bool, cursor string, scan int, fn func(*Handover) bool) (string, bool, error) {
	if err := s.begin(ctx); err != nil {
		return "", false, err
	}
	defer s.life.RUnlock()
	scan = pageSize(scan, MaxScan, MaxScan)
	prefix := []byte(tHandover)
	if open {
		prefix = []byte(tOpen)
	}
	var last string
	more := false
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true, PrefetchValues: !open})
		defer it.Close()
		seek := append(bytes.Clone(prefix), 0xff)
		if cursor != "" {
			// The first key before the cursor's: ids are at most a few
			// dozen bytes, so the cursor with a zero byte cut sorts
			// just below it.
			seek = append(bytes.Clone(prefix), cursor...)
		}
		read := 0
		var key []byte
		for it.Seek(seek); it.ValidForPrefix(prefix); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			id := string(it.Item().Key()[len(prefix):])
			if cursor != "" && id >= cursor {
				continue
			}
			if read == scan {
				more = true
				return nil
			}
			read++
			last = id
			var h *Handover
			decode := func(v []byte) (err error) {
				h, err = decodeHandover(v)
				return err
			}
			var err error
			if open {
				key = keyHandover(key[:0], id)
				err = getIn(txn, key, decode)
				if errors.Is(err, ErrNotFound) {
					continue
				}
			} else {
				err = it.Item().Value(decode)
			}
			if err != nil {
				return err
			}
			if !fn(h) {
				more = true
				return nil
			}
		}
		return nil
	})
	return last, more, err
}

// The canned replies and live-chat settings are small JSON records, written
// alone.

func keyCanned(dst []byte, id string) []byte    { return append(append(dst, tCanned...), id...) }
func keyLiveChat(dst []byte, bot string) []byte { return append(append(dst, tLiveChat...), bot...) }

func (s *badgerStore) putJSON(ctx context.Context, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.life.RUnlock()
	return s.update(func(txn *badger.Txn) error { return txn.Set(key, b) })
}

func (s *badgerStore) PutCannedReply(ctx context.Context, r *CannedReply) error {
	if r.ID == "" || r.Bot == "" || r.Title == "" {
		return fmt.Errorf("%w: a canned reply needs an id, a bot and a title", ErrInvalid)
	}
	return s.putJSON(ctx, keyCanned(nil, r.ID), r)
}

func (s *badgerStore) CannedReply(ctx context.Context, id string) (*CannedReply, error) {
	var r CannedReply
	err := s.get(ctx, keyCanned(nil, id), func(v []byte) error { return json.Unmarshal(v, &r) })
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (s *badgerStore) CannedReplies(ctx context.Context, bot string) ([]*CannedReply, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	var out []*CannedReply
	prefix := []byte(tCanned)
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(prefix) && len(out) < MaxCannedReplies; it.Next() {
			var r CannedReply
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &r) }); err != nil {
				return fmt.Errorf("store: bad canned reply %q: %w", it.Item().Key(), err)
			}
			if bot == "" || r.Bot == bot {
				out = append(out, &r)
			}
		}
		return nil
	})
	return out, err
}

func (s *badgerStore) DeleteCannedReply(ctx context.Context, id string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.life.RUnlock()
	return s.update(func(txn *badger.Txn) error {
		key := keyCanned(nil, id)
		if _, err := txn.Get(key); errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		return txn.Delete(key)
	})
}

func (s *badgerStore) LiveChatSettings(ctx context.Context, bot string) (*LiveChatSettings, error) {
	var ls LiveChatSettings
	err := s.get(ctx, keyLiveChat(nil, bot), func(v []byte) error { return json.Unmarshal(v, &ls) })
	if err != nil {
		return nil, err
	}
	return &ls, nil
}

func (s *badgerStore) PutLiveChatSettings(ctx context.Context, bot string, ls *LiveChatSettings) error {
	if bot == "" {
		return fmt.Errorf("%w: live-chat settings need a bot", ErrInvalid)
	}
	return s.putJSON(ctx, keyLiveChat(nil, bot), ls)
}
