package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchboard-bots/switchboard/flows"
)

// TestLastSeqInSession: a step that writes the session and messages keeps
// the contact's last Seq in the session's entry, not in a q/ entry; the
// Seqs continue after a reopen (an empty cache) whichever entry holds the
// last one, after the session ends, and from a session written before the
// entry had a head.
func TestLastSeqInSession(t *testing.T) {
	st, dir := openOnDisk(t)
	defer func() { st.Close() }()
	raw := func(key []byte) ([]byte, error) {
		var v []byte
		err := st.(*badgerStore).view(func(txn *badger.Txn) error {
			item, err := txn.Get(key)
			if err != nil {
				return err
			}
			v, err = item.ValueCopy(nil)
			return err
		})
		return v, err
	}
	next := func(b *Batch) uint64 {
		t.Helper()
		b.ContactID = "c1"
		b.Messages = []Message{msg(DirectionIn, "x")}
		commit(t, st, b)
		return b.Messages[0].Seq
	}
	sess := &flows.Session{Seq: 3, Started: true, Vars: map[string]any{"n": 1}}

	b := &Batch{ContactID: "c1", Session: sess, Messages: []Message{msg(DirectionIn, "a"), msg(DirectionOut, "b")}}
	commit(t, st, b)
	if b.Messages[1].Seq != 2 {
		t.Fatalf("seqs %d %d", b.Messages[0].Seq, b.Messages[1].Seq)
	}
	if _, err := raw(keySeq(nil, "c1")); !errors.Is(err, badger.ErrKeyNotFound) {
		t.Errorf("q/ entry after a step with its session: %v", err)
	}
	if got, err := st.Session(bg, "c1"); err != nil || !reflect.DeepEqual(got, sess) {
		t.Errorf("session: %v %+v", err, got)
	}

	st = reopen(t, st, dir)
	if seq := next(&Batch{}); seq != 3 {
		t.Errorf("after reopen, from the session's entry: seq %d, want 3", seq)
	}
	st = reopen(t, st, dir)
	if seq := next(&Batch{Session: sess}); seq != 4 {
		t.Errorf("after reopen, from q/: seq %d, want 4", seq)
	}
	st = reopen(t, st, dir)
	commit(t, st, &Batch{ContactID: "c1", DeleteSession: true})
	st = reopen(t, st, dir)
	if seq := next(&Batch{}); seq != 5 {
		t.Errorf("after the session ended: seq %d, want 5", seq)
	}

	// A session written before the head, with q/ behind it.
	old, err := flows.AppendSession(nil, sess)
	if err != nil {
		t.Fatal(err)
	}
	err = st.(*badgerStore).update(func(txn *badger.Txn) error {
		if err := txn.Set(keySession(nil, "c2"), old); err != nil {
			return err
		}
		return txn.Set(keySeq(nil, "c2"), []byte{0, 0, 0, 0, 0, 0, 0, 7})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.Session(bg, "c2"); err != nil || !reflect.DeepEqual(got, sess) {
		t.Errorf("session of the old layout: %v %+v", err, got)
	}
	b = &Batch{ContactID: "c2", Session: sess, Messages: []Message{msg(DirectionIn, "y")}}
	commit(t, st, b)
	if b.Messages[0].Seq != 8 {
		t.Errorf("after an old session: seq %d, want 8", b.Messages[0].Seq)
	}
}

// TestTimerListInSession: a contact's timer list lives in its session's
// entry while it has a session, and in f/ otherwise; batches with and
// without the session, a session's end and a new session move it, the
// session itself is kept intact, and cancels find every timer with an
// empty cache.
func TestTimerListInSession(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		sess := &flows.Session{Seq: 7, Started: true, Vars: map[string]any{"k": "v"}}
		ids := func(c string) []string {
			t.Helper()
			ts, err := st.ContactTimers(bg, c)
			if err != nil {
				t.Fatal(err)
			}
			return timerIDs(ts)
		}
		inSession := func(c string) int {
			t.Helper()
			var n int
			err := st.(*badgerStore).view(func(txn *badger.Txn) error {
				_, ts, _, err := sessionOf(txn, c)
				n = len(ts)
				return err
			})
			if err != nil && !errors.Is(err, ErrNotFound) {
				t.Fatal(err)
			}
			return n
		}
		uncache := func() { st.(*badgerStore).cache = newMetaCache(1) }

		// A step: session, messages, a wait timer; and a timer for c2.
		commit(t, st, &Batch{ContactID: "c1", Session: sess, Messages: []Message{msg(DirectionIn, "a")},
			Timers: []flows.Timer{{ID: "c1/w1", Due: at(2)}, {ID: "x", Contact: "c2", Due: at(1)}}})
		if got := ids("c1"); !reflect.DeepEqual(got, []string{"c1/w1"}) || inSession("c1") != 1 {
			t.Errorf("c1 after a step: %v, %d in the session", got, inSession("c1"))
		}
		if got := ids("c2"); !reflect.DeepEqual(got, []string{"x"}) {
			t.Errorf("c2: %v", got)
		}
		checkTimerIndex(t, st)

		// The next step cancels the wait and sets another, uncached.
		uncache()
		commit(t, st, &Batch{ContactID: "c1", Session: sess, CancelTimers: []string{"c1/w1"}, Timers: []flows.Timer{{ID: "c1/w2", Due: at(3)}}})
		if got := ids("c1"); !reflect.DeepEqual(got, []string{"c1/w2"}) {
			t.Errorf("c1 after a second step: %v", got)
		}
		checkTimerIndex(t, st)

		// A batch without the session (a system timer) rewrites the head
		// and keeps the session.
		uncache()
		commit(t, st, &Batch{ContactID: "c1", Timers: []flows.Timer{{ID: "h1/idle", Due: at(1)}}})
		if got := ids("c1"); !reflect.DeepEqual(got, []string{"h1/idle", "c1/w2"}) || inSession("c1") != 2 {
			t.Errorf("c1 after a system timer: %v, %d in the session", got, inSession("c1"))
		}
		if got, err := st.Session(bg, "c1"); err != nil || !reflect.DeepEqual(got, sess) {
			t.Errorf("session after a system timer: %v %+v", err, got)
		}
		checkTimerIndex(t, st)

		// The flow ends: the list moves to f/.
		uncache()
		commit(t, st, &Batch{ContactID: "c1", DeleteSession: true, CancelTimers: []string{"c1/w2"}})
		if got := ids("c1"); !reflect.DeepEqual(got, []string{"h1/idle"}) {
			t.Errorf("c1 after the session ended: %v", got)
		}
		checkTimerIndex(t, st)

		// A new session takes the list back.
		uncache()
		commit(t, st, &Batch{ContactID: "c1", Session: sess, Timers: []flows.Timer{{ID: "c1/w3", Due: at(4)}}})
		if got := ids("c1"); !reflect.DeepEqual(got, []string{"h1/idle", "c1/w3"}) || inSession("c1") != 2 {
			t.Errorf("c1 in a new session: %v, %d in the session", got, inSession("c1"))
		}
		checkTimerIndex(t, st)

		// Everything fires and is cancelled.
		uncache()
		commit(t, st, &Batch{ContactID: "c1", Session: sess, CancelTimers: []string{"h1/idle", "c1/w3"}},
			&Batch{ContactID: "c2", CancelTimers: []string{"x"}})
		if got, _ := st.DueTimers(bg, at(100), 0); len(got) != 0 {
			t.Errorf("due after cancelling all: %v", timerIDs(got))
		}
		checkTimerIndex(t, st)
	})
}

// TestFiredTimer: a batch that handles a fired timer deletes it; one moved
// since it fired stays; one set again by the same batch stays; and a timer
// its contact's list lost track of is deleted all the same, so that it does
// not come due at every poll.
func TestFiredTimer(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		due := func() []string {
			t.Helper()
			ts, err := st.DueTimers(bg, at(100), 0)
			if err != nil {
				t.Fatal(err)
			}
			return timerIDs(ts)
		}
		commit(t, st, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 1}, Timers: []flows.Timer{{ID: "a", Due: at(1)}, {ID: "b", Due: at(2)}, {ID: "c", Due: at(3)}}})
		fired, _ := st.DueTimers(bg, at(3), 0)
		if len(fired) != 3 {
			t.Fatalf("due: %v", timerIDs(fired))
		}
		// b is moved after it fired; c is set again by the batch that handles it.
		commit(t, st, &Batch{ContactID: "c1", Timers: []flows.Timer{{ID: "b", Due: at(50)}}})
		commit(t, st, &Batch{ContactID: "c1", Fired: &fired[0]})
		commit(t, st, &Batch{ContactID: "c1", Fired: &fired[1]})
		commit(t, st, &Batch{ContactID: "c1", Fired: &fired[2], Timers: []flows.Timer{{ID: "c", Due: at(60)}}})
		if got := due(); !reflect.DeepEqual(got, []string{"b", "c"}) {
			t.Errorf("after firing: %v, want the moved b and the new c", got)
		}
		checkTimerIndex(t, st)

		// An entry no list points to.
		orphan := flows.Timer{ID: "o", Contact: "c9", Due: at(5)}
		v, err := flows.AppendTimer(nil, &orphan)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.(*badgerStore).update(func(txn *badger.Txn) error {
			return txn.Set(keyTimer(nil, dueBits(orphan.Due), orphan.ID), v)
		}); err != nil {
			t.Fatal(err)
		}
		commit(t, st, &Batch{ContactID: "c9", Fired: &orphan})
		if got := due(); !reflect.DeepEqual(got, []string{"b", "c"}) {
			t.Errorf("after firing the orphan: %v", got)
		}
		checkTimerIndex(t, st)
	})
}
