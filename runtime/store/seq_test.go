package store

import (
	"errors"
	"fmt"
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

// TestWaitTimers: a wait's timer lives in its session's head and the
// contact's wake finds it. A conversation whose every step ends a wait and
// starts a later one writes no timer entry per step; a wake that comes due
// early moves to the wait left; an earlier wait moves the wake; a wait
// fires with its Seq, after a restart too; the session's end and the
// contact's deletion take the wake with them.
func TestWaitTimers(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	wait := func(seq uint64, m int) flows.Timer {
		return flows.Timer{ID: fmt.Sprintf("c1/w%d", seq), Due: at(m), Kind: flows.TimerWait, Seq: seq}
	}
	step := func(seq uint64, cancel []string, ts ...flows.Timer) *Batch {
		return &Batch{ContactID: "c1", Session: &flows.Session{Seq: seq}, Messages: []Message{msg(DirectionIn, "hi")}, CancelTimers: cancel, Timers: ts}
	}
	// timerWrites counts the versions of t/ keys, deletions included.
	timerWrites := func() int {
		t.Helper()
		n := 0
		err := st.(*badgerStore).view(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{AllVersions: true, Prefix: []byte(tTimer)})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				n++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	due := func(m int) []flows.Timer {
		t.Helper()
		ts, err := st.DueTimers(bg, at(m), 0)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}

	// Twenty steps, each ending the wait before and starting one ten
	// minutes on: one entry, the wake of the first.
	commit(t, st, step(1, nil, wait(1, 10)))
	for seq := uint64(2); seq <= 20; seq++ {
		commit(t, st, step(seq, []string{fmt.Sprintf("c1/w%d", seq-1)}, wait(seq, 10+int(seq))))
	}
	if n := timerWrites(); n != 1 {
		t.Errorf("twenty waits wrote %d timer entries, want 1 (the wake)", n)
	}
	checkTimerIndex(t, st)
	ts, err := st.ContactTimers(bg, "c1")
	if want := (flows.Timer{ID: "c1/w20", Contact: "c1", Due: at(30), Kind: flows.TimerWait, Seq: 20}); err != nil || len(ts) != 1 || !reflect.DeepEqual(ts[0], want) {
		t.Fatalf("ContactTimers: %v %+v, want %+v", err, ts, want)
	}

	// The wake comes due early: nothing to step, and handed back it moves
	// to the wait left.
	if got := due(9); len(got) != 0 {
		t.Errorf("due before the wake: %+v", got)
	}
	got := due(15)
	if len(got) != 1 || got[0].Kind != TimerWake || got[0].Contact != "c1" || !got[0].Due.Equal(at(10)) {
		t.Fatalf("due at +15m: %+v, want c1's wake at +10m", got)
	}
	commit(t, st, &Batch{ContactID: "c1", Fired: &got[0]})
	checkTimerIndex(t, st)
	if got := due(29); len(got) != 0 {
		t.Errorf("due at +29m, after the wake moved: %+v", got)
	}

	// An earlier wait moves the wake back; after a restart it fires with
	// its Seq, and the batch that handles it leaves no wake.
	commit(t, st, step(21, []string{"c1/w20"}, wait(21, 25)))
	checkTimerIndex(t, st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = Open(dir, quietOptions()); err != nil {
		t.Fatal(err)
	}
	got = due(26)
	if want := (flows.Timer{ID: "c1/w21", Contact: "c1", Due: at(25), Kind: flows.TimerWait, Seq: 21}); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("due at +26m after a restart: %+v, want %+v", got, want)
	}
	b := step(22, []string{"c1/w21"})
	b.Fired = &got[0]
	commit(t, st, b)
	checkTimerIndex(t, st)
	if got := due(1 << 20); len(got) != 0 {
		t.Errorf("due after the wait fired: %+v", got)
	}

	// The session ends with a wait pending: the wait and the wake go.
	commit(t, st, step(23, nil, wait(23, 40)))
	commit(t, st, &Batch{ContactID: "c1", DeleteSession: true})
	checkTimerIndex(t, st)
	if got := due(1 << 20); len(got) != 0 {
		t.Errorf("due after the session ended: %+v", got)
	}

	// A wait and a timer of its own: deleting the contact deletes both
	// entries.
	commit(t, st, &Batch{Contact: contact("c1", "shop", "x1"), Session: &flows.Session{Seq: 24},
		Timers: []flows.Timer{wait(24, 50), {ID: "e1", Due: at(60), Kind: flows.TimerEvent, Event: &flows.Event{Kind: flows.EventNamed, Name: "ping"}}}})
	checkTimerIndex(t, st)
	if err := st.DeleteContact(bg, "c1"); err != nil {
		t.Fatal(err)
	}
	if got := due(1 << 20); len(got) != 0 {
		t.Errorf("due after the contact was deleted: %+v", got)
	}
}

// TestWaitTimerOfAnOlderStore: a wait timer written with an entry of its
// own (as stores did before waits rode in the session) still fires, and a
// step that sets it again moves it into the session's head.
func TestWaitTimerOfAnOlderStore(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		old := flows.Timer{ID: "c1/w1", Contact: "c1", Due: at(5), Kind: flows.TimerWait, Seq: 1}
		// Without the session in the batch, the timer gets its own entry.
		commit(t, st, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 1}})
		commit(t, st, &Batch{ContactID: "c1", Timers: []flows.Timer{old}})
		checkTimerIndex(t, st)
		if got, _ := st.DueTimers(bg, at(5), 0); len(got) != 1 || !reflect.DeepEqual(got[0], old) {
			t.Fatalf("due: %+v", got)
		}
		commit(t, st, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 1}, Timers: []flows.Timer{old}})
		checkTimerIndex(t, st)
		got, _ := st.DueTimers(bg, at(5), 0)
		if len(got) != 1 || !reflect.DeepEqual(got[0], old) {
			t.Fatalf("due after it moved into the session: %+v", got)
		}
		commit(t, st, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 2}, Fired: &got[0], CancelTimers: []string{old.ID}})
		checkTimerIndex(t, st)
		if got, _ := st.DueTimers(bg, at(1<<20), 0); len(got) != 0 {
			t.Errorf("due after it fired: %+v", got)
		}
	})
}
