// Package outbox sends the outbound messages the pipeline queued
// (store.Outbox) through the channels, with retries and backoff. A message
// that keeps failing is marked failed, with its last error, and stays in the
// conversation: nothing is dropped.
//
// A message is leased while it is in the dispatcher's hands: stored queued
// with NextAttempt = now+Lease, so that no read of the outbox (this
// dispatcher's or another's) hands it out again meanwhile. Messages come to
// hand two ways:
//
//   - at commit: the pipeline stores a step's queued replies already leased
//     (pipeline.Config.Lease calls Lease) and its OnCommit hands them over
//     (Offer), so a reply costs no read of the outbox and no lease write;
//   - by reading the outbox: one goroutine owns a loop that wakes on a poll
//     ticker and on Notify, reads the due messages (retries, and replies
//     whose lease ran out) and leases them.
//
// A bounded pool of workers calls the channels' Senders, each call bounded
// by SendTimeout; one worker at a time has a conversation, and sends its
// messages in order. The outcome is committed:
//
//   - sent: StatusSent with the channel's external id;
//   - retryable error: re-queued at now + exponential backoff with jitter
//     (at least the error's RetryAfter), Attempts+1, Error;
//   - final error, or MaxAttempts reached: StatusFailed with Error.
//
// Should the process die between a send and its commit, the lease runs out
// and the message is sent again: delivery is at least once, and channels
// with ids can de-duplicate.
//
// The lease is a plain write, not a compare-and-set: two dispatchers that
// read the outbox at the same instant could both lease a message. One
// dispatcher per store is the supported setup; the store would need a
// conditional StatusUpdate for several.
package outbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// Sender sends one message through a channel and returns the id the channel
// gave it (may be empty). Errors are retried unless they are a *SendError
// with Retryable false. Send must honour ctx.
type Sender interface {
	Send(ctx context.Context, contact *flows.Contact, m store.Message) (externalID string, err error)
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, contact *flows.Contact, m store.Message) (string, error)

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, contact *flows.Contact, m store.Message) (string, error) {
	return f(ctx, contact, m)
}

// SendError classifies a send failure. Errors that are not a SendError are
// retryable.
type SendError struct {
	Err       error
	Retryable bool
	// RetryAfter, when positive, is the least time to wait before the next
	// attempt (a channel's rate limit, say).
	RetryAfter time.Duration
}

func (e *SendError) Error() string {
	if e.Err == nil {
		return "send failed"
	}
	return e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// Final wraps err as an error that is not retried.
func Final(err error) error { return &SendError{Err: err} }

// Retry wraps err as a retryable error, to be retried no sooner than after.
func Retry(err error, after time.Duration) error {
	return &SendError{Err: err, Retryable: true, RetryAfter: after}
}

// Config configures a Dispatcher. Store is required.
type Config struct {
	Store store.Store
	// Senders are the channels' Senders by channel name; Register adds
	// more later.
	Senders map[string]Sender
	// Others, when set, sends for the channels without a Sender of their
	// own: the plugin channels, which bots name.
	Others Sender
	// Poll is how often the outbox is read without a Notify; 0 means 1s.
	Poll time.Duration
	// SendTimeout bounds one Send; 0 means 15s.
	SendTimeout time.Duration
	// Lease is how long a message handed to a Sender stays out of the
	// outbox; it must exceed SendTimeout plus the time to commit the
	// outcome. 0 means 2×SendTimeout + 10s.
	Lease time.Duration
	// MaxAttempts is how many sends are tried before a message is marked
	// failed; 0 means 8.
	MaxAttempts int
	// Backoff is the wait after the first failure, doubled after each
	// further one up to MaxBackoff; 0 means 1s and 5m.
	Backoff, MaxBackoff time.Duration
	// Workers is how many sends may be in flight; 0 means 64.
	Workers int
	// Batch is how many due messages one read takes; 0 means 256.
	Batch int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// maxRetryAfter bounds a channel's RetryAfter.
const maxRetryAfter = 24 * time.Hour

// Dispatcher sends the outbox. New starts it; Close stops it.
type Dispatcher struct {
	cfg     Config
	mu      sync.RWMutex
	senders map[string]Sender

	// outcomes are the sends' outcomes on their way to the store: the
	// recorder commits what has come in together, so a worker goes on to
	// its next send without waiting for the commit. The messages stay
	// leased until then.
	outcomes chan store.StatusUpdate
	recorded chan struct{} // closed when the recorder has exited

	wake chan struct{}
	stop chan struct{}
	// ctx is cancelled by Close, which aborts the sends in flight.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	closeOnce, closeOnce2 sync.Once

	// held are the conversations whose leased messages are in the
	// dispatcher's hands, waiting or being sent: one worker at a time
	// sends a conversation's messages, in order. ready lists the held
	// conversations no worker has taken yet; it never holds more than
	// maxHeld, the bound on waiting messages, so sends to it never block.
	heldMu  sync.Mutex
	held    map[string]*holding
	waiting int
	closed  bool
	ready   chan string
}

// holding is one conversation's messages in the dispatcher's hands.
type holding struct {
	contact *flows.Contact  // nil: read from the store before sending
	msgs    []store.Message // leased, waiting, in Seq order
}

// maxHeld bounds the messages waiting in memory for a worker;
// maxOutcomes the outcomes waiting for the recorder, and one commit of them.
const (
	maxHeld     = 4096
	maxOutcomes = 512
)

// New starts a dispatcher over cfg.Store.
func New(cfg Config) *Dispatcher {
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 15 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2*cfg.SendTimeout + 10*time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.Backoff)
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	cfg.Batch = min(cfg.Batch, store.MaxOutbox)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	d := &Dispatcher{
		cfg:      cfg,
		senders:  make(map[string]Sender, len(cfg.Senders)),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		held:     map[string]*holding{},
		ready:    make(chan string, maxHeld),
		outcomes: make(chan store.StatusUpdate, maxOutcomes),
		recorded: make(chan struct{}),
	}
	for name, s := range cfg.Senders {
		d.senders[name] = s
	}
	go d.record()
	d.ctx, d.cancel = context.WithCancel(context.Background())
	for range cfg.Workers {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for {
				select {
				case <-d.stop:
					return
				case contact := <-d.ready:
					d.run(contact)
				}
			}
		}()
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.loop()
	}()
	return d
}

// Register sets the Sender of a channel (by the name in Message.Channel),
// replacing any previous one. Messages of a channel without a Sender are
// retried, then failed.
func (d *Dispatcher) Register(channel string, s Sender) {
	d.mu.Lock()
	d.senders[channel] = s
	d.mu.Unlock()
}

func (d *Dispatcher) sender(channel string) Sender {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if s, ok := d.senders[channel]; ok {
		return s
	}
	return d.cfg.Others
}

// Notify wakes the loop to read the outbox now. It never blocks; wake-ups
// that come while one is pending are merged.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Lease is the time until which a step committed now stores its queued
// outbound messages leased, for Offer to hand them to the workers at
// commit: what the pipeline asks before committing a step
// (pipeline.Config.Lease). Should the process stop before they are sent,
// they are sent once the lease runs out, as after a crash during any send.
// With many messages already in hand (the channels are slower than the
// conversations) it returns the zero time: the step's messages are then
// stored due at once and wait in the outbox for a read.
func (d *Dispatcher) Lease(now time.Time) time.Time {
	if d.capacity() < maxHeld/2 {
		return time.Time{}
	}
	return now.Add(d.cfg.Lease)
}

// Offer hands the committed messages of one conversation to the workers:
// the queued outbound ones stored leased (see Lease) are sent at once,
// after any of the conversation's messages already in hand, without
// reading the outbox. It never blocks. Queued messages not leased, and
// any it cannot hold, are left to the outbox's next read.
func (d *Dispatcher) Offer(c *flows.Contact, ms []store.Message) {
	var take []store.Message
	poll := false
	for _, m := range ms {
		if m.Direction != store.DirectionOut || m.Status != store.StatusQueued {
			continue
		}
		if m.NextAttempt.IsZero() || m.Contact == "" || (len(take) > 0 && m.Contact != take[0].Contact) {
			poll = true
			continue
		}
		take = append(take, m)
	}
	if len(take) > 0 {
		id := take[0].Contact
		if c != nil && c.ID != id {
			c = nil // read from the store before sending
		}
		if !d.hold(id, c, take) {
			d.cfg.Log.Warn("outbox: too many messages in hand; these are sent when their lease runs out", "contact", id, "messages", len(take))
		}
	}
	if poll {
		d.Notify()
	}
}

// hold adds leased messages of a conversation to those in hand and, when
// no worker has the conversation, lists it as ready. It reports false,
// taking nothing, when that would pass maxHeld or the dispatcher closed.
func (d *Dispatcher) hold(id string, c *flows.Contact, ms []store.Message) bool {
	d.heldMu.Lock()
	defer d.heldMu.Unlock()
	if d.closed || d.waiting+len(ms) > maxHeld {
		return false
	}
	h := d.held[id]
	if h == nil {
		h = &holding{}
		d.held[id] = h
		d.ready <- id // never blocks: at most maxHeld are ready
	}
	if c != nil {
		h.contact = c
	}
	h.msgs = append(h.msgs, ms...)
	d.waiting += len(ms)
	return true
}

// capacity is how many more messages hold takes now.
func (d *Dispatcher) capacity() int {
	d.heldMu.Lock()
	defer d.heldMu.Unlock()
	return maxHeld - d.waiting
}

// isHeld reports whether a conversation has messages in hand.
func (d *Dispatcher) isHeld(id string) bool {
	d.heldMu.Lock()
	defer d.heldMu.Unlock()
	return d.held[id] != nil
}

// next takes the waiting messages of a held conversation, or lets the
// conversation go when none wait.
func (d *Dispatcher) next(id string) (*flows.Contact, []store.Message) {
	d.heldMu.Lock()
	defer d.heldMu.Unlock()
	h := d.held[id]
	if h == nil {
		return nil, nil
	}
	if len(h.msgs) == 0 {
		delete(d.held, id)
		return nil, nil
	}
	ms := h.msgs
	h.msgs = nil
	d.waiting -= len(ms)
	return h.contact, ms
}

// Depth is how many outbound messages are queued (due or not, leased ones
// included), counting up to store.MaxOutbox: for the outbox depth gauge.
func (d *Dispatcher) Depth(ctx context.Context) (int, error) {
	ms, err := d.cfg.Store.Outbox(ctx, farFuture, store.MaxOutbox)
	return len(ms), err
}

var farFuture = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)

// Close stops the loop and the workers: sends in flight have their context
// cancelled and their outcome recorded (a cancelled send is retried later),
// and the messages in hand not yet sent are put back in the outbox, due
// now. It returns when every goroutine of the dispatcher has exited, or
// with ctx's error.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.closeOnce.Do(func() {
		d.heldMu.Lock()
		d.closed = true
		d.heldMu.Unlock()
		close(d.stop)
	})
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		d.cancel()
		<-done
	}
	d.cancel()
	d.closeOnce2.Do(func() {
		close(d.outcomes) // no worker is left to send on it
		<-d.recorded
		d.putBack()
	})
	return err
}

// record commits the outcomes of sends, what has come in at once together,
// until Close closes the channel. A commit that fails leaves the messages
// leased: the lease runs out and they are sent again.
func (d *Dispatcher) record() {
	defer close(d.recorded)
	for u := range d.outcomes {
		b := &store.Batch{Updates: []store.StatusUpdate{u}}
	gather:
		for len(b.Updates) < maxOutcomes {
			select {
			case u, ok := <-d.outcomes:
				if !ok {
					break gather
				}
				b.Updates = append(b.Updates, u)
			default:
				break gather
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := d.cfg.Store.Commit(ctx, b); err != nil {
			d.cfg.Log.Warn("outbox: recording outcomes; those messages are sent again when their lease runs out", "messages", len(b.Updates), "err", err)
		}
		cancel()
	}
}

// putBack returns the messages in hand that no worker sent to the outbox,
// due now, so that the next start sends them without waiting for their
// lease.
func (d *Dispatcher) putBack() {
	d.heldMu.Lock()
	b := &store.Batch{}
	now := d.cfg.Now()
	for _, h := range d.held {
		for _, m := range h.msgs {
			b.Updates = append(b.Updates, store.StatusUpdate{Contact: m.Contact, Seq: m.Seq, Status: store.StatusQueued, NextAttempt: now})
		}
	}
	d.held, d.waiting = map[string]*holding{}, 0
	d.heldMu.Unlock()
	if len(b.Updates) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.cfg.Store.Commit(ctx, b); err != nil && !errors.Is(err, store.ErrClosed) {
		d.cfg.Log.Warn("outbox: putting back unsent messages; they are sent when their lease runs out", "messages", len(b.Updates), "err", err)
	}
}

func (d *Dispatcher) loop() {
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	for {
		for d.poll() {
			// A full read: there may be more due at once.
			select {
			case <-d.stop:
				return
			default:
			}
		}
		select {
		case <-d.stop:
			return
		case <-t.C:
		case <-d.wake:
		}
	}
}

// poll leases one read of due messages and hands them to the workers, a
// conversation's in Seq order, leaving out the conversations already in
// hand (their due messages come with a later read). It reports whether the
// read was full and another may find more.
func (d *Dispatcher) poll() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	limit := min(d.cfg.Batch, d.capacity())
	if limit <= 0 {
		return false
	}
	now := d.cfg.Now()
	due, err := d.cfg.Store.Outbox(ctx, now, limit)
	if err != nil {
		if !errors.Is(err, store.ErrClosed) {
			d.cfg.Log.Warn("outbox: reading", "err", err)
		}
		return false
	}
	if len(due) == 0 {
		return false
	}
	leaseUntil := now.Add(d.cfg.Lease)
	batch := &store.Batch{}
	byContact := map[string][]store.Message{}
	var order []string
	for _, m := range due {
		if d.isHeld(m.Contact) {
			continue
		}
		if byContact[m.Contact] == nil {
			order = append(order, m.Contact)
		}
		// The lease counts the attempt about to be made, so that a send
		// that crashes the process still counts towards MaxAttempts.
		m.Attempts++
		byContact[m.Contact] = append(byContact[m.Contact], m)
		batch.Updates = append(batch.Updates, store.StatusUpdate{
			Contact: m.Contact, Seq: m.Seq, Status: store.StatusQueued,
			Attempts: m.Attempts, NextAttempt: leaseUntil,
		})
	}
	if len(order) == 0 {
		return false
	}
	if err := d.cfg.Store.Commit(ctx, batch); err != nil {
		d.cfg.Log.Warn("outbox: leasing", "messages", len(batch.Updates), "err", err)
		return false
	}
	for _, id := range order {
		ms := byContact[id]
		slices.SortFunc(ms, func(a, b store.Message) int { return cmp.Compare(a.Seq, b.Seq) })
		if !d.hold(id, nil, ms) {
			// Closed (the limit left room): the lease runs out and the
			// next run sends them.
			return false
		}
	}
	return len(due) == limit
}

// run sends the messages in hand of one conversation until none wait.
// After a message that is to be retried, the ones behind it in hand wait
// for the same time, so they keep their order.
func (d *Dispatcher) run(id string) {
	var after time.Time
	for {
		c, ms := d.next(id)
		if ms == nil {
			return
		}
		after = d.sendAll(c, ms, after)
	}
}

// sendAll sends one conversation's leased messages in order, or re-queues
// them at after when it is set, and records each outcome. It returns the
// time the messages behind these are to wait for.
func (d *Dispatcher) sendAll(c *flows.Contact, ms []store.Message, after time.Time) time.Time {
	var contactErr error
	for _, m := range ms {
		if !m.NextAttempt.IsZero() && m.Attempts == 0 {
			// Stored leased by the pipeline without counting the attempt.
			m.Attempts = 1
		}
		var u store.StatusUpdate
		switch {
		case !after.IsZero():
			u = store.StatusUpdate{Contact: m.Contact, Seq: m.Seq, Status: store.StatusQueued, NextAttempt: after}
		case d.stopped():
			// Closing: back to the outbox, due now, in order.
			u = store.StatusUpdate{Contact: m.Contact, Seq: m.Seq, Status: store.StatusQueued, NextAttempt: d.cfg.Now()}
		default:
			if c == nil && contactErr == nil {
				c, contactErr = d.contact(m.Contact)
			}
			u = d.attempt(m, c, contactErr)
			if u.Status == store.StatusQueued {
				after = u.NextAttempt
			}
		}
		d.outcomes <- u
	}
	return after
}

func (d *Dispatcher) stopped() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

// contact reads the conversation's contact for its Sender.
func (d *Dispatcher) contact(id string) (*flows.Contact, error) {
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.SendTimeout)
	defer cancel()
	c, err := d.cfg.Store.Contact(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Final(fmt.Errorf("contact %q does not exist", id))
	}
	if err != nil {
		return nil, fmt.Errorf("reading the contact: %w", err)
	}
	return c, nil
}

// attempt sends m and returns the status update that records the outcome.
func (d *Dispatcher) attempt(m store.Message, c *flows.Contact, contactErr error) store.StatusUpdate {
	u := store.StatusUpdate{Contact: m.Contact, Seq: m.Seq, Attempts: m.Attempts}
	if m.Attempts > d.cfg.MaxAttempts {
		// The last allowed attempt was leased and never recorded (the
		// process stopped): give up, keeping the last error stored.
		u.Status = store.StatusFailed
		u.Attempts = m.Attempts - 1
		if m.Error == "" {
			u.Error = fmt.Sprintf("gave up after %d attempts", u.Attempts)
		}
		return u
	}
	err := contactErr
	if err == nil {
		err = d.send(m, c, &u)
	}
	if err == nil {
		u.Status = store.StatusSent
		return u
	}
	u.Error = err.Error()
	if u.Error == "" {
		u.Error = "send failed"
	}
	retryable, after := true, time.Duration(0)
	var se *SendError
	if errors.As(err, &se) {
		retryable, after = se.Retryable, min(se.RetryAfter, maxRetryAfter)
	}
	if !retryable || m.Attempts >= d.cfg.MaxAttempts {
		if retryable {
			u.Error = fmt.Sprintf("gave up after %d attempts: %s", m.Attempts, u.Error)
		}
		u.Status = store.StatusFailed
		d.cfg.Log.Warn("outbox: message failed", "contact", m.Contact, "seq", m.Seq, "channel", m.Channel, "attempts", m.Attempts, "err", u.Error)
		return u
	}
	u.Status = store.StatusQueued
	u.NextAttempt = d.cfg.Now().Add(max(d.backoff(m.Attempts), after))
	return u
}

func (d *Dispatcher) send(m store.Message, c *flows.Contact, u *store.StatusUpdate) error {
	s := d.sender(m.Channel)
	if s == nil {
		return fmt.Errorf("no sender for channel %q", m.Channel)
	}
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.SendTimeout)
	defer cancel()
	ext, err := safeSend(ctx, s, c, m)
	if err != nil {
		return err
	}
	u.ExternalID = ext
	return nil
}

// safeSend turns a Sender's panic into a retryable error.
func safeSend(ctx context.Context, s Sender, c *flows.Contact, m store.Message) (ext string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sender panicked: %v", r)
		}
	}()
	return s.Send(ctx, c, m)
}

// backoff is the wait after the attempt-th failure: Backoff·2^(attempt-1),
// at most MaxBackoff, with "equal jitter" (between half and all of it) so
// that messages that failed together do not retry together.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	b := d.cfg.Backoff
	for i := 1; i < attempt && b < d.cfg.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.cfg.MaxBackoff)
	half := b / 2
	return half + rand.N(b-half+1)
}
