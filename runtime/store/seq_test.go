package store

import (
	"errors"
	"reflect"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchboard-bots/switchboard/flows"
)

// TestLastSeqInSession: a step that writes the session and messages keeps
// the contact's last Seq in the session's entry, not in a q/ entry; the
// Seqs continue after a reopen (an empty cache) whichever entry holds the
// last one, after the session ends, and from a session written before the
// entry had a head.
func TestLastSeqInSession(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	reopen := func() {
		t.Helper()
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if st, err = Open(dir, quietOptions()); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { st.Close() }()
	raw := func(key []byte) ([]byte, error) {
		var v []byte
		err := st.(*badgerStore).db.View(func(txn *badger.Txn) error {
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

	reopen()
	if seq := next(&Batch{}); seq != 3 {
		t.Errorf("after reopen, from the session's entry: seq %d, want 3", seq)
	}
	reopen()
	if seq := next(&Batch{Session: sess}); seq != 4 {
		t.Errorf("after reopen, from q/: seq %d, want 4", seq)
	}
	reopen()
	commit(t, st, &Batch{ContactID: "c1", DeleteSession: true})
	reopen()
	if seq := next(&Batch{}); seq != 5 {
		t.Errorf("after the session ended: seq %d, want 5", seq)
	}

	// A session written before the head, with q/ behind it.
	old, err := flows.AppendSession(nil, sess)
	if err != nil {
		t.Fatal(err)
	}
	err = st.(*badgerStore).db.Update(func(txn *badger.Txn) error {
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
