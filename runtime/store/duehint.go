package store

import (
	"math"
	"sync"
)

// dueHint lets the polls of a due-ordered index (timers, the outbox) find
// nothing without scanning. A scan starts at the index's first key and must
// step over the tombstones of every entry removed since the last compaction,
// which under load costs more than the rest of a poll; the hint remembers
// the earliest due the index can hold, so a poll before it returns at once.
//
// Writers report the dues they wrote after their commit is visible; a scan
// reports the first due it found. Dues written while a scan runs may be
// missing from its snapshot, so the scan's answer is lowered by them.
type dueHint struct {
	scan sync.Mutex // one scan at a time

	mu     sync.Mutex
	next   uint64 // no entry is due before next; 0: unknown, scan
	lowest uint64 // the lowest due written since the running scan began
}

// skip reports whether nothing can be due at bound.
func (h *dueHint) skip(bound uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return bound < h.next
}

// wrote records a committed entry due at due.
func (h *dueHint) wrote(due uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next = min(h.next, due)
	h.lowest = min(h.lowest, due)
}

// begin starts a scan; end must follow.
func (h *dueHint) begin() {
	h.scan.Lock()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lowest = math.MaxUint64
}

// end finishes a scan whose first key was due at first (math.MaxUint64
// when the index was empty; 0 when the scan failed or did not look).
func (h *dueHint) end(first uint64) {
	h.mu.Lock()
	h.next = min(first, h.lowest)
	h.mu.Unlock()
	h.scan.Unlock()
}
