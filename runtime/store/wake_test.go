package store

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchboard-bots/switchboard/flows"
)

// TestWaitTimers: a wait's timer lives in its session's head and the
// contact's wake finds it. A conversation whose every step ends a wait and
// starts a later one writes no timer entry per step; a wake that comes due
// early moves to the wait left; an earlier wait moves the wake; a wait
// fires with its Seq, after a restart too; the session's end and the
// contact's deletion take the wake with them.
func TestWaitTimers(t *testing.T) {
	st, dir := openOnDisk(t)
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
	st = reopen(t, st, dir)
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

// TestDeleteContactCutShortKeepsWaitsWaking: a DeleteContact cut short
// after its first transaction leaves a contact whose later waits still
// fire: the wake goes after the session's head that names it.
func TestDeleteContactCutShortKeepsWaitsWaking(t *testing.T) {
	st, dir := openOnDisk(t)
	defer func() { st.Close() }()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	// Enough timers of their own that s/ falls in the second chunk.
	var ts []flows.Timer
	for i := range deleteChunk - 2 {
		ts = append(ts, flows.Timer{ID: fmt.Sprintf("c1/e%d", i), Due: at(1000), Kind: flows.TimerEvent, Event: &flows.Event{Kind: flows.EventNamed, Name: "x"}})
	}
	ts = append(ts, flows.Timer{ID: "c1/w1", Due: at(10), Kind: flows.TimerWait, Seq: 1})
	commit(t, st, &Batch{Contact: contact("c1", "shop", "x1"), Session: &flows.Session{Seq: 1}, Timers: ts})
	deleteCutShort(t, st, "c1")
	st = reopen(t, st, dir)
	commit(t, st, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 2}, CancelTimers: []string{"c1/w1"},
		Timers: []flows.Timer{{ID: "c1/w2", Due: at(20), Kind: flows.TimerWait, Seq: 2}}})
	if got := settle(t, st, at(30)); len(got) != 1 || got[0].ID != "c1/w2" {
		t.Errorf("due at +30m: %v, want c1/w2", timerIDs(got))
	}
	checkTimerIndex(t, st) // the wake the deletion left behind is gone
}

// TestDueTimersEarliestFirstWithAnEarlyWake: a wake left early by an
// ended wait does not put the contact's later wait before an earlier
// timer: a delayed event due first is stepped first.
func TestDueTimersEarliestFirstWithAnEarlyWake(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		commit(t, st, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 1},
			Timers: []flows.Timer{{ID: "c1/w1", Due: at(5), Kind: flows.TimerWait, Seq: 1}}})
		commit(t, st, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 2}, CancelTimers: []string{"c1/w1"},
			Timers: []flows.Timer{{ID: "c1/w2", Due: at(20), Kind: flows.TimerWait, Seq: 2},
				{ID: "c1/e", Due: at(10), Kind: flows.TimerEvent, Event: &flows.Event{Kind: flows.EventNamed, Name: "x"}}}})
		ts, err := st.DueTimers(bg, at(25), 0)
		if got := timerIDs(ts); err != nil || !reflect.DeepEqual(got, []string{"c1/e", "c1/w2"}) {
			t.Errorf("due at +25m: %v %v, want [c1/e c1/w2]", err, got)
		}
	})
}

// TestWaitWithTheLastSeq: a wait set at the largest Seq still fires.
func TestWaitWithTheLastSeq(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		w := flows.Timer{ID: "c1/w", Contact: "c1", Due: at(5), Kind: flows.TimerWait, Seq: 1<<64 - 1}
		commit(t, st, &Batch{ContactID: "c1", Session: &flows.Session{Seq: 1}, Timers: []flows.Timer{w}})
		if got := settle(t, st, at(10)); len(got) != 1 || !reflect.DeepEqual(got[0], w) {
			t.Errorf("due at +10m: %+v, want %+v", got, w)
		}
	})
}

// TestZeroByteTimerIDs: a timer ID may not start with the wake's mark,
// and a fired wake must be a wake.
func TestZeroByteTimerIDs(t *testing.T) {
	st, err := OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, b := range []*Batch{
		{ContactID: "c1", Timers: []flows.Timer{{ID: "\x00c1", Due: t0}}},
		{ContactID: "c1", Fired: &flows.Timer{ID: "\x00c1", Contact: "c1", Due: t0, Kind: flows.TimerWait}},
		{ContactID: "c1", Fired: &flows.Timer{ID: "c1/w1", Contact: "c1", Due: t0, Kind: TimerWake}},
	} {
		if err := st.Commit(bg, b); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", descBatch(b), err)
		}
	}
}

// FuzzSessionHead: an s/ value of any bytes is read without panicking, and
// a head that reads writes back to a value that reads the same.
func FuzzSessionHead(f *testing.F) {
	f.Add(appendSessionHead(nil, 7, &timerList{ts: contactTimers{{id: "a", due: 3}}}))
	f.Add(appendSessionHead(nil, 7, &timerList{wake: 2, ts: contactTimers{{id: "a", due: 3}, {id: "w", due: 2, wait: 5}}}))
	f.Add(append(appendSessionHead(nil, 1<<40, &timerList{wake: 9}), 0x11, 1, 2))
	f.Add([]byte{sessionHeadWaits, 0x01})
	f.Add([]byte{0x11})
	f.Fuzz(func(t *testing.T, v []byte) {
		seq, l, sess, err := splitSessionHead(v)
		if err != nil {
			return
		}
		again := append(appendSessionHead(nil, seq, &l), sess...)
		seq2, l2, sess2, err := splitSessionHead(again)
		if err != nil {
			t.Fatalf("%q read as %d %+v %q, written as %q: %v", v, seq, l, sess, again, err)
		}
		if len(v) == 0 || (v[0] != sessionHead && v[0] != sessionHeadWaits) {
			return // no head: the value is the session
		}
		if seq2 != seq || l2.wake != l.wake || !bytes.Equal(sess2, sess) || len(l2.ts) != len(l.ts) || len(l.ts) > 0 && !reflect.DeepEqual(l2.ts, l.ts) {
			t.Fatalf("%q read as %d %+v %q, then as %d %+v %q", v, seq, l, sess, seq2, l2, sess2)
		}
	})
}

// modelTimer is what the model of TestWakeModel knows of a timer.
type modelTimer struct {
	due  time.Time
	wait bool // kept in the session's head
}

// TestWakeModel drives random batches, polls, failed commits, restarts and
// deletions against a store and a model of its timers, and checks that
// every timer due comes due (wakes handed back first), that the t/ entries
// agree with the lists, and that the cache agrees with the store.
func TestWakeModel(t *testing.T) {
	for seed := range 30 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { wakeModel(t, uint64(seed), 250) })
	}
}

func wakeModel(t *testing.T, seed uint64, ops int) {
	r := rand.New(rand.NewPCG(seed, 7))
	st, dir := openOnDisk(t)
	defer func() { st.Close() }()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	contacts := []string{"c1", "c2"}
	model := map[string]map[string]modelTimer{"c1": {}, "c2": {}}
	exists := map[string]bool{}
	var pending []flows.Timer // as DueTimers returned them, maybe stale by now
	var seq uint64
	var history []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Log(strings.Join(history, "\n"))
		t.Fatalf(format, args...)
	}
	newTimer := func(c string, wait bool) flows.Timer {
		seq++
		tm := flows.Timer{ID: fmt.Sprintf("%s/x%d", c, r.IntN(6)), Due: at(r.IntN(40)), Seq: seq}
		if wait {
			tm.Kind = flows.TimerWait
		} else {
			tm.Kind = flows.TimerEvent
			tm.Event = &flows.Event{Kind: flows.EventNamed, Name: "e"}
		}
		if r.IntN(4) == 0 {
			tm.Contact = c
		}
		return tm
	}
	// applyModel does to the model what the store should do with b.
	applyModel := func(b *Batch) {
		cid := b.contactID()
		if b.Contact != nil {
			exists[cid] = true
		}
		if f := b.Fired; f != nil && f.Kind != TimerWake {
			if m, ok := model[f.Contact][f.ID]; ok && m.due.Equal(f.Due) {
				delete(model[f.Contact], f.ID)
			}
		}
		for _, id := range b.CancelTimers {
			delete(model[cid], id)
		}
		for _, tm := range b.Timers {
			c := cmp.Or(tm.Contact, cid)
			model[c][tm.ID] = modelTimer{due: tm.Due, wait: tm.Kind == flows.TimerWait && b.Session != nil && c == cid}
		}
		if b.DeleteSession {
			for id, m := range model[cid] {
				if m.wait {
					delete(model[cid], id) // nothing to wait for without a session
				}
			}
		}
	}
	randBatch := func() *Batch {
		c := contacts[r.IntN(len(contacts))]
		b := &Batch{ContactID: c}
		if !exists[c] && r.IntN(3) == 0 {
			b.Contact = contact(c, "shop", "x"+c)
		}
		switch r.IntN(10) {
		case 0, 1, 2, 3, 4: // a step
			seq++
			b.Session = &flows.Session{Seq: seq}
			b.Messages = []Message{msg(DirectionIn, "hi")}
		case 5:
			b.DeleteSession = true
		}
		if len(pending) > 0 && r.IntN(2) == 0 {
			i := r.IntN(len(pending))
			if f := pending[i]; f.Contact == c || r.IntN(3) == 0 {
				b.Fired = &f
				pending = slices.Delete(pending, i, i+1)
			}
		}
		for range r.IntN(3) {
			b.CancelTimers = append(b.CancelTimers, fmt.Sprintf("%s/x%d", c, r.IntN(6)))
		}
		for range r.IntN(3) {
			tc := c
			if r.IntN(5) == 0 {
				tc = contacts[r.IntN(len(contacts))]
			}
			tm := newTimer(tc, r.IntN(3) != 0)
			if tc != c {
				tm.Contact = tc
			}
			b.Timers = append(b.Timers, tm)
		}
		return b
	}
	check := func(now time.Time) {
		t.Helper()
		ts := settle(t, st, now)
		got := map[string]bool{}
		for _, tm := range ts {
			got[tm.Contact+" "+tm.ID] = true
		}
		want := map[string]bool{}
		for c, m := range model {
			for id, tm := range m {
				if !tm.due.After(now) {
					want[c+" "+id] = true
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			fail("due at %v: got %v, want %v", now.Sub(t0), got, want)
		}
		if checkTimerIndex(t, st); t.Failed() {
			fail("the timer index and the lists disagree")
		}
		bs := st.(*badgerStore)
		for _, c := range contacts {
			m, ok := bs.cache.contacts.get(c)
			if !ok {
				continue
			}
			cached := m.timers
			var stored timerList
			if err := bs.view(func(txn *badger.Txn) (err error) { stored, _, err = readTimerList(txn, c); return err }); err != nil {
				fail("timers of %s: %v", c, err)
			}
			byID := func(a, b timerRef) int { return strings.Compare(a.id, b.id) }
			a, b := slices.SortedFunc(slices.Values(cached.ts), byID), slices.SortedFunc(slices.Values(stored.ts), byID)
			if len(a)+len(b) > 0 && !reflect.DeepEqual(a, b) || cached.wake != stored.wake {
				fail("contact %s: cached %+v wake %d, stored %+v wake %d", c, a, cached.wake, b, stored.wake)
			}
		}
	}
	for op := range ops {
		switch k := r.IntN(20); {
		case k < 12:
			bs := make([]*Batch, 1+r.IntN(3))
			for i := range bs {
				bs[i] = randBatch()
				history = append(history, fmt.Sprintf("%d: batch %s", op, descBatch(bs[i])))
			}
			if err := st.Commit(bg, bs...); err != nil {
				fail("commit: %v", err)
			}
			for _, b := range bs {
				applyModel(b)
			}
		case k < 15:
			now := at(r.IntN(45))
			ts, err := st.DueTimers(bg, now, 0)
			if err != nil {
				fail("DueTimers: %v", err)
			}
			history = append(history, fmt.Sprintf("%d: poll at %v: %d due", op, now.Sub(t0), len(ts)))
			pending = append(pending, ts...)
			if len(pending) > 20 {
				pending = pending[len(pending)-20:]
			}
		case k < 16:
			// A commit that fails while it writes: a timer whose event
			// cannot be encoded, after a good batch.
			b := randBatch()
			bad := &Batch{ContactID: "c2", Timers: []flows.Timer{{ID: "bad", Due: at(1), Kind: flows.TimerEvent,
				Event: &flows.Event{Kind: flows.EventNamed, Name: "e", Data: map[string]any{"x": make(chan int)}}}}}
			history = append(history, fmt.Sprintf("%d: failing commit of %s", op, descBatch(b)))
			if err := st.Commit(bg, b, bad); err == nil {
				fail("a bad batch committed")
			}
		case k < 17:
			history = append(history, fmt.Sprintf("%d: restart", op))
			st = reopen(t, st, dir)
		case k < 18:
			c := contacts[r.IntN(len(contacts))]
			if exists[c] {
				history = append(history, fmt.Sprintf("%d: delete contact %s", op, c))
				if err := st.DeleteContact(bg, c); err != nil {
					fail("delete: %v", err)
				}
				exists[c] = false
				model[c] = map[string]modelTimer{}
			}
		default:
			check(at(r.IntN(45)))
		}
	}
	check(at(1 << 20))
}

func descBatch(b *Batch) string {
	s := "c=" + b.contactID()
	if b.Contact != nil {
		s += " +contact"
	}
	if b.Session != nil {
		s += fmt.Sprintf(" session %d", b.Session.Seq)
	}
	if b.DeleteSession {
		s += " -session"
	}
	if b.Fired != nil {
		s += fmt.Sprintf(" fired(%q %s %v %s)", b.Fired.ID, b.Fired.Contact, b.Fired.Due.Sub(t0), b.Fired.Kind)
	}
	if len(b.CancelTimers) > 0 {
		s += fmt.Sprintf(" cancel%v", b.CancelTimers)
	}
	for _, tm := range b.Timers {
		s += fmt.Sprintf(" set(%s %s %v %s)", tm.ID, tm.Contact, tm.Due.Sub(t0), tm.Kind)
	}
	return s
}
