// Package outbox sends the outbound messages the pipeline queued
// (store.Outbox) through the channels, with retries and backoff. A message
// that keeps failing is marked failed, with its last error, and stays in the
// conversation: nothing is dropped.
//
// One goroutine owns the loop. It wakes on a poll ticker and on Notify (the
// pipeline's OnCommit calls it), reads the due messages, leases them — a
// StatusUpdate that re-queues each one with NextAttempt = now+Lease, so that
// neither this loop nor another dispatcher polling the same store hands it
// out again while its send is in flight — and gives them to a bounded pool
// of workers that call the channel's Sender, each call bounded by
// SendTimeout. The outcome is committed:
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
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
	// Workers is how many sends may be in flight; 0 means 32.
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

	committer *store.Committer // outcomes, grouped across sends

	wake chan struct{}
	work chan store.Message
	stop chan struct{}
	// ctx is cancelled by Close, which aborts the sends in flight.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	closeOnce, closeOnce2 sync.Once

	inflightMu sync.Mutex
	inflight   map[msgKey]struct{}
}

type msgKey struct {
	contact string
	seq     uint64
}

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
		cfg.Workers = 32
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
		work:     make(chan store.Message),
		stop:     make(chan struct{}),
		inflight: map[msgKey]struct{}{},
	}
	for name, s := range cfg.Senders {
		d.senders[name] = s
	}
	d.committer = store.NewCommitter(cfg.Store, cfg.Workers, 0)
	d.ctx, d.cancel = context.WithCancel(context.Background())
	for range cfg.Workers {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for m := range d.work {
				d.deliver(m)
			}
		}()
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(d.work)
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

// Depth is how many outbound messages are queued (due or not, leased ones
// included), counting up to store.MaxOutbox: for the outbox depth gauge.
func (d *Dispatcher) Depth(ctx context.Context) (int, error) {
	ms, err := d.cfg.Store.Outbox(ctx, farFuture, store.MaxOutbox)
	return len(ms), err
}

var farFuture = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)

// Close stops the loop and the workers: sends in flight have their context
// cancelled and their outcome recorded (a cancelled send is retried later).
// It returns when every goroutine of the dispatcher has exited, or with
// ctx's error.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.closeOnce.Do(func() {
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
	d.closeOnce2.Do(func() { d.committer.Close() })
	return err
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

// poll leases and hands out one read of due messages. It reports whether
// the read was full and, with all of it handed out, another may find more.
func (d *Dispatcher) poll() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := d.cfg.Now()
	due, err := d.cfg.Store.Outbox(ctx, now, d.cfg.Batch)
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
	var take []store.Message
	d.inflightMu.Lock()
	for _, m := range due {
		k := msgKey{m.Contact, m.Seq}
		if _, busy := d.inflight[k]; busy {
			continue
		}
		d.inflight[k] = struct{}{}
		// The lease counts the attempt about to be made, so that a send
		// that crashes the process still counts towards MaxAttempts.
		m.Attempts++
		take = append(take, m)
		batch.Updates = append(batch.Updates, store.StatusUpdate{
			Contact: m.Contact, Seq: m.Seq, Status: store.StatusQueued,
			Attempts: m.Attempts, NextAttempt: leaseUntil,
		})
	}
	d.inflightMu.Unlock()
	if len(take) == 0 {
		return false
	}
	if err := d.cfg.Store.Commit(ctx, batch); err != nil {
		d.cfg.Log.Warn("outbox: leasing", "messages", len(take), "err", err)
		d.release(take...)
		return false
	}
	for i, m := range take {
		select {
		case d.work <- m:
		case <-d.stop:
			// Not sent: the lease runs out and the next run sends them.
			d.release(take[i:]...)
			return false
		}
	}
	return len(due) == d.cfg.Batch
}

func (d *Dispatcher) release(ms ...store.Message) {
	d.inflightMu.Lock()
	for _, m := range ms {
		delete(d.inflight, msgKey{m.Contact, m.Seq})
	}
	d.inflightMu.Unlock()
}

// deliver sends one leased message (m.Attempts counts this attempt) and
// records the outcome.
func (d *Dispatcher) deliver(m store.Message) {
	defer d.release(m)
	u := d.attempt(m)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.committer.Submit(ctx, &store.Batch{Updates: []store.StatusUpdate{u}}); err != nil {
		// The lease runs out and the message is sent again.
		d.cfg.Log.Warn("outbox: recording the outcome", "contact", m.Contact, "seq", m.Seq, "status", u.Status, "err", err)
	}
}

// attempt sends m and returns the status update that records the outcome.
func (d *Dispatcher) attempt(m store.Message) store.StatusUpdate {
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
	err := d.send(m, &u)
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

func (d *Dispatcher) send(m store.Message, u *store.StatusUpdate) error {
	s := d.sender(m.Channel)
	if s == nil {
		return fmt.Errorf("no sender for channel %q", m.Channel)
	}
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.SendTimeout)
	defer cancel()
	c, err := d.cfg.Store.Contact(ctx, m.Contact)
	if errors.Is(err, store.ErrNotFound) {
		return Final(fmt.Errorf("contact %q does not exist", m.Contact))
	}
	if err != nil {
		return fmt.Errorf("reading the contact: %w", err)
	}
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
