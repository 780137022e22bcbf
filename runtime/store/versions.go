package store

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
)

// The store runs Badger in managed mode: it gives every transaction its
// timestamps itself. Left to Badger, every transaction registers with
// Badger's watermark goroutines, and a new write transaction waits until
// they have marked the previous commit done: a goroutine handoff that, with
// the cores busy, took longer than the commit's own work and left the
// cores idle between commits (docs/performance.md). The store already
// serializes its writes (commitMu), so one number does the oracle's job:
// the timestamp of the last commit, which every read and write transaction
// starts from.
//
// Badger drops an overwritten version only below the discard timestamp,
// so the clock also tracks the reads in progress and keeps the discard
// timestamp at the oldest of them: a read never loses the versions it
// sees.

// clock hands out transaction timestamps.
type clock struct {
	// committed is the timestamp of the last commit that succeeded: what
	// a transaction started now reads.
	committed atomic.Uint64
	// last is the last timestamp given to a commit, whether or not it
	// succeeded, so that no two commits share one. Under commitMu.
	last uint64

	mu      sync.Mutex
	readers map[uint64]int // read timestamps of the reads in progress, and how many
}

func newClock(maxVersion uint64) *clock {
	c := &clock{last: maxVersion, readers: map[uint64]int{}}
	c.committed.Store(maxVersion)
	return c
}

// beginRead returns the timestamp a read starts at and holds it against
// discarding until endRead.
func (c *clock) beginRead() uint64 {
	c.mu.Lock()
	ts := c.committed.Load()
	c.readers[ts]++
	c.mu.Unlock()
	return ts
}

func (c *clock) endRead(ts uint64) {
	c.mu.Lock()
	if c.readers[ts]--; c.readers[ts] <= 0 {
		delete(c.readers, ts)
	}
	c.mu.Unlock()
}

// publish makes commit ts visible to the reads that start from now on and
// returns the timestamp below which Badger may discard overwritten
// versions. A read that began before holds its own timestamp (beginRead
// reads committed under mu, so it is either counted here or starts at ts).
func (c *clock) publish(ts uint64) (discard uint64) {
	c.committed.Store(ts)
	c.mu.Lock()
	defer c.mu.Unlock()
	discard = ts
	for r := range c.readers {
		discard = min(discard, r)
	}
	return discard
}

// view runs fn in a read transaction that sees every commit made before it
// began.
func (s *badgerStore) view(fn func(txn *badger.Txn) error) error {
	ts := s.clock.beginRead()
	defer s.clock.endRead(ts)
	txn := s.db.NewTransactionAt(ts, false)
	defer txn.Discard()
	return fn(txn)
}

// update runs fn in a write transaction and commits it, serialized with
// every other write.
func (s *badgerStore) update(fn func(txn *badger.Txn) error) error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	return s.updateLocked(fn)
}

// updateLocked is update for a caller that holds commitMu.
func (s *badgerStore) updateLocked(fn func(txn *badger.Txn) error) error {
	if err := s.WriteFailure(); err != nil {
		return err
	}
	txn := s.newWrite()
	defer txn.Discard()
	if err := fn(txn); err != nil {
		return err
	}
	return s.commitWrite(txn)
}

// newWrite starts a write transaction; the caller holds commitMu. Its reads
// see every commit, since none can run meanwhile.
func (s *badgerStore) newWrite() *badger.Txn {
	return s.db.NewTransactionAt(s.clock.committed.Load(), true)
}

// commitWrite commits a transaction of newWrite at the next timestamp and,
// once it is written, makes it visible; the caller holds commitMu.
//
// A commit that fails once Badger has taken it (a write or an fsync of
// its log failed) may have been written in part or in full: the next
// commit's timestamp would make that visible, while the store's caches and
// dedup filter, and the submitters, were told it failed. So the store
// refuses every write after it (reads go on), until a restart replays the
// log and rebuilds what the store remembers from what is on disk.
func (s *badgerStore) commitWrite(txn *badger.Txn) error {
	s.clock.last++
	ts := s.clock.last
	err := txn.CommitAt(ts, nil)
	if err == nil && testHookCommitted != nil {
		err = testHookCommitted()
	}
	if err != nil {
		if !errors.Is(err, badger.ErrBlockedWrites) { // refused before any write
			failure := fmt.Errorf("%w: a commit failed after it may have been written (%w); the store takes no more writes: restart the server", ErrWriteFailed, err)
			s.writeFailure.Store(&failure)
		}
		return err
	}
	s.db.SetDiscardTs(s.clock.publish(ts))
	return nil
}

// WriteFailure reports the error every write returns since a commit failed
// after it may have been written (see commitWrite), or nil.
func (s *badgerStore) WriteFailure() error {
	if err := s.writeFailure.Load(); err != nil {
		return *err
	}
	return nil
}

// ErrWriteFailed is what every write returns once a commit failed in a way
// that leaves the store unsure of what it wrote (see commitWrite).
var ErrWriteFailed = errors.New("store: writes stopped")

// testHookCommitted, when set by a test, is called after each commit that
// Badger wrote, and its error is taken for the commit's.
var testHookCommitted func() error
