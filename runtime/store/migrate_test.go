package store

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchboard-bots/switchboard/flows"
)

// TestMigrateTimerIndex opens a store whose timers were written in the old
// layout (an i/ index, k/ keys ending {due}{timer id}), more of them than
// one migration chunk, for a contact with a session of the old layout and
// two without: every timer is found by contact, fires, and cancels
// afterwards, the session reads as before, and no entry of the old layout
// is left.
func TestMigrateTimerIndex(t *testing.T) {
	st, dir := openOnDisk(t)
	const n = 2*migrateChunk + 50
	sess := &flows.Session{Seq: 9, Started: true, Vars: map[string]any{"x": "y"}}
	err := st.(*badgerStore).update(func(txn *badger.Txn) error {
		old, err := flows.AppendSession(nil, sess)
		if err != nil {
			return err
		}
		if err := txn.Set(keySession(nil, "c0"), old); err != nil {
			return err
		}
		for i := range n {
			tm := flows.Timer{ID: fmt.Sprintf("t%03d", i), Contact: fmt.Sprint("c", i%3), Due: t0.Add(time.Duration(i) * time.Minute), Kind: flows.TimerWait, Seq: uint64(i)}
			if err := setOldTimer(txn, tm); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st = reopen(t, st, dir)
	defer st.Close()
	checkTimerIndex(t, st)
	if got, err := st.Session(bg, "c0"); err != nil || !reflect.DeepEqual(got, sess) {
		t.Errorf("session after the migration: %v %+v", err, got)
	}
	err = st.(*badgerStore).view(func(txn *badger.Txn) error {
		_, ts, _, err := sessionOf(txn, "c0")
		if len(ts) != (n+2)/3 {
			t.Errorf("c0's session holds %d timers", len(ts))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for c := range 3 {
		ts, err := st.ContactTimers(bg, fmt.Sprint("c", c))
		if err != nil || len(ts) != (n-c+2)/3 {
			t.Fatalf("c%d: %v, %d timers", c, err, len(ts))
		}
		if ts[0].ID != fmt.Sprintf("t%03d", c) || ts[0].Seq != uint64(c) {
			t.Errorf("c%d: first timer %+v", c, ts[0])
		}
	}
	if ts, err := st.DueTimers(bg, t0.Add(time.Minute), 0); err != nil || len(ts) != 2 {
		t.Errorf("due: %v %v", err, timerIDs(ts))
	}
	// Cancels and moves find the migrated entries (the cache is empty).
	commit(t, st, &Batch{ContactID: "c0", CancelTimers: []string{"t000"}, Timers: []flows.Timer{{ID: "t003", Due: t0.Add(-time.Hour)}}},
		&Batch{ContactID: "c1", CancelTimers: []string{"t001"}})
	if ts, _ := st.DueTimers(bg, t0.Add(2*time.Minute), 0); len(ts) != 2 || ts[0].ID != "t003" || ts[1].ID != "t002" {
		t.Errorf("due after cancels: %v", timerIDs(ts))
	}
	checkTimerIndex(t, st)
}

// TestMigrateBigSessions: a chunk of contacts whose sessions are too big to
// rewrite in one transaction is migrated in smaller ones.
func TestMigrateBigSessions(t *testing.T) {
	st, dir := openOnDisk(t)
	sess := &flows.Session{Seq: 9, Started: true, Vars: map[string]any{"x": strings.Repeat("a", 2600)}}
	old, err := flows.AppendSession(nil, sess)
	if err != nil {
		t.Fatal(err)
	}
	for c := range migrateChunk {
		cid := fmt.Sprint("c", c)
		tm := flows.Timer{ID: cid + "/w1", Contact: cid, Due: t0, Kind: flows.TimerWait}
		err := st.(*badgerStore).update(func(txn *badger.Txn) error {
			if err := txn.Set(keySession(nil, cid), old); err != nil {
				return err
			}
			return setOldTimer(txn, tm)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	st = reopen(t, st, dir)
	defer st.Close()
	checkTimerIndex(t, st)
	if ts, err := st.ContactTimers(bg, "c7"); err != nil || len(ts) != 1 {
		t.Errorf("c7: %v %v", err, timerIDs(ts))
	}
	if got, err := st.Session(bg, "c7"); err != nil || !reflect.DeepEqual(got, sess) {
		t.Errorf("session: %v", err)
	}
}

// setOldTimer writes a timer the way stores before timer lists did: its t/
// entry, an i/ entry and a k/ entry.
func setOldTimer(txn *badger.Txn, tm flows.Timer) error {
	due := dueBits(tm.Due)
	v, err := flows.AppendTimer(nil, &tm)
	if err != nil {
		return err
	}
	oldK := append(binary.BigEndian.AppendUint64(appendLP([]byte(tOldContactTimer), tm.Contact), due), tm.ID...)
	oldI := append(binary.BigEndian.AppendUint64(nil, due), tm.Contact...)
	for _, e := range []struct{ k, v []byte }{{keyTimer(nil, due, tm.ID), v}, {oldK, nil}, {append([]byte(tOldTimerID), tm.ID...), oldI}} {
		if err := txn.Set(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}
