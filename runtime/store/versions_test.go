package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchboard-bots/switchboard/flows"
)

// TestClockDiscardsBelowTheOldestRead: the discard timestamp a commit
// publishes never passes a read in progress, and catches up once it ends.
func TestClockDiscardsBelowTheOldestRead(t *testing.T) {
	c := newClock(10)
	if got := c.publish(11); got != 11 {
		t.Fatalf("no reads: discard %d, want 11", got)
	}
	r1 := c.beginRead() // at 11
	r2 := c.beginRead() // at 11 too
	if r1 != 11 || r2 != 11 {
		t.Fatalf("reads start at %d and %d, want 11", r1, r2)
	}
	if got := c.publish(12); got != 11 {
		t.Fatalf("two reads at 11: discard %d, want 11", got)
	}
	r3 := c.beginRead() // at 12
	c.endRead(r1)
	if got := c.publish(13); got != 11 {
		t.Fatalf("one read left at 11: discard %d, want 11", got)
	}
	c.endRead(r2)
	if got := c.publish(14); got != 12 {
		t.Fatalf("oldest read at 12: discard %d, want 12", got)
	}
	c.endRead(r3)
	if got := c.publish(15); got != 15 {
		t.Fatalf("no reads: discard %d, want 15", got)
	}
	if len(c.readers) != 0 {
		t.Fatalf("readers left: %v", c.readers)
	}
}

// TestReadsKeepTheirSnapshot: a read sees the store as it was when it
// began, whatever commits meanwhile; a read that begins after a commit
// sees it.
func TestReadsKeepTheirSnapshot(t *testing.T) {
	st, err := Open(t.TempDir(), quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := st.(*badgerStore)
	key := []byte("zz/snapshot")
	put := func(v string) {
		t.Helper()
		if err := s.update(func(txn *badger.Txn) error { return txn.Set(key, []byte(v)) }); err != nil {
			t.Fatal(err)
		}
	}
	read := func(txn *badger.Txn) string {
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return "(none)"
		}
		if err != nil {
			t.Error(err)
			return ""
		}
		v, _ := item.ValueCopy(nil)
		return string(v)
	}
	put("one")
	started, proceed := make(chan struct{}), make(chan struct{})
	var before, after string
	done := make(chan error)
	go func() {
		done <- s.view(func(txn *badger.Txn) error {
			before = read(txn)
			close(started)
			<-proceed
			after = read(txn)
			return nil
		})
	}()
	<-started
	put("two")
	// A commit of the runtime's path (Commit), not only update, moves on
	// what new reads see.
	commit(t, st, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 1}})
	var now string
	if err := s.view(func(txn *badger.Txn) error { now = read(txn); return nil }); err != nil {
		t.Fatal(err)
	}
	close(proceed)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if before != "one" || after != "one" {
		t.Errorf("a read that began before the commit saw %q then %q, want one both times", before, after)
	}
	if now != "two" {
		t.Errorf("a read after the commit saw %q, want two", now)
	}
	if _, err := st.Session(bg, "c1"); err != nil {
		t.Errorf("the committed session: %v", err)
	}
}

// TestTimestampsContinueAfterReopen: the store's timestamps start after
// the highest one on disk, so what is written after a reopen is what reads
// see, not the versions written before.
func TestTimestampsContinueAfterReopen(t *testing.T) {
	st, dir := openOnDisk(t)
	defer func() { st.Close() }()
	for i := range 5 {
		commit(t, st, &Batch{ContactID: "c1", Session: &flows.Session{Seq: uint64(i + 1)}})
	}
	st = reopen(t, st, dir)
	commit(t, st, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 100}})
	got, err := st.Session(bg, "c1")
	if err != nil || got.Seq != 100 {
		t.Fatalf("session after the reopen: %v %+v, want Seq 100", err, got)
	}
	st = reopen(t, st, dir)
	if got, err := st.Session(bg, "c1"); err != nil || got.Seq != 100 {
		t.Fatalf("session after a second reopen: %v %+v, want Seq 100", err, got)
	}
}

// TestWritesStopAfterAFailedCommit: a commit that fails after Badger took
// it may be on disk; the store then refuses every write, so that nothing
// it remembers goes wrong on top, keeps serving reads, and after a reopen
// shows what was written and takes writes again.
func TestWritesStopAfterAFailedCommit(t *testing.T) {
	st, dir := openOnDisk(t)
	defer func() { st.Close() }()
	commit(t, st, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 1}})

	testHookCommitted = func() error { return errors.New("fsync: input/output error") }
	err := st.Commit(bg, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 2}})
	testHookCommitted = nil
	if err == nil {
		t.Fatal("the failed commit returned nil")
	}
	err = st.Commit(bg, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 3}})
	if !errors.Is(err, ErrWriteFailed) || !strings.Contains(err.Error(), "input/output error") || !strings.Contains(err.Error(), "restart") {
		t.Fatalf("a commit after it: %v, want ErrWriteFailed naming the cause", err)
	}
	if err := st.(*badgerStore).update(func(txn *badger.Txn) error { return txn.Set([]byte("zz/x"), nil) }); !errors.Is(err, ErrWriteFailed) {
		t.Fatalf("an update after it: %v", err)
	}
	if got, err := st.Session(bg, "c1"); err != nil || got.Seq != 1 {
		t.Fatalf("reads go on, at the last commit that succeeded: %v %+v", err, got)
	}
	st = reopen(t, st, dir)
	if got, err := st.Session(bg, "c1"); err != nil || got.Seq != 2 {
		t.Fatalf("after a reopen, what Badger wrote: %v %+v, want Seq 2", err, got)
	}
	commit(t, st, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 4}})
}
