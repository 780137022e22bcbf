package store

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
)

// Committer groups batches submitted concurrently into shared transactions,
// so that thousands of conversations pay for one commit (and, with
// SyncWrites, one fsync) instead of one each. One goroutine, owned by the
// Committer and stopped by Close, runs the loop: it takes the first waiting
// batch, lets the goroutines ready to run go first, takes everything else
// then waiting and, for up to maxDelay, whatever arrives next, until
// maxBatch; commits them; and answers every submitter.
//
// When a shared commit fails, the batches that were not committed are
// retried one by one, so that a batch that cannot be written fails alone.
type Committer struct {
	st       Store
	maxBatch int
	maxDelay time.Duration
	reqs     chan *request

	// mu orders Submit's enqueue against Close: a Submit that saw closed
	// false has finished enqueueing before Close signals the loop, so the
	// loop's final drain finds every accepted batch.
	mu     sync.RWMutex
	closed bool

	stop      chan struct{} // closed by Close: drain and exit
	done      chan struct{} // closed by the loop when it exits
	closeOnce sync.Once
}

// request is one Submit waiting for its batch to be committed.
type request struct {
	ctx   context.Context
	batch *Batch
	err   chan error // buffered: the loop never blocks on a gone submitter
}

var requestPool = sync.Pool{New: func() any { return &request{err: make(chan error, 1)} }}

// MaxCommitBatch bounds maxBatch.
const MaxCommitBatch = 4096

// NewCommitter starts a committer over st. maxBatch (1 to MaxCommitBatch,
// 64 when 0) caps the batches per transaction; maxDelay is how long a
// transaction waits for more batches once it has one: 0 commits at once,
// and batches then group only while the previous commit runs, which is what
// a latency-sensitive runtime wants.
func NewCommitter(st Store, maxBatch int, maxDelay time.Duration) *Committer {
	if maxBatch <= 0 {
		maxBatch = 64
	}
	maxBatch = min(maxBatch, MaxCommitBatch)
	c := &Committer{
		st:       st,
		maxBatch: maxBatch,
		maxDelay: max(maxDelay, 0),
		reqs:     make(chan *request, maxBatch),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go c.loop()
	return c
}

// Submit commits b together with the batches submitted concurrently and
// returns once it is committed (or failed). If ctx ends first, Submit
// returns ctx's error; a batch the loop had already taken may still be
// committed, which the runtime detects through its DedupKey.
func (c *Committer) Submit(ctx context.Context, b *Batch) error {
	if err := b.validate(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := requestPool.Get().(*request)
	r.ctx, r.batch = ctx, b
	if err := c.enqueue(ctx, r); err != nil {
		r.ctx, r.batch = nil, nil
		requestPool.Put(r)
		return err
	}
	select {
	case err := <-r.err:
		r.ctx, r.batch = nil, nil
		requestPool.Put(r)
		return err
	case <-ctx.Done():
		// The loop still holds r and will answer into its buffered
		// channel: r is left to the garbage collector, not reused.
		return ctx.Err()
	}
}

func (c *Committer) enqueue(ctx context.Context, r *request) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return ErrClosed
	}
	select {
	case c.reqs <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting batches, commits those already accepted, and stops
// the loop. It does not close the store.
func (c *Committer) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.stop)
	})
	<-c.done
	return nil
}

func (c *Committer) loop() {
	defer close(c.done)
	pending := make([]*request, 0, c.maxBatch)
	batches := make([]*Batch, 0, c.maxBatch)
	var timer *time.Timer
	if c.maxDelay > 0 {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
	}
	for {
		select {
		case r := <-c.reqs:
			pending = append(pending[:0], r)
		case <-c.stop:
			c.drain(pending[:0], batches)
			return
		}
		// Yield once before gathering: the steps about to submit, runnable
		// but waiting for a core, submit now and share this commit instead
		// of each paying for one of their own. With nothing else runnable
		// Gosched returns at once, so a quiet server waits for nothing.
		runtime.Gosched()
		pending = c.gather(pending)
		if timer != nil && len(pending) < c.maxBatch {
			timer.Reset(c.maxDelay)
		wait:
			for len(pending) < c.maxBatch {
				select {
				case r := <-c.reqs:
					pending = append(pending, r)
				case <-timer.C:
					break wait
				case <-c.stop:
					break wait
				}
			}
			timer.Stop()
		}
		batches = c.commit(pending, batches)
	}
}

// gather adds the requests already waiting, up to maxBatch, without
// blocking.
func (c *Committer) gather(pending []*request) []*request {
	for len(pending) < c.maxBatch {
		select {
		case r := <-c.reqs:
			pending = append(pending, r)
		default:
			return pending
		}
	}
	return pending
}

// drain commits what was accepted before Close. The channel holds at most
// maxBatch requests and no more can arrive, so this ends.
func (c *Committer) drain(pending []*request, batches []*Batch) {
	for {
		pending = c.gather(pending[:0])
		if len(pending) == 0 {
			return
		}
		batches = c.commit(pending, batches)
	}
}

// commit writes the batches of reqs, skipping those whose submitter has
// given up, and answers every request. It returns batches for reuse.
func (c *Committer) commit(reqs []*request, batches []*Batch) []*Batch {
	live := reqs[:0]
	for _, r := range reqs {
		if err := r.ctx.Err(); err != nil {
			r.err <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return batches
	}
	batches = batches[:0]
	for _, r := range live {
		batches = append(batches, r.batch)
	}
	err := c.st.Commit(context.Background(), batches...)
	clear(batches) // do not keep submitters' batches alive
	committed := len(live)
	if err != nil {
		committed = 0
		var pe *PartialCommitError
		if errors.As(err, &pe) {
			committed, err = pe.Committed, pe.Err
		}
	}
	for _, r := range live[:committed] {
		r.err <- nil
	}
	rest := live[committed:]
	switch {
	case len(rest) == 0:
	case len(rest) == 1 || errors.Is(err, ErrClosed):
		for _, r := range rest {
			r.err <- err
		}
	default:
		// Find the batch that failed the shared commit by committing the
		// others alone; each waits on its own submitter's context.
		for _, r := range rest {
			r.err <- c.st.Commit(r.ctx, r.batch)
		}
	}
	clear(reqs)
	return batches[:0]
}
