package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchboard-bots/switchboard/flows"
)

// out is a queued outbound message sent at t0 plus m minutes.
func out(text string, m int) Message {
	ms := msg(DirectionOut, text)
	ms.Time = t0.Add(time.Duration(m) * time.Minute)
	return ms
}

// refs names messages as contact/seq.
func refs(ms []Message) []string {
	var r []string
	for _, m := range ms {
		r = append(r, fmt.Sprintf("%s/%d", m.Contact, m.Seq))
	}
	return r
}

func outbox(t *testing.T, st Store, now time.Time, limit int) []Message {
	t.Helper()
	ms, err := st.Outbox(bg, now, limit)
	if err != nil {
		t.Fatalf("Outbox: %v", err)
	}
	for _, m := range ms {
		if m.Direction != DirectionOut || m.Status != StatusQueued {
			t.Errorf("Outbox returned %s/%d: %s %s", m.Contact, m.Seq, m.Direction, m.Status)
		}
	}
	return ms
}

// message reads one stored message back.
func message(t *testing.T, st Store, contact string, seq uint64) Message {
	t.Helper()
	s := fmt.Sprint(seq)
	ms, _, err := st.Messages(bg, contact, MessageQuery{After: fmt.Sprint(seq - 1), Before: fmt.Sprint(seq + 1)})
	if err != nil || len(ms) != 1 {
		t.Fatalf("message %s/%s: %v %v", contact, s, err, ms)
	}
	return ms[0]
}

// checkOutboxIndex checks the o/ and e/ entries against the messages: one
// o/ entry per queued outbound message, at its due time, and no other; every
// e/ entry names an outbound message with that channel and external id, and
// every such pair has an entry.
func checkOutboxIndex(t *testing.T, st Store) {
	t.Helper()
	wantO, gotO := map[string]bool{}, map[string]bool{}
	msgs := map[string]Message{}
	gotE := map[string]string{}
	err := st.(*badgerStore).view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := string(item.KeyCopy(nil))
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			switch {
			case strings.HasPrefix(k, tMessage):
				ref := k[len(tMessage):]
				c, seq, ok := parseMessageRef([]byte(ref))
				if !ok {
					return fmt.Errorf("bad message key %q", k)
				}
				m := Message{Contact: string(c), Seq: seq}
				if err := decodeMessage(v, &m); err != nil {
					return err
				}
				msgs[ref] = m
				if m.Direction == DirectionOut && m.Status == StatusQueued {
					wantO[string(keyOutbox(nil, outboxDue(&m), m.Contact, m.Seq))] = true
				}
			case strings.HasPrefix(k, tOutbox):
				if len(v) != 0 {
					return fmt.Errorf("o/ entry with a value: %q", k)
				}
				gotO[k] = true
			case strings.HasPrefix(k, tMsgExt):
				gotE[k] = string(v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotO, wantO) {
		t.Errorf("o/ entries:\n%v\nwant\n%v", gotO, wantO)
	}
	for k, ref := range gotE {
		m, ok := msgs[ref]
		if !ok || m.Direction != DirectionOut || k != string(keyMessageExternal(nil, m.Channel, m.ExternalID)) {
			t.Errorf("e/ entry %q -> %q names %+v", k, ref, m)
		}
	}
	for _, m := range msgs {
		if m.Direction == DirectionOut && m.ExternalID != "" {
			if _, ok := gotE[string(keyMessageExternal(nil, m.Channel, m.ExternalID))]; !ok {
				t.Errorf("no e/ entry for %s/%d (%s %s)", m.Contact, m.Seq, m.Channel, m.ExternalID)
			}
		}
	}
}

func TestOutbox(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		if got := outbox(t, st, at(100), 0); got != nil {
			t.Fatalf("empty store: %v", refs(got))
		}
		retry := out("retry", 0)
		retry.NextAttempt = at(2)
		sent := out("sent", -5)
		sent.Status = StatusSent
		b1 := &Batch{ContactID: "c1", Messages: []Message{msg(DirectionIn, "hi"), out("three", 3), out("one", 1), sent}}
		b2 := &Batch{ContactID: "c2", Messages: []Message{out("one", 1), retry}}
		b3 := &Batch{ContactID: "c10", Messages: []Message{out("zero", 0)}}
		commit(t, st, b1, b2, b3)
		// NextAttempt is filled in, for queued outbound messages only.
		if got := b1.Messages[1].NextAttempt; !got.Equal(at(3)) {
			t.Errorf("NextAttempt written back: %v", got)
		}
		if !b1.Messages[0].NextAttempt.IsZero() || !b1.Messages[3].NextAttempt.IsZero() {
			t.Errorf("NextAttempt of an inbound or sent message: %+v", b1.Messages)
		}
		for _, c := range []struct {
			now   time.Time
			limit int
			want  []string
		}{
			{at(-1), 0, nil},
			{at(0), 0, []string{"c10/1"}},
			{at(1).Add(-time.Nanosecond), 0, []string{"c10/1"}},
			// Due at now is due; equal due times come in contact and
			// Seq order.
			{at(1), 0, []string{"c10/1", "c1/3", "c2/1"}},
			{at(2), 0, []string{"c10/1", "c1/3", "c2/1", "c2/2"}},
			{at(100), 0, []string{"c10/1", "c1/3", "c2/1", "c2/2", "c1/2"}},
			{at(100), 2, []string{"c10/1", "c1/3"}},
			{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 0, []string{"c10/1", "c1/3", "c2/1", "c2/2", "c1/2"}},
		} {
			if got := refs(outbox(t, st, c.now, c.limit)); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Outbox(%v, %d) = %v, want %v", c.now, c.limit, got, c.want)
			}
		}
		// Messages come back whole.
		got := outbox(t, st, at(2), 0)[3]
		want := b2.Messages[1]
		if !reflect.DeepEqual(got, want) {
			t.Errorf("outbox message:\n got %#v\nwant %#v", got, want)
		}
		checkOutboxIndex(t, st)
	})
}

// TestOutboxBounds: times outside what the index can order sort at its
// ends, and one call returns at most MaxOutbox messages.
func TestOutboxBounds(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		never := out("never", 0)
		never.NextAttempt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
		old := out("old", 0)
		old.Time = time.Time{}
		b := &Batch{ContactID: "c", Messages: []Message{never, old}}
		for i := range MaxOutbox + 5 {
			b.Messages = append(b.Messages, out(fmt.Sprint(i), i))
		}
		commit(t, st, b)
		if got := outbox(t, st, time.Time{}, 1); !reflect.DeepEqual(refs(got), []string{"c/2"}) {
			t.Errorf("at the zero time: %v", refs(got))
		}
		if got := outbox(t, st, t0, 0); !reflect.DeepEqual(refs(got), []string{"c/2", "c/3"}) {
			t.Errorf("at t0: %v", refs(got))
		}
		if got := outbox(t, st, t0.Add(time.Hour), 0); len(got) != 62 {
			t.Errorf("after an hour: %d messages", len(got))
		}
		if got := outbox(t, st, t0.Add(1000*time.Hour), 0); len(got) != 100 {
			t.Errorf("default limit: %d messages", len(got))
		}
		got := outbox(t, st, time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC), 1<<30)
		if len(got) != MaxOutbox || got[0].Seq != 2 || got[MaxOutbox-1].Seq != MaxOutbox+1 {
			t.Errorf("capped: %d messages", len(got))
		}
		got = outbox(t, st, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 0)
		if len(got) != 100 {
			t.Errorf("year 3000: %d messages", len(got))
		}
		commit(t, st, &Batch{Updates: []StatusUpdate{{Contact: "c", Seq: 1, Status: StatusFailed}}})
		checkOutboxIndex(t, st)
	})
}

func TestStatusUpdates(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		commit(t, st,
			&Batch{ContactID: "c1", Messages: []Message{msg(DirectionIn, "hi"), out("a", 0), out("b", 0)}},
			&Batch{ContactID: "c2", Messages: []Message{out("c", 1)}})
		due := func(now time.Time) []string { t.Helper(); return refs(outbox(t, st, now, 0)) }

		// A failed send is retried later: the entry moves.
		commit(t, st, &Batch{Updates: []StatusUpdate{{Contact: "c1", Seq: 2, Status: StatusQueued, Attempts: 1, Error: "timeout", NextAttempt: at(5)}}})
		if got := due(at(1)); !reflect.DeepEqual(got, []string{"c1/3", "c2/1"}) {
			t.Errorf("after a retry: %v", got)
		}
		if got := due(at(5)); !reflect.DeepEqual(got, []string{"c1/3", "c2/1", "c1/2"}) {
			t.Errorf("when the retry is due: %v", got)
		}
		m := message(t, st, "c1", 2)
		if m.Status != StatusQueued || m.Attempts != 1 || m.Error != "timeout" || !m.NextAttempt.Equal(at(5)) || m.Content.Text != "a" {
			t.Errorf("retried message: %+v", m)
		}
		checkOutboxIndex(t, st)

		// Sent with the channel's id: out of the outbox, found by that id.
		// Attempts and error are kept when not given.
		commit(t, st, &Batch{ContactID: "c1", Updates: []StatusUpdate{{Seq: 2, Status: StatusSent, ExternalID: "wamid.1"}}})
		if got := due(at(100)); !reflect.DeepEqual(got, []string{"c1/3", "c2/1"}) {
			t.Errorf("after sent: %v", got)
		}
		byExt := func(channel, ext string) *Message {
			t.Helper()
			m, err := st.MessageByExternal(bg, channel, ext)
			if err != nil {
				t.Fatalf("MessageByExternal(%s, %s): %v", channel, ext, err)
			}
			return m
		}
		m = *byExt("telegram", "wamid.1")
		if m.Contact != "c1" || m.Seq != 2 || m.Status != StatusSent || m.Attempts != 1 || m.Error != "timeout" || m.ExternalID != "wamid.1" || m.Content.Text != "a" {
			t.Errorf("sent message: %+v", m)
		}
		for _, k := range [][2]string{{"telegram", "wamid.2"}, {"whatsapp", "wamid.1"}, {"telegram", ""}, {"", "wamid.1"}} {
			if _, err := st.MessageByExternal(bg, k[0], k[1]); !errors.Is(err, ErrNotFound) {
				t.Errorf("MessageByExternal%v: %v", k, err)
			}
		}
		// Receipts.
		commit(t, st, &Batch{Updates: []StatusUpdate{{Contact: "c1", Seq: 2, Status: StatusDelivered}}})
		if m := byExt("telegram", "wamid.1"); m.Status != StatusDelivered || m.Attempts != 1 || m.ExternalID != "wamid.1" {
			t.Errorf("delivered: %+v", m)
		}
		commit(t, st, &Batch{Updates: []StatusUpdate{{Contact: "c1", Seq: 2, Status: StatusRead}}})
		if m := byExt("telegram", "wamid.1"); m.Status != StatusRead {
			t.Errorf("read: %+v", m)
		}
		checkOutboxIndex(t, st)

		// Given up: failed, kept, out of the outbox; re-queued by hand, it
		// is due at its last attempt time.
		commit(t, st, &Batch{Updates: []StatusUpdate{{Contact: "c2", Seq: 1, Status: StatusFailed, Attempts: 5, Error: "400 bad number"}}})
		if got := due(at(100)); !reflect.DeepEqual(got, []string{"c1/3"}) {
			t.Errorf("after failed: %v", got)
		}
		if m := message(t, st, "c2", 1); m.Status != StatusFailed || m.Attempts != 5 || m.Error != "400 bad number" {
			t.Errorf("failed message: %+v", m)
		}
		checkOutboxIndex(t, st)
		commit(t, st, &Batch{Updates: []StatusUpdate{{Contact: "c2", Seq: 1, Status: StatusQueued}}})
		if got := due(at(1)); !reflect.DeepEqual(got, []string{"c1/3", "c2/1"}) {
			t.Errorf("re-queued: %v", got)
		}
		checkOutboxIndex(t, st)

		// Several updates of one message in one Commit, and updates of
		// messages committed in the same Commit (an earlier batch, and the
		// same batch, whose Seqs follow the stored ones).
		b := &Batch{ContactID: "c3", Messages: []Message{out("d", 0), out("e", 0)},
			Updates: []StatusUpdate{{Seq: 2, Status: StatusSent, ExternalID: "x2"}}}
		commit(t, st,
			&Batch{ContactID: "c2", Messages: []Message{out("f", 0)}},
			b,
			&Batch{Updates: []StatusUpdate{
				{Contact: "c2", Seq: 2, Status: StatusQueued, Attempts: 1, NextAttempt: at(7)},
				{Contact: "c2", Seq: 2, Status: StatusQueued, Attempts: 2, NextAttempt: at(9)},
				{Contact: "c1", Seq: 3, Status: StatusQueued, Attempts: 1, NextAttempt: at(8)},
				{Contact: "c1", Seq: 3, Status: StatusSent, ExternalID: "y"},
				{Contact: "c2", Seq: 1, Status: StatusSent, ExternalID: "z"},
			}})
		if got := due(at(100)); !reflect.DeepEqual(got, []string{"c3/1", "c2/2"}) {
			t.Errorf("after many updates: %v", got)
		}
		if m := message(t, st, "c2", 2); m.Attempts != 2 || !m.NextAttempt.Equal(at(9)) {
			t.Errorf("twice updated: %+v", m)
		}
		if m := byExt("telegram", "x2"); m.Contact != "c3" || m.Seq != 2 {
			t.Errorf("x2: %+v", m)
		}
		checkOutboxIndex(t, st)

		// A new external id moves the index entry; one claimed by another
		// message since is left to it.
		commit(t, st, &Batch{Updates: []StatusUpdate{{Contact: "c1", Seq: 3, Status: StatusSent, ExternalID: "y2"}}})
		if _, err := st.MessageByExternal(bg, "telegram", "y"); !errors.Is(err, ErrNotFound) {
			t.Errorf("old external id: %v", err)
		}
		if m := byExt("telegram", "y2"); m.Contact != "c1" || m.Seq != 3 {
			t.Errorf("y2: %+v", m)
		}
		commit(t, st, &Batch{Updates: []StatusUpdate{{Contact: "c3", Seq: 1, Status: StatusSent, ExternalID: "z"}}})
		commit(t, st, &Batch{Updates: []StatusUpdate{{Contact: "c2", Seq: 1, Status: StatusSent, ExternalID: "z2"}}})
		if m := byExt("telegram", "z"); m.Contact != "c3" || m.Seq != 1 {
			t.Errorf("claimed z: %+v", m)
		}
		if m := byExt("telegram", "z2"); m.Contact != "c2" || m.Seq != 1 {
			t.Errorf("z2: %+v", m)
		}
		checkOutboxIndex(t, st)

		// An outbound message committed with an external id is found too,
		// under its own channel; inbound ones are not indexed.
		direct := out("direct", 0)
		direct.Status, direct.Channel, direct.ExternalID = StatusSent, "webchat", "w1"
		in := msg(DirectionIn, "in")
		in.ExternalID = "w2"
		commit(t, st, &Batch{ContactID: "c4", Messages: []Message{direct, in}})
		if m := byExt("webchat", "w1"); m.Contact != "c4" || m.Seq != 1 || m.Content.Text != "direct" {
			t.Errorf("w1: %+v", m)
		}
		if _, err := st.MessageByExternal(bg, "telegram", "w2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("inbound message indexed: %v", err)
		}
		checkOutboxIndex(t, st)
	})
}

// TestStatusUpdatesRejected: a bad update fails its Commit whole.
func TestStatusUpdatesRejected(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		commit(t, st, &Batch{ContactID: "c1", Messages: []Message{msg(DirectionIn, "hi"), out("a", 0)}})
		good := &Batch{Contact: contact("c2", "shop", "x2"), Session: &flows.Session{Seq: 1}, DedupKey: "d2",
			Messages: []Message{out("b", 0)}, Timers: []flows.Timer{{ID: "t2", Due: t0}},
			Updates: []StatusUpdate{{Contact: "c1", Seq: 2, Status: StatusSent, ExternalID: "e1", Attempts: 1}}}
		unchanged := func() {
			t.Helper()
			if seen, _ := st.Seen(bg, "d2"); seen {
				t.Error("the good batch was written")
			}
			if m := message(t, st, "c1", 2); m.Status != StatusQueued || m.ExternalID != "" || m.Attempts != 0 {
				t.Errorf("message updated: %+v", m)
			}
			if got := refs(outbox(t, st, t0, 0)); !reflect.DeepEqual(got, []string{"c1/2"}) {
				t.Errorf("outbox: %v", got)
			}
			if _, err := st.MessageByExternal(bg, "telegram", "e1"); !errors.Is(err, ErrNotFound) {
				t.Errorf("external id indexed: %v", err)
			}
			checkOutboxIndex(t, st)
		}
		for i, c := range []struct {
			bad  *Batch
			want string
		}{
			{&Batch{Updates: []StatusUpdate{{Contact: "c1", Seq: 9, Status: StatusSent}}}, `message 9 of contact "c1"`},
			{&Batch{Updates: []StatusUpdate{{Contact: "nobody", Seq: 1, Status: StatusSent}}}, `message 1 of contact "nobody"`},
			{&Batch{ContactID: "c1", Updates: []StatusUpdate{{Seq: 1, Status: StatusSent}}}, "inbound"},
			{&Batch{Updates: []StatusUpdate{{Seq: 1, Status: StatusSent}}}, "no contact"},
			{&Batch{Updates: []StatusUpdate{{Contact: "c1", Status: StatusSent}}}, "no Seq"},
			{&Batch{Updates: []StatusUpdate{{Contact: "c1", Seq: 2}}}, "unknown status"},
			{&Batch{Updates: []StatusUpdate{{Contact: "c1", Seq: 2, Status: "bounced"}}}, "unknown status"},
			{&Batch{Updates: []StatusUpdate{{Contact: "c1", Seq: 2, Status: StatusSent, Attempts: -1}}}, "negative"},
			{&Batch{ContactID: "c1", Messages: []Message{{Direction: DirectionOut, Attempts: -1}}}, "negative"},
			// A good update before the bad one in the same batch.
			{&Batch{Updates: []StatusUpdate{{Contact: "c1", Seq: 2, Status: StatusSent, ExternalID: "e1"}, {Contact: "c1", Seq: 3, Status: StatusSent}}}, `message 3 of contact "c1"`},
			// Messages and updates applied, then a timer that cannot be
			// encoded.
			{&Batch{ContactID: "c1", Messages: []Message{out("c", 0)}, Updates: []StatusUpdate{{Seq: 3, Status: StatusSent, ExternalID: "e1"}},
				Timers: []flows.Timer{{ID: "tx", Due: t0, Kind: flows.TimerEvent, Event: &flows.Event{Kind: flows.EventNamed, Name: "x", Data: map[string]any{"x": make(chan int)}}}}}, "chan int"},
		} {
			err := st.Commit(bg, good, c.bad)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("bad batch %d: %v, want an error with %q", i, err, c.want)
			}
			var pe *PartialCommitError
			if errors.As(err, &pe) {
				t.Errorf("bad batch %d partly committed: %v", i, err)
			}
			unchanged()
		}
		err := st.Commit(bg, &Batch{Updates: []StatusUpdate{{Contact: "c1", Seq: 9, Status: StatusSent}}})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown message: %v is not ErrNotFound", err)
		}
		// The good batch is applied whole once alone, updates included.
		commit(t, st, good)
		if m := message(t, st, "c1", 2); m.Status != StatusSent || m.ExternalID != "e1" || m.Attempts != 1 {
			t.Errorf("message not updated: %+v", m)
		}
		if got := refs(outbox(t, st, t0, 0)); !reflect.DeepEqual(got, []string{"c2/1"}) {
			t.Errorf("outbox: %v", got)
		}
		checkOutboxIndex(t, st)
	})
}

func TestOutboxReopen(t *testing.T) {
	st, dir := openOnDisk(t)
	commit(t, st, &Batch{ContactID: "c1", Messages: []Message{out("a", 0), out("b", 1), out("c", 2)}})
	commit(t, st, &Batch{Updates: []StatusUpdate{
		{Contact: "c1", Seq: 1, Status: StatusQueued, Attempts: 1, Error: "e", NextAttempt: t0.Add(time.Hour)},
		{Contact: "c1", Seq: 2, Status: StatusSent, Attempts: 1, ExternalID: "x"},
	}})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Outbox(bg, t0, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Outbox after Close: %v", err)
	}
	if _, err := st.MessageByExternal(bg, "telegram", "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("MessageByExternal after Close: %v", err)
	}

	st, err := Open(dir, quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got := outbox(t, st, t0.Add(2*time.Hour), 0)
	if !reflect.DeepEqual(refs(got), []string{"c1/3", "c1/1"}) {
		t.Fatalf("outbox after reopen: %v", refs(got))
	}
	if m := got[1]; m.Attempts != 1 || m.Error != "e" || !m.NextAttempt.Equal(t0.Add(time.Hour)) || m.Content.Text != "a" {
		t.Errorf("retried message after reopen: %+v", m)
	}
	if m, err := st.MessageByExternal(bg, "telegram", "x"); err != nil || m.Seq != 2 || m.Status != StatusSent {
		t.Errorf("by external id after reopen: %v %+v", err, m)
	}
	// Updates read the old state from disk.
	commit(t, st, &Batch{Updates: []StatusUpdate{
		{Contact: "c1", Seq: 1, Status: StatusSent, ExternalID: "y"},
		{Contact: "c1", Seq: 3, Status: StatusQueued, Attempts: 1, NextAttempt: t0.Add(3 * time.Hour)},
		{Contact: "c1", Seq: 2, Status: StatusDelivered, ExternalID: "x2"},
	}})
	if got := refs(outbox(t, st, t0.Add(2*time.Hour), 0)); got != nil {
		t.Errorf("outbox: %v", got)
	}
	if got := refs(outbox(t, st, t0.Add(3*time.Hour), 0)); !reflect.DeepEqual(got, []string{"c1/3"}) {
		t.Errorf("outbox: %v", got)
	}
	if _, err := st.MessageByExternal(bg, "telegram", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old external id: %v", err)
	}
	checkOutboxIndex(t, st)
}

func TestParseMessageRef(t *testing.T) {
	ref := appendMessageRef(nil, "c/1", 1<<40)
	if c, seq, ok := parseMessageRef(ref); !ok || string(c) != "c/1" || seq != 1<<40 {
		t.Errorf("parse: %q %d %v", c, seq, ok)
	}
	for _, bad := range [][]byte{nil, ref[:len(ref)-1], append(ref, 0), {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, binary.AppendUvarint(nil, 1<<64-8)} {
		if _, _, ok := parseMessageRef(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestOutboxConcurrent runs producers (committing queued replies) and
// dispatchers (polling the outbox and committing sent, retry and failed
// updates) through one Committer, with receipt lookups alongside, until
// every message has left the outbox.
func TestOutboxConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		cm := NewCommitter(st, 32, 0)
		defer cm.Close()
		const producers, perProducer = 4, 60
		var wg sync.WaitGroup
		var produced atomic.Int64
		for p := range producers {
			wg.Go(func() {
				for i := range perProducer {
					cid := fmt.Sprintf("p%d-c%d", p, i%5)
					b := &Batch{ContactID: cid, Messages: []Message{msg(DirectionIn, "q"), out(fmt.Sprint(i), 0), out(fmt.Sprint(i), 0)}}
					if err := cm.Submit(bg, b); err != nil {
						t.Errorf("producer %d: %v", p, err)
						return
					}
					produced.Add(2)
				}
			})
		}
		var sent, failed atomic.Int64
		done := make(chan struct{})
		var dispatchers sync.WaitGroup
		for d := range 3 {
			dispatchers.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					ms, err := st.Outbox(bg, t0.Add(time.Hour), 20)
					if err != nil {
						t.Errorf("dispatcher %d: %v", d, err)
						return
					}
					for _, m := range ms {
						// Dispatchers share the outbox; each takes the
						// messages of its own contacts.
						if int(m.Seq)%3 != d {
							continue
						}
						u := StatusUpdate{Contact: m.Contact, Seq: m.Seq, Attempts: m.Attempts + 1}
						switch {
						case m.Attempts < 2 && m.Seq%2 == 0:
							u.Status, u.Error, u.NextAttempt = StatusQueued, "busy", m.NextAttempt.Add(time.Minute)
						case m.Seq%5 == 0:
							u.Status, u.Error = StatusFailed, "gone"
						default:
							u.Status, u.ExternalID = StatusSent, fmt.Sprintf("%s/%d", m.Contact, m.Seq)
						}
						if err := cm.Submit(bg, &Batch{Updates: []StatusUpdate{u}}); err != nil {
							t.Errorf("dispatcher %d: %v", d, err)
							return
						}
						switch u.Status {
						case StatusSent:
							sent.Add(1)
							if got, err := st.MessageByExternal(bg, "telegram", u.ExternalID); err != nil || got.Seq != m.Seq || got.Status != StatusSent {
								t.Errorf("receipt lookup of %s: %v %+v", u.ExternalID, err, got)
							}
						case StatusFailed:
							failed.Add(1)
						}
					}
				}
			})
		}
		wg.Wait()
		deadline := time.Now().Add(20 * time.Second)
		for sent.Load()+failed.Load() < produced.Load() && time.Now().Before(deadline) && !t.Failed() {
			time.Sleep(5 * time.Millisecond)
		}
		close(done)
		dispatchers.Wait()
		if n := sent.Load() + failed.Load(); n != producers*perProducer*2 {
			t.Errorf("%d sent + %d failed of %d", sent.Load(), failed.Load(), producers*perProducer*2)
		}
		if ms, _ := st.Outbox(bg, t0.Add(time.Hour), 0); len(ms) != 0 {
			t.Errorf("outbox not empty: %v", refs(ms))
		}
		checkOutboxIndex(t, st)
	})
}
