// Package deadline hands out contexts with a timeout that calls starting
// close together share, so that a hot path (a message step, a REST request)
// does not pay for a context and a runtime timer of its own each time.
package deadline

import (
	"context"
	"sync/atomic"
	"time"
)

// Shared gives contexts that end between d and d+d/8 after they were asked
// for: one context serves every call in a window of d/8, and a new one
// starts when the window closes. No context is ever cancelled early, so
// one caller finishing cannot cut short another; each ends at its deadline,
// which bounds the contexts alive at once to about nine.
type Shared struct {
	d, window time.Duration
	cur       atomic.Pointer[entry]
}

type entry struct {
	ctx context.Context
	// cancel is kept for the vet check only: the context ends by its
	// deadline, never before, since callers may still hold it.
	cancel context.CancelFunc
	// until is when this context stops being handed out.
	until time.Time
}

// New returns a Shared for timeouts of d (at least a millisecond).
func New(d time.Duration) *Shared {
	d = max(d, time.Millisecond)
	return &Shared{d: d, window: d / 8}
}

// Context returns a context that ends at least d from now, and at most
// d+d/8.
func (s *Shared) Context() context.Context {
	now := time.Now()
	e := s.cur.Load()
	if e != nil && now.Before(e.until) {
		return e.ctx
	}
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(s.d+s.window))
	n := &entry{ctx: ctx, cancel: cancel, until: now.Add(s.window)}
	// A caller that loses the race keeps its own context, which is as good.
	s.cur.CompareAndSwap(e, n)
	return ctx
}
