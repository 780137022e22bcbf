// Package store keeps the runtime's durable state: contacts, sessions,
// conversations (message logs), timers, the inbound de-duplication record,
// and the outbox of outbound messages waiting to be sent.
//
// Store is an interface so that a distributed engine can replace the embedded
// Badger one when the runtime grows to several nodes; no Badger type appears
// in this package's exported API. Writes go through Commit only: the runtime
// commits everything one engine step produced (contact, session, messages,
// timers, dedup key) as one Batch, and a Committer groups the batches of many
// conversations into one transaction for throughput.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// Store is the runtime's durable state. Implementations are safe for
// concurrent use.
type Store interface {
	// Contact returns the contact with id, or ErrNotFound.
	Contact(ctx context.Context, id string) (*flows.Contact, error)
	// ContactByExternal finds a contact by the identity its channel gives
	// it, or returns ErrNotFound.
	ContactByExternal(ctx context.Context, bot, channel, externalID string) (*flows.Contact, error)
	// Contacts lists the contacts of bot (all contacts when bot is empty) in
	// ID order, limit at a time (at most MaxPage). Pass the returned cursor
	// to get the next page; it is empty on the last page.
	Contacts(ctx context.Context, bot string, cursor string, limit int) ([]*flows.Contact, string, error)
	// DeleteContact deletes a contact and everything of it (delete.go), or
	// returns ErrNotFound.
	DeleteContact(ctx context.Context, id string) error
	// Session returns the contact's session, or ErrNotFound.
	Session(ctx context.Context, contactID string) (*flows.Session, error)
	// Messages returns a page of the contact's conversation in Seq order,
	// as described by MessageQuery, and the cursor of the next page in the
	// same direction (empty when there is none).
	Messages(ctx context.Context, contactID string, q MessageQuery) ([]Message, string, error)
	// Seen reports whether a batch with this DedupKey has been committed.
	Seen(ctx context.Context, dedupKey string) (bool, error)
	// DueTimers returns up to limit (at most MaxDueTimers) timers due at or
	// before now, earliest first. Firing a timer does not delete it: the
	// batch that handles it (Batch.Fired) does. A timer of Kind TimerWake
	// is handled by a batch with nothing but Fired.
	DueTimers(ctx context.Context, now time.Time, limit int) ([]flows.Timer, error)
	// ContactTimers returns the pending timers of one contact (due or not,
	// fired ones included until a batch cancels them), earliest first and
	// in ID order among equal due times. It returns at most MaxDueTimers:
	// the earliest, should the contact have more.
	ContactTimers(ctx context.Context, contactID string) ([]flows.Timer, error)
	// Outbox returns up to limit (100 when 0, at most MaxOutbox) outbound
	// messages with status StatusQueued whose NextAttempt is at or before
	// now, earliest NextAttempt first (equal times in a fixed order, a
	// contact's messages in Seq order). Reading the outbox claims nothing:
	// a message stays in it until a StatusUpdate gives it another status
	// or moves its NextAttempt, so a dispatcher must not hand the same
	// message out twice while a send is in flight. The order is by due
	// time only: a message waiting for a retry can be overtaken by a later
	// message of the same contact.
	Outbox(ctx context.Context, now time.Time, limit int) ([]Message, error)
	// MessageByExternal returns the outbound message to which the channel
	// gave externalID (Message.Channel and Message.ExternalID, set when the
	// message was committed or by a StatusUpdate), for delivery receipts,
	// or ErrNotFound. Should two outbound messages of a channel carry the
	// same external id, the last one to get it is found.
	MessageByExternal(ctx context.Context, channel, externalID string) (*Message, error)
	// Commit applies all batches in one transaction. Only when the
	// transaction would exceed the engine's size limit is it split, between
	// batches, never inside one: then an error after the first part returns
	// a *PartialCommitError saying how many batches are durable. Any other
	// error means nothing was written. Commit assigns the Seq (and fills an
	// empty Contact) of every message in the batches, and the NextAttempt
	// (its Time) of a queued outbound message that has none.
	Commit(ctx context.Context, batches ...*Batch) error
	// Close waits for the calls in progress and releases the store; calls
	// after Close return ErrClosed. Close a Committer before its store.
	Close() error
	// WriteFailure is nil while the store takes writes. Once a commit has
	// failed in a way that leaves the store unsure of what it wrote (a
	// failed write or fsync of its log), every write returns this error,
	// wrapping ErrWriteFailed, until the store is opened again.
	WriteFailure() error
	// Accounts keeps API accounts and tokens (accounts.go).
	Accounts
	// BotVersions keeps the history of published bot files (botversions.go).
	BotVersions
	// Teams keeps the teams of agents, which are the live-chat queues
	// (teams.go).
	Teams
	// Handovers keeps live chat: handovers, canned replies, settings
	// (handovers.go).
	Handovers
}

// Batch is everything one engine step changes for one conversation, applied
// atomically. Within a batch, CancelTimers apply before Timers, so a batch
// may cancel and set a timer with the same ID, and Updates apply after
// Messages (and after the batches before it in the same Commit). A batch may
// hold only Updates: that is what a dispatcher commits.
type Batch struct {
	// ContactID is the conversation the session and the messages belong
	// to. It defaults to Contact.ID, so it is only needed when the contact
	// itself is unchanged and not rewritten.
	ContactID string
	// Contact is upserted when set, and its (bot, channel, external id)
	// index kept up to date.
	Contact *flows.Contact
	// Session is stored when set; nil leaves the stored one as it is.
	Session *flows.Session
	// SessionEncoded, when set, is Session as flows.AppendSession encodes
	// it, which the caller already has: the store writes it instead of
	// encoding Session again.
	SessionEncoded []byte
	// DeleteSession removes the stored session (the flow ended).
	DeleteSession bool
	// Messages are appended to their contact's conversation. The store
	// assigns each a Seq, increasing per contact, and writes it back into
	// the slice (meaningful once Commit returned nil); an empty
	// Message.Contact means ContactID and is filled in. An outbound message
	// with StatusQueued enters the outbox, due at its NextAttempt, which
	// defaults to (and is filled in with) its Time.
	Messages []Message
	// Updates change the delivery status of stored outbound messages (see
	// StatusUpdate). An update for a message that does not exist, or that
	// is inbound, fails the batch.
	Updates []StatusUpdate
	// Timers are set, keyed by due time; setting an existing ID moves it.
	// An empty Timer.Contact means ContactID. Timer IDs are unique across
	// contacts.
	Timers []flows.Timer
	// CancelTimers are the IDs of the batch's contact's timers to delete.
	// Unknown IDs are ignored.
	CancelTimers []string
	// Fired is the timer this batch handles, as DueTimers returned it. It
	// is deleted before CancelTimers and Timers, unless it was moved since
	// (its ID is set for another due time, which stays); it is deleted by
	// its due time even if its contact's timer list lost track of it, so
	// that no timer comes due again at every poll.
	Fired *flows.Timer
	// DedupKey, when set, is recorded so that Seen reports it: the channel
	// and external id of the inbound message this batch answers.
	DedupKey string
	// Handovers are created or replaced, with their index entries.
	Handovers []*Handover
}

// contactID is the conversation the batch is for, or "".
func (b *Batch) contactID() string {
	if b.ContactID != "" {
		return b.ContactID
	}
	if b.Contact != nil {
		return b.Contact.ID
	}
	return ""
}

// validate refuses a batch that cannot be applied, before any of it is
// written, so that a bad batch fails alone and predictably.
func (b *Batch) validate() error {
	if b == nil {
		return fmt.Errorf("%w: nil batch", ErrInvalid)
	}
	cid := b.contactID()
	if b.Contact != nil {
		if b.Contact.ID == "" {
			return fmt.Errorf("%w: contact without an ID", ErrInvalid)
		}
		if b.ContactID != "" && b.ContactID != b.Contact.ID {
			return fmt.Errorf("%w: batch for contact %q carries contact %q", ErrInvalid, b.ContactID, b.Contact.ID)
		}
	}
	for _, h := range b.Handovers {
		if err := h.validate(); err != nil {
			return err
		}
	}
	if (b.Session != nil || b.DeleteSession) && cid == "" {
		return fmt.Errorf("%w: a session needs a contact ID", ErrInvalid)
	}
	if b.Session != nil && b.DeleteSession {
		return fmt.Errorf("%w: both a session and DeleteSession", ErrInvalid)
	}
	if b.SessionEncoded != nil && b.Session == nil {
		return fmt.Errorf("%w: SessionEncoded without its Session", ErrInvalid)
	}
	for i := range b.Messages {
		m := &b.Messages[i]
		if m.Contact == "" && cid == "" {
			return fmt.Errorf("%w: message %d has no contact", ErrInvalid, i)
		}
		if m.Direction != DirectionIn && m.Direction != DirectionOut {
			return fmt.Errorf("%w: message %d: direction %q is neither %q nor %q", ErrInvalid, i, m.Direction, DirectionIn, DirectionOut)
		}
		if m.Attempts < 0 {
			return fmt.Errorf("%w: message %d: negative attempts", ErrInvalid, i)
		}
	}
	for i := range b.Updates {
		u := &b.Updates[i]
		c := u.contact(cid)
		if c == "" {
			return fmt.Errorf("%w: status update %d has no contact", ErrInvalid, i)
		}
		if u.Seq == 0 {
			return fmt.Errorf("%w: status update %d (contact %q) has no Seq", ErrInvalid, i, c)
		}
		switch u.Status {
		case StatusQueued, StatusSent, StatusDelivered, StatusRead, StatusFailed:
		default:
			return fmt.Errorf("%w: status update of message %d of contact %q: unknown status %q", ErrInvalid, u.Seq, c, u.Status)
		}
		if u.Attempts < 0 {
			return fmt.Errorf("%w: status update of message %d of contact %q: negative attempts", ErrInvalid, u.Seq, c)
		}
	}
	for i := range b.Timers {
		t := &b.Timers[i]
		if t.ID == "" || strings.HasPrefix(t.ID, wakeMark) {
			return fmt.Errorf("%w: timer %d has no ID, or one that starts with a zero byte", ErrInvalid, i)
		}
		if t.Due.Before(minDue) || t.Due.After(maxDue) {
			return fmt.Errorf("%w: timer %s is due at %v, outside the years 1678 to 2262", ErrInvalid, t.ID, t.Due)
		}
		if t.Contact == "" && cid == "" {
			return fmt.Errorf("%w: timer %s has no contact", ErrInvalid, t.ID)
		}
	}
	if b.Fired != nil && (b.Fired.ID == "" || strings.HasPrefix(b.Fired.ID, wakeMark) != (b.Fired.Kind == TimerWake) || b.Fired.Due.Before(minDue) || b.Fired.Due.After(maxDue)) {
		return fmt.Errorf("%w: fired timer %q due at %v", ErrInvalid, b.Fired.ID, b.Fired.Due)
	}
	for _, id := range b.CancelTimers {
		if id == "" {
			return fmt.Errorf("%w: empty timer ID to cancel", ErrInvalid)
		}
		if cid == "" {
			return fmt.Errorf("%w: timer %s to cancel, in a batch without a contact", ErrInvalid, id)
		}
	}
	return nil
}

// Timer due times are stored as Unix nanoseconds, which cover these years.
var (
	minDue = time.Unix(0, -1<<63)
	maxDue = time.Unix(0, 1<<63-1)
)

// outboxDue is the sortable due time of a queued outbound message: its
// NextAttempt (its Time if it has none), clamped to minDue..maxDue.
func outboxDue(m *Message) uint64 {
	t := m.NextAttempt
	if t.IsZero() {
		t = m.Time
	}
	switch {
	case t.Before(minDue):
		return 0
	case t.After(maxDue):
		return 1<<64 - 1
	}
	return dueBits(t)
}

// StatusUpdate changes the delivery state of one stored outbound message,
// named by its contact and Seq. Status is always set; the other fields
// replace the stored ones only when not zero, so that a delivery receipt
// ({Status: StatusDelivered}) keeps the attempts and last error that the
// dispatcher recorded.
//
// The outbox follows: a message leaves it when its status becomes anything
// but StatusQueued; queued (again), it is in the outbox at its NextAttempt,
// the update's or else the stored one. Typical updates:
//
//   - sent:  {Status: StatusSent, ExternalID: id, Attempts: n}
//   - retry: {Status: StatusQueued, Attempts: n, Error: err, NextAttempt: now+backoff}
//   - given up: {Status: StatusFailed, Attempts: n, Error: err}
//   - receipt: {Status: StatusDelivered} or {Status: StatusRead}
//
// The store applies statuses in the order it is given them; it does not
// refuse a receipt that would go back (read, then delivered).
type StatusUpdate struct {
	// Contact and Seq name the message; an empty Contact means the
	// batch's ContactID.
	Contact string
	Seq     uint64
	// Status is one of the Status* constants.
	Status string
	// ExternalID is the id the channel gave the message, indexed for
	// MessageByExternal (under the message's Channel).
	ExternalID string
	// Error is the last send error.
	Error string
	// Attempts is how many sends were tried.
	Attempts int
	// NextAttempt is when a queued message is due for its next send; zero
	// keeps the stored one (a message re-queued without one is due at the
	// time of its previous attempt, at once as a rule).
	NextAttempt time.Time
}

func (u *StatusUpdate) contact(cid string) string {
	if u.Contact != "" {
		return u.Contact
	}
	return cid
}

// contact is the contact m belongs to in a batch for cid.
func (m *Message) contact(cid string) string {
	if m.Contact != "" {
		return m.Contact
	}
	return cid
}

// Message directions.
const (
	DirectionIn  = "in"
	DirectionOut = "out"
)

// Message authors.
const (
	AuthorUser   = "user"
	AuthorBot    = "bot"
	AuthorAgent  = "agent"
	AuthorSystem = "system"
)

// Outbound message statuses.
const (
	StatusQueued    = "queued"
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// Message is one entry of a conversation.
type Message struct {
	Contact string
	// Seq orders a contact's messages; the store assigns it at commit.
	Seq  uint64
	ID   string
	Time time.Time
	// Direction is DirectionIn or DirectionOut.
	Direction string
	// Author is one of the Author* constants.
	Author string
	// Agent is the account of the agent who wrote an AuthorAgent message.
	Agent      string
	Channel    string
	ExternalID string
	// Status is one of the Status* constants, for outbound messages.
	Status string
	// Attempts is how many times sending an outbound message was tried.
	Attempts int
	// NextAttempt is when a queued outbound message is due to be sent
	// (again): its place in the outbox. Times outside the years 1678 to
	// 2262 sort as the nearest of those bounds.
	NextAttempt time.Time
	// Error is the last send error of an outbound message. It is kept
	// when a later attempt succeeds.
	Error   string
	Content flows.Content
}

// MessageQuery selects a page of a conversation. Cursors are the strings
// Messages returns (today a Seq in decimal; treat them as opaque).
//
//   - Neither cursor: the latest Limit messages.
//   - Before: the latest Limit messages older than Before; the returned
//     cursor pages further back.
//   - After: the earliest Limit messages newer than After ("0" is the start
//     of the conversation); the returned cursor pages forward. With Before
//     too, the page stops short of Before.
//
// Pages are always in ascending Seq order.
type MessageQuery struct {
	Before, After string
	// Limit is the page size: DefaultPage when 0, at most MaxPage.
	Limit int
}

// Page sizes of Contacts and Messages.
const (
	DefaultPage = 50
	MaxPage     = 500
)

// TimerWake is the Kind of a timer DueTimers returns for a contact's wake
// (see keys.go) that came due with none of the contact's waits due. The
// caller hands it back as a Batch.Fired, with no step: the store moves the
// wake to the contact's earliest wait, or deletes it. ContactTimers never
// returns one.
const TimerWake flows.TimerKind = "wake"

// MaxDueTimers bounds one DueTimers call, and what ContactTimers returns.
const MaxDueTimers = 1000

// maxContactTimers bounds the timers of one contact: far more than the
// runtime sets (one per waiting session, and a few per handover).
const maxContactTimers = 64 * MaxDueTimers

// MaxOutbox bounds one Outbox call.
const MaxOutbox = 1000

// pageSize applies DefaultPage and MaxPage.
func pageSize(limit, def, max int) int {
	if limit <= 0 {
		return def
	}
	return min(limit, max)
}

// Errors.
var (
	// ErrNotFound is returned when a contact, session or message does not
	// exist.
	ErrNotFound = errors.New("store: not found")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("store: closed")
	// ErrInvalid is wrapped by the errors of batches that cannot be applied.
	ErrInvalid = errors.New("store: invalid batch")
	// ErrBadCursor is returned for a cursor the store did not hand out.
	ErrBadCursor = errors.New("store: bad cursor")
	// ErrTooBig is wrapped when one batch alone exceeds a transaction.
	ErrTooBig = errors.New("store: batch too big for one transaction")
)

// PartialCommitError reports a Commit that had to be split and failed after
// some of its batches were durably committed.
type PartialCommitError struct {
	// Committed is how many leading batches were committed.
	Committed int
	Err       error
}

func (e *PartialCommitError) Error() string {
	return fmt.Sprintf("store: commit failed after %d batches: %v", e.Committed, e.Err)
}

func (e *PartialCommitError) Unwrap() error { return e.Err }
