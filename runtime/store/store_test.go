package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchboard-bots/switchboard/flows"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

var bg = context.Background()

// quietOptions keep Badger's warnings out of test output unless they matter.
func quietOptions() Options {
	return Options{Logger: slog.New(slog.DiscardHandler)}
}

// eachStore runs f against an in-memory and an on-disk store.
func eachStore(t *testing.T, f func(t *testing.T, st Store)) {
	t.Run("memory", func(t *testing.T) {
		st, err := OpenInMemory()
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		f(t, st)
	})
	t.Run("disk", func(t *testing.T) {
		st, err := Open(t.TempDir(), quietOptions())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		f(t, st)
	})
}

func commit(t *testing.T, st Store, bs ...*Batch) {
	t.Helper()
	if err := st.Commit(bg, bs...); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func contact(id, bot, ext string) *flows.Contact {
	return &flows.Contact{ID: id, Bot: bot, Channel: "telegram", ExternalID: ext, Name: "name " + id,
		Attributes: map[string]any{"plan": "gold", "n": 1}, Tags: []string{"t"}, CreatedAt: t0, UpdatedAt: t0}
}

func TestContacts(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		c := contact("c1", "shop", "tg-1")
		commit(t, st, &Batch{Contact: c})
		got, err := st.Contact(bg, "c1")
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("Contact: %v %#v", err, got)
		}
		if _, err := st.Contact(bg, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing contact: %v", err)
		}
		if got, err := st.ContactByExternal(bg, "shop", "telegram", "tg-1"); err != nil || got.ID != "c1" {
			t.Fatalf("ContactByExternal: %v %v", err, got)
		}
		for _, k := range [][3]string{{"shop", "telegram", "tg-2"}, {"shop", "whatsapp", "tg-1"}, {"other", "telegram", "tg-1"}, {"shop", "telegram", ""}} {
			if _, err := st.ContactByExternal(bg, k[0], k[1], k[2]); !errors.Is(err, ErrNotFound) {
				t.Errorf("ContactByExternal%v: %v", k, err)
			}
		}

		// An update keeps the index; a new identity moves it.
		c.Name = "renamed"
		commit(t, st, &Batch{Contact: c})
		if got, _ := st.ContactByExternal(bg, "shop", "telegram", "tg-1"); got == nil || got.Name != "renamed" {
			t.Fatalf("after rename: %v", got)
		}
		c2 := c.Clone()
		c2.ExternalID = "tg-9"
		commit(t, st, &Batch{Contact: c2})
		if _, err := st.ContactByExternal(bg, "shop", "telegram", "tg-1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("old external id still found: %v", err)
		}
		if got, _ := st.ContactByExternal(bg, "shop", "telegram", "tg-9"); got == nil || got.ID != "c1" {
			t.Fatalf("new external id: %v", got)
		}
		// A contact moving to another bot leaves the first bot's list.
		c3 := c2.Clone()
		c3.Bot = "support"
		commit(t, st, &Batch{Contact: c3})
		if list, _, _ := st.Contacts(bg, "shop", "", 10); len(list) != 0 {
			t.Fatalf("shop still lists %d contacts", len(list))
		}
		if list, _, _ := st.Contacts(bg, "support", "", 10); len(list) != 1 || list[0].Bot != "support" {
			t.Fatalf("support lists %v", list)
		}
		// Another contact claiming an external id takes the index over; the
		// first giving it up later does not remove the second's entry.
		d := contact("d1", "support", "tg-9")
		commit(t, st, &Batch{Contact: d})
		c4 := c3.Clone()
		c4.ExternalID = "tg-10"
		commit(t, st, &Batch{Contact: c4})
		if got, _ := st.ContactByExternal(bg, "support", "telegram", "tg-9"); got == nil || got.ID != "d1" {
			t.Fatalf("claimed external id: %v", got)
		}
	})
}

func TestContactsPagination(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		var bs []*Batch
		for i := range 7 {
			bs = append(bs, &Batch{Contact: contact(fmt.Sprintf("a%02d", i), "A", fmt.Sprint("x", i))})
		}
		for i := range 3 {
			bs = append(bs, &Batch{Contact: contact(fmt.Sprintf("b%02d", i), "B", "")})
		}
		// A bot whose name is a prefix of another's must not see its contacts.
		bs = append(bs, &Batch{Contact: contact("z", "AB", "")})
		commit(t, st, bs...)

		pages := func(bot string, size int) [][]string {
			var out [][]string
			cursor := ""
			for range 20 {
				list, next, err := st.Contacts(bg, bot, cursor, size)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, c := range list {
					ids = append(ids, c.ID)
				}
				out = append(out, ids)
				if next == "" {
					return out
				}
				cursor = next
			}
			t.Fatal("pagination does not end")
			return nil
		}
		if got, want := pages("A", 3), [][]string{{"a00", "a01", "a02"}, {"a03", "a04", "a05"}, {"a06"}}; !reflect.DeepEqual(got, want) {
			t.Errorf("bot A: %v, want %v", got, want)
		}
		if got, want := pages("B", 3), [][]string{{"b00", "b01", "b02"}}; !reflect.DeepEqual(got, want) {
			t.Errorf("bot B: %v, want %v", got, want)
		}
		if got := pages("", 4); len(got) != 3 || len(got[2]) != 3 || got[2][2] != "z" {
			t.Errorf("all contacts: %v", got)
		}
		if got := pages("nobody", 0); len(got) != 1 || len(got[0]) != 0 {
			t.Errorf("unknown bot: %v", got)
		}
	})
}

func TestSession(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		if _, err := st.Session(bg, "c1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("no session: %v", err)
		}
		s := &flows.Session{Seq: 3, Frames: []flows.Frame{{Skill: "/start", Block: 1}}, Started: true,
			Wait: &flows.Wait{Kind: flows.WaitMessage, TimerID: "t1", Due: t0},
			Vars: map[string]any{"a": "b", "n": []any{1.5, map[string]any{"x": nil}}}}
		commit(t, st, &Batch{Contact: contact("c1", "shop", "e"), Session: s})
		got, err := st.Session(bg, "c1")
		if err != nil || !reflect.DeepEqual(got, s) {
			t.Fatalf("Session: %v\n%#v", err, got)
		}
		s.Seq = 4
		commit(t, st, &Batch{ContactID: "c1", Session: s})
		if got, _ := st.Session(bg, "c1"); got == nil || got.Seq != 4 {
			t.Fatalf("updated session: %v", got)
		}
		commit(t, st, &Batch{ContactID: "c1"}) // nil session: unchanged
		if got, _ := st.Session(bg, "c1"); got == nil || got.Seq != 4 {
			t.Fatalf("session after an empty batch: %v", got)
		}
		// A session the caller has encoded is stored as encoded.
		s.Seq = 5
		enc, err := flows.AppendSession(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		commit(t, st, &Batch{ContactID: "c1", Session: s, SessionEncoded: enc})
		if got, err := st.Session(bg, "c1"); err != nil || !reflect.DeepEqual(got, s) {
			t.Fatalf("session given encoded: %v\n%#v", err, got)
		}
		if err := st.Commit(bg, &Batch{ContactID: "c1", SessionEncoded: enc}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SessionEncoded without Session: %v", err)
		}
		commit(t, st, &Batch{ContactID: "c1", DeleteSession: true})
		if _, err := st.Session(bg, "c1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted session: %v", err)
		}
	})
}

func msg(dir, text string) Message {
	author := AuthorUser
	if dir == DirectionOut {
		author = AuthorBot
	}
	return Message{ID: "m-" + text, Time: t0, Direction: dir, Author: author, Channel: "telegram",
		Status: StatusQueued, Content: flows.Content{Text: text}}
}

func seqs(ms []Message) []uint64 {
	var out []uint64
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}

func span(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestMessages(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		// 25 messages for c1 in batches of 1 to 4, interleaved with c2's
		// and with c10's (whose ID has c1 as a prefix).
		n := 0
		for n < 25 {
			b := &Batch{ContactID: "c1"}
			for range min(n%4+1, 25-n) {
				n++
				b.Messages = append(b.Messages, msg(DirectionIn, fmt.Sprint(n)))
			}
			other := &Batch{ContactID: "c2", Messages: []Message{msg(DirectionOut, "other")}}
			prefix := &Batch{ContactID: "c10", Messages: []Message{msg(DirectionOut, "prefix")}}
			commit(t, st, b, other, prefix)
			if last := b.Messages[len(b.Messages)-1]; last.Seq != uint64(n) || last.Contact != "c1" {
				t.Fatalf("Seq not written back: %+v", last)
			}
		}
		full := fullMessage()
		b := &Batch{ContactID: "c3", Messages: []Message{full}}
		commit(t, st, b)
		got, _, err := st.Messages(bg, "c3", MessageQuery{})
		if err != nil || len(got) != 1 {
			t.Fatalf("c3: %v %v", err, got)
		}
		full.Contact, full.Seq = "c3", 1
		if !reflect.DeepEqual(got[0], full) {
			t.Errorf("message changed:\n got %#v\nwant %#v", got[0], full)
		}

		type page struct {
			q    MessageQuery
			want []uint64
			next string
		}
		for _, p := range []page{
			{MessageQuery{Limit: 10}, span(16, 25), "16"},
			{MessageQuery{Before: "16", Limit: 10}, span(6, 15), "6"},
			{MessageQuery{Before: "6", Limit: 10}, span(1, 5), ""},
			{MessageQuery{Before: "1", Limit: 10}, nil, ""},
			{MessageQuery{After: "0", Limit: 10}, span(1, 10), "10"},
			{MessageQuery{After: "10", Limit: 10}, span(11, 20), "20"},
			{MessageQuery{After: "20", Limit: 10}, span(21, 25), ""},
			{MessageQuery{After: "25", Limit: 10}, nil, ""},
			{MessageQuery{After: "5", Before: "9"}, span(6, 8), ""},
			{MessageQuery{After: "5", Before: "12", Limit: 3}, span(6, 8), "8"},
			{MessageQuery{After: "9", Before: "5"}, nil, ""},
			{MessageQuery{}, span(1, 25), ""},
			{MessageQuery{Limit: 25}, span(1, 25), ""},
			{MessageQuery{Limit: 24}, span(2, 25), "2"},
		} {
			got, next, err := st.Messages(bg, "c1", p.q)
			if err != nil {
				t.Fatalf("%+v: %v", p.q, err)
			}
			if !reflect.DeepEqual(seqs(got), p.want) || next != p.next {
				t.Errorf("%+v: got %v next %q, want %v next %q", p.q, seqs(got), next, p.want, p.next)
			}
			for _, m := range got {
				if m.Contact != "c1" || m.Content.Text != fmt.Sprint(m.Seq) {
					t.Errorf("message %d: %+v", m.Seq, m)
				}
			}
		}
		if got, _, _ := st.Messages(bg, "c2", MessageQuery{}); !reflect.DeepEqual(seqs(got), span(1, 8)) {
			t.Errorf("c2: %v", seqs(got))
		}
		if got, _, _ := st.Messages(bg, "nobody", MessageQuery{}); len(got) != 0 {
			t.Errorf("nobody: %v", got)
		}
		for _, q := range []MessageQuery{{Before: "x"}, {After: "-1"}, {After: "1e3"}} {
			if _, _, err := st.Messages(bg, "c1", q); !errors.Is(err, ErrBadCursor) {
				t.Errorf("%+v: %v", q, err)
			}
		}

		// Pages are at most MaxPage long.
		big := &Batch{ContactID: "big"}
		for i := range MaxPage + 20 {
			big.Messages = append(big.Messages, msg(DirectionOut, fmt.Sprint(i)))
		}
		commit(t, st, big)
		got, next, _ := st.Messages(bg, "big", MessageQuery{Limit: 100000})
		if len(got) != MaxPage || next != "21" {
			t.Errorf("unbounded page: %d messages, next %q", len(got), next)
		}
	})
}

func fullMessage() Message {
	return Message{ID: "wamid.123", Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Direction: DirectionOut,
		Author: AuthorAgent, Agent: "acc_7", Channel: "whatsapp", ExternalID: "ext-9", Status: StatusDelivered,
		Attempts: 3, NextAttempt: time.Date(2026, 1, 2, 3, 5, 0, 7, time.UTC), Error: "503 busy",
		Content: flows.Content{Text: "hello ✓", Buttons: []flows.Button{{Title: "A", Payload: "a"}},
			Image: &flows.Media{URL: "https://x/y.png", Size: 99}, Gallery: []flows.Card{{Title: "c"}}}}
}

func TestTimers(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		commit(t, st,
			&Batch{ContactID: "c1", Timers: []flows.Timer{
				{ID: "t3", Due: at(3), Kind: flows.TimerWait, Seq: 7},
				{ID: "t1", Due: at(1), Kind: flows.TimerEvent, Event: &flows.Event{Kind: flows.EventNamed, Name: "ping", Data: map[string]any{"x": 1}}},
			}},
			&Batch{ContactID: "c2", Timers: []flows.Timer{
				{ID: "t2", Due: at(2), Kind: flows.TimerWait},
				{ID: "t0", Contact: "c9", Due: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), Kind: flows.TimerWait},
				{ID: "t9", Due: at(90), Kind: flows.TimerWait},
			}})
		ids := func(now time.Time, limit int) []string {
			t.Helper()
			ts, err := st.DueTimers(bg, now, limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, tm := range ts {
				out = append(out, tm.ID)
			}
			return out
		}
		if got := ids(at(2), 0); !reflect.DeepEqual(got, []string{"t0", "t1", "t2"}) {
			t.Errorf("due at +2m: %v", got)
		}
		if got := ids(at(100), 2); !reflect.DeepEqual(got, []string{"t0", "t1"}) {
			t.Errorf("limit 2: %v", got)
		}
		if got := ids(time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), 0); got != nil {
			t.Errorf("due in 1950: %v", got)
		}
		if got := ids(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 0); len(got) != 5 {
			t.Errorf("due in 3000: %v", got)
		}
		ts, _ := st.DueTimers(bg, at(1), 10)
		want := flows.Timer{ID: "t1", Contact: "c1", Due: at(1), Kind: flows.TimerEvent,
			Event: &flows.Event{Kind: flows.EventNamed, Name: "ping", Data: map[string]any{"x": 1}}}
		if len(ts) != 2 || !reflect.DeepEqual(ts[1], want) {
			t.Errorf("timer t1: %#v", ts)
		}

		// Cancel, cancel unknown, move t3 before t1, and cancel-then-set t9
		// in one commit. A batch cancels its own contact's timers only: c1
		// cannot cancel c2's t2.
		commit(t, st,
			&Batch{ContactID: "c9", CancelTimers: []string{"t0", "nope"}},
			&Batch{ContactID: "c1", CancelTimers: []string{"t2"}, Timers: []flows.Timer{{ID: "t3", Due: at(0)}}},
			&Batch{ContactID: "c2", CancelTimers: []string{"t9"}, Timers: []flows.Timer{{ID: "t9", Due: at(5)}}})
		if got := ids(at(100), 0); !reflect.DeepEqual(got, []string{"t3", "t1", "t2", "t9"}) {
			t.Errorf("after cancel and move: %v", got)
		}
		commit(t, st, &Batch{ContactID: "c1", CancelTimers: []string{"t1", "t3"}}, &Batch{ContactID: "c2", CancelTimers: []string{"t2", "t9"}})
		if got := ids(at(100), 0); got != nil {
			t.Errorf("after cancelling all: %v", got)
		}
	})
}

func TestDedup(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		if seen, err := st.Seen(bg, "telegram:1"); seen || err != nil {
			t.Fatalf("Seen before: %v %v", seen, err)
		}
		commit(t, st, &Batch{ContactID: "c1", DedupKey: "telegram:1", Messages: []Message{msg(DirectionIn, "hi")}})
		if seen, err := st.Seen(bg, "telegram:1"); !seen || err != nil {
			t.Fatalf("Seen after: %v %v", seen, err)
		}
		if seen, _ := st.Seen(bg, "telegram:2"); seen {
			t.Fatal("Seen another key")
		}
	})
}

func TestDedupTTL(t *testing.T) {
	opts := quietOptions()
	opts.DedupTTL = time.Second
	st, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	commit(t, st, &Batch{DedupKey: "k"})
	if seen, _ := st.Seen(bg, "k"); !seen {
		t.Fatal("not seen right away")
	}
	time.Sleep(2100 * time.Millisecond) // Badger's TTL has a one-second grain
	if seen, _ := st.Seen(bg, "k"); seen {
		t.Fatal("still seen after the TTL")
	}
}

func TestAtomicCommit(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		good := func(id string) *Batch {
			return &Batch{Contact: contact(id, "shop", "x"+id), Session: &flows.Session{Seq: 1},
				Messages: []Message{msg(DirectionIn, "hi")}, Timers: []flows.Timer{{ID: "t" + id, Due: t0}}, DedupKey: "d" + id}
		}
		nothingOf := func(id string) {
			t.Helper()
			if _, err := st.Contact(bg, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("contact %s written: %v", id, err)
			}
			if _, err := st.Session(bg, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("session %s written: %v", id, err)
			}
			if ms, _, _ := st.Messages(bg, id, MessageQuery{}); len(ms) != 0 {
				t.Errorf("messages of %s written", id)
			}
			if seen, _ := st.Seen(bg, "d"+id); seen {
				t.Errorf("dedup of %s written", id)
			}
		}
		// Refused by validation.
		for i, bad := range []*Batch{
			nil,
			{Session: &flows.Session{}},
			{Contact: &flows.Contact{}},
			{ContactID: "a", Contact: contact("b", "", "")},
			{ContactID: "a", Session: &flows.Session{}, DeleteSession: true},
			{Messages: []Message{msg(DirectionIn, "x")}},
			{ContactID: "a", Messages: []Message{{Direction: "sideways"}}},
			{ContactID: "a", Timers: []flows.Timer{{Due: t0}}},
			{ContactID: "a", Timers: []flows.Timer{{ID: "t", Due: time.Time{}}}},
			{Timers: []flows.Timer{{ID: "t", Due: t0}}},
			{CancelTimers: []string{""}},
		} {
			err := st.Commit(bg, good("g1"), bad)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("bad batch %d: %v", i, err)
			}
		}
		nothingOf("g1")
		// Fails while being written: the first batch is rolled back too.
		bad := good("g3")
		bad.Session.Vars = map[string]any{"ch": make(chan int)}
		err := st.Commit(bg, good("g2"), bad)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "chan int") {
			t.Errorf("unencodable session: %v", err)
		}
		var pe *PartialCommitError
		if errors.As(err, &pe) {
			t.Errorf("a failed transaction reported as partly committed: %v", err)
		}
		nothingOf("g2")
		nothingOf("g3")
		if ts, _ := st.DueTimers(bg, t0, 0); len(ts) != 0 {
			t.Errorf("timers written: %v", ts)
		}
		// And both commit together once fixed.
		commit(t, st, good("g2"), good("g3"))
		for _, id := range []string{"g2", "g3"} {
			if seen, _ := st.Seen(bg, "d"+id); !seen {
				t.Errorf("%s not committed", id)
			}
		}
	})
}

// TestSplitCommit commits more than one Badger transaction can hold: the
// store splits between batches and every batch lands whole.
func TestSplitCommit(t *testing.T) {
	opts := quietOptions()
	opts.MemTableSize = 1 << 20 // transactions of at most ~150 KB
	st, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	text := strings.Repeat("x", 2000)
	var bs []*Batch
	for i := range 200 { // ~800 KB
		b := &Batch{ContactID: fmt.Sprint("c", i%7), DedupKey: fmt.Sprint("d", i)}
		for range 2 {
			b.Messages = append(b.Messages, msg(DirectionIn, text))
		}
		bs = append(bs, b)
	}
	commit(t, st, bs...)
	for c := range 7 {
		ms, _, err := st.Messages(bg, fmt.Sprint("c", c), MessageQuery{Limit: MaxPage})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(seqs(ms), span(1, uint64(len(ms)))) || len(ms) < 56 {
			t.Errorf("contact c%d: %v", c, seqs(ms))
		}
	}
	for i := range 200 {
		if seen, _ := st.Seen(bg, fmt.Sprint("d", i)); !seen {
			t.Fatalf("batch %d lost", i)
		}
	}
	huge := &Batch{ContactID: "h"}
	for range 100 {
		huge.Messages = append(huge.Messages, msg(DirectionIn, text))
	}
	if err := st.Commit(bg, huge); !errors.Is(err, ErrTooBig) {
		t.Fatalf("a batch bigger than a transaction: %v", err)
	}
	// A batch too big after some that fit: those are committed.
	err = st.Commit(bg, &Batch{DedupKey: "before"}, huge)
	var pe *PartialCommitError
	if !errors.As(err, &pe) || pe.Committed != 1 || !errors.Is(err, ErrTooBig) {
		t.Fatalf("partial commit: %v", err)
	}
	if seen, _ := st.Seen(bg, "before"); !seen {
		t.Fatal("the batch that fitted is not committed")
	}
}

func TestReopen(t *testing.T) {
	st, dir := openOnDisk(t)
	c := contact("c1", "shop", "tg-1")
	s := &flows.Session{Seq: 9, Vars: map[string]any{"k": "v"}}
	tm := flows.Timer{ID: "t1", Due: t0, Kind: flows.TimerWait, Seq: 9}
	b := &Batch{Contact: c, Session: s, DedupKey: "tg:1", Timers: []flows.Timer{tm},
		Messages: []Message{msg(DirectionIn, "hi"), msg(DirectionOut, "hello")}}
	commit(t, st, b)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := st.Contact(bg, "c1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := st.Commit(bg, &Batch{DedupKey: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("commit after Close: %v", err)
	}

	st, err := Open(dir, quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got, err := st.ContactByExternal(bg, "shop", "telegram", "tg-1"); err != nil || !reflect.DeepEqual(got, c) {
		t.Errorf("contact: %v %v", err, got)
	}
	if got, err := st.Session(bg, "c1"); err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("session: %v %v", err, got)
	}
	if seen, _ := st.Seen(bg, "tg:1"); !seen {
		t.Error("dedup lost")
	}
	ts, err := st.DueTimers(bg, t0, 0)
	tm.Contact = "c1"
	if err != nil || len(ts) != 1 || !reflect.DeepEqual(ts[0], tm) {
		t.Errorf("timers: %v %v", err, ts)
	}
	// The conversation continues where it stopped.
	b2 := &Batch{ContactID: "c1", Messages: []Message{msg(DirectionIn, "again")}, CancelTimers: []string{"t1"}}
	commit(t, st, b2)
	if b2.Messages[0].Seq != 3 {
		t.Errorf("Seq after reopen: %d", b2.Messages[0].Seq)
	}
	ms, _, _ := st.Messages(bg, "c1", MessageQuery{})
	if got := seqs(ms); !reflect.DeepEqual(got, []uint64{1, 2, 3}) || ms[1].Content.Text != "hello" {
		t.Errorf("messages: %v", ms)
	}
	if ts := settle(t, st, t0); len(ts) != 0 {
		t.Errorf("cancelled timer survived: %v", ts)
	}
}

// settle hands the wakes DueTimers returns back to the store, as the
// pipeline does, and returns the timers due at now that are not wakes.
func settle(t *testing.T, st Store, now time.Time) []flows.Timer {
	t.Helper()
	for range 5 {
		ts, err := st.DueTimers(bg, now, 0)
		if err != nil {
			t.Fatal(err)
		}
		woke := false
		for i := range ts {
			if ts[i].Kind == TimerWake {
				commit(t, st, &Batch{ContactID: ts[i].Contact, Fired: &ts[i]})
				woke = true
			}
		}
		if !woke {
			return ts
		}
	}
	t.Fatal("wakes keep coming due")
	return nil
}

func TestContextCancelled(t *testing.T) {
	st, err := OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := st.Commit(ctx, &Batch{DedupKey: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit: %v", err)
	}
	if _, err := st.Contact(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Contact: %v", err)
	}
	if _, _, err := st.Messages(ctx, "x", MessageQuery{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Messages: %v", err)
	}
}

func TestMessageCodec(t *testing.T) {
	m := fullMessage()
	b := appendMessage(nil, &m)
	var got Message
	if err := decodeMessage(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("got %#v\nwant %#v", got, m)
	}
	for i := range len(b) {
		if err := decodeMessage(b[:i], &got); err == nil {
			t.Errorf("prefix %d decoded", i)
		}
	}
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0xff
		_ = decodeMessage(c, &got) // must not panic
	}
}

// TestFailedCommitLeavesNoTrace: what a failed transaction did must not
// reach the store's cache of Seqs, identities and timers.
func TestFailedCommitLeavesNoTrace(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		commit(t, st, &Batch{Contact: contact("c1", "shop", "e1"), Messages: []Message{msg(DirectionIn, "1")},
			Timers: []flows.Timer{{ID: "t1", Due: t0}}})
		bad := &Batch{ContactID: "c2", Session: &flows.Session{Vars: map[string]any{"x": struct{}{}}}}
		moved := contact("c1", "shop", "e2")
		err := st.Commit(bg, &Batch{Contact: moved, Messages: []Message{msg(DirectionIn, "2")},
			Timers: []flows.Timer{{ID: "t1", Due: t0.Add(time.Hour)}}}, bad)
		if err == nil {
			t.Fatal("bad batch committed")
		}
		b := &Batch{ContactID: "c1", Messages: []Message{msg(DirectionIn, "2")}, CancelTimers: []string{"t1"}}
		commit(t, st, b)
		if b.Messages[0].Seq != 2 {
			t.Errorf("Seq %d after a failed commit, want 2", b.Messages[0].Seq)
		}
		if ts, _ := st.DueTimers(bg, t0.Add(2*time.Hour), 0); len(ts) != 0 {
			t.Errorf("timer left behind: %v", ts)
		}
		commit(t, st, &Batch{Contact: moved})
		if _, err := st.ContactByExternal(bg, "shop", "telegram", "e1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("old identity still indexed: %v", err)
		}
		if c, err := st.ContactByExternal(bg, "shop", "telegram", "e2"); err != nil || c.ID != "c1" {
			t.Errorf("new identity: %v %v", c, err)
		}
	})
}

// TestCacheEviction runs with a cache of two entries, so that most commits
// read what they need back from Badger.
func TestCacheEviction(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		st.(*badgerStore).cache = newMetaCache(2)
		for round := range 5 {
			var bs []*Batch
			for c := range 7 {
				cid := fmt.Sprint("c", c)
				bs = append(bs, &Batch{Contact: contact(cid, "shop", "x"+cid),
					Messages:     []Message{msg(DirectionIn, "a"), msg(DirectionOut, "b")},
					CancelTimers: []string{fmt.Sprintf("%s/w%d", cid, round-1)},
					Timers:       []flows.Timer{{ID: fmt.Sprintf("%s/w%d", cid, round), Due: t0.Add(time.Duration(round) * time.Minute)}}})
			}
			// One transaction per batch, so the cache churns.
			for _, b := range bs {
				commit(t, st, b)
			}
		}
		for c := range 7 {
			cid := fmt.Sprint("c", c)
			ms, _, _ := st.Messages(bg, cid, MessageQuery{})
			if !reflect.DeepEqual(seqs(ms), span(1, 10)) {
				t.Errorf("%s: %v", cid, seqs(ms))
			}
		}
		ts, _ := st.DueTimers(bg, t0.Add(time.Hour), 0)
		if len(ts) != 7 {
			t.Errorf("%d timers, want 7: %v", len(ts), ts)
		}
		if n := len(st.(*badgerStore).cache.contacts.m); n > 2 {
			t.Errorf("cache holds %d entries", n)
		}
		if list, _, _ := st.Contacts(bg, "shop", "", 0); len(list) != 7 {
			t.Errorf("%d contacts", len(list))
		}
	})
}

// TestGCLoop runs the value-log GC often over large, overwritten values and
// checks that Close stops it with the store intact.
func TestGCLoop(t *testing.T) {
	dir := t.TempDir()
	opts := quietOptions()
	opts.GCInterval = 5 * time.Millisecond
	st, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("v", 8<<10) // above the value threshold: goes to the value log
	for i := range 50 {
		commit(t, st, &Batch{ContactID: "c", Session: &flows.Session{Seq: uint64(i), Vars: map[string]any{"big": big}}})
	}
	time.Sleep(30 * time.Millisecond)
	st = reopen(t, st, dir)
	defer st.Close()
	if s, err := st.Session(bg, "c"); err != nil || s.Seq != 49 || s.Vars["big"] != big {
		t.Fatalf("session after GC: %v", err)
	}
}

func TestSlogAdapter(t *testing.T) {
	var buf strings.Builder
	a := slogAdapter{slog.New(slog.NewTextHandler(&buf, nil))}
	a.Infof("compaction %d\n", 1)
	a.Debugf("noise")
	a.Warningf("disk %s\n", "slow")
	a.Errorf("broken")
	out := buf.String()
	if strings.Contains(out, "compaction") || strings.Contains(out, "noise") {
		t.Errorf("info or debug logged: %s", out)
	}
	if !strings.Contains(out, `level=WARN msg="disk slow"`) || !strings.Contains(out, "level=ERROR msg=broken") {
		t.Errorf("warning or error missing: %s", out)
	}
}

// TestCloseDuringUse closes the store under concurrent reads and commits:
// each call either completes or returns ErrClosed.
func TestCloseDuringUse(t *testing.T) {
	st, err := Open(t.TempDir(), quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				cid := fmt.Sprint("c", w)
				var err error
				if i%2 == 0 {
					err = st.Commit(bg, &Batch{ContactID: cid, Messages: []Message{msg(DirectionIn, "x")}})
				} else {
					_, _, err = st.Messages(bg, cid, MessageQuery{})
				}
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("worker %d call %d: %v", w, i, err)
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

// openOnDisk opens a store in a new temporary folder, for tests that
// reopen it; they close it, or what reopen returns.
func openOnDisk(t *testing.T) (Store, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := Open(dir, quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	return st, dir
}

// reopen closes st and opens the store in dir again.
func reopen(t *testing.T, st Store, dir string) Store {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := Open(dir, quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// timerIDs lists the IDs of ts.
func timerIDs(ts []flows.Timer) []string {
	var out []string
	for _, tm := range ts {
		out = append(out, tm.ID)
	}
	return out
}

// checkTimerIndex checks that the t/ entries and the timer lists agree:
// each timer is in its contact's list with its due, each listed timer has
// its t/ entry, a list lives in one place (the session's head or f/), a
// contact has a wake exactly when its list says so, due no later than its
// earliest wait, and no entry of the old layout is left.
func checkTimerIndex(t *testing.T, st Store) {
	t.Helper()
	want, got := map[string]map[string]uint64{}, map[string]map[string]uint64{}
	wakes, listWakes := map[string]uint64{}, map[string]uint64{}
	contacts := map[string]bool{}
	err := st.(*badgerStore).view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := string(item.KeyCopy(nil))
			v, err := item.ValueCopy(nil)
			if err != nil {
				it.Close()
				return err
			}
			switch {
			case strings.HasPrefix(k, tTimer) && strings.HasPrefix(k[len(tTimer)+8:], wakeMark):
				c := k[len(tTimer)+8+len(wakeMark):]
				if _, twice := wakes[c]; twice || len(v) != 0 {
					t.Errorf("contact %s: second wake, or a wake with a value (%q)", c, v)
				}
				wakes[c] = binary.BigEndian.Uint64([]byte(k[len(tTimer):]))
				contacts[c] = true
			case strings.HasPrefix(k, tTimer):
				tm, err := flows.UnmarshalTimer(v)
				if err != nil {
					it.Close()
					return err
				}
				if want[tm.Contact] == nil {
					want[tm.Contact] = map[string]uint64{}
				}
				want[tm.Contact][k[len(tTimer)+8:]] = binary.BigEndian.Uint64([]byte(k[len(tTimer):]))
			case strings.HasPrefix(k, tSession), strings.HasPrefix(k, tTimers):
				contacts[k[2:]] = true
			case strings.HasPrefix(k, tOldTimerID), strings.HasPrefix(k, tOldContactTimer):
				t.Errorf("old timer index entry %q", k)
			}
		}
		it.Close()
		for c := range want {
			contacts[c] = true
		}
		for c := range contacts {
			l, _, err := readTimerList(txn, c)
			if err != nil {
				return err
			}
			if l.inF && l.inSession {
				if _, ts, _, _ := sessionOf(txn, c); len(ts) > 0 {
					t.Errorf("contact %s has a timer list in its session and in f/", c)
				}
			}
			for _, r := range l.ts {
				if r.wait != 0 {
					if l.wake == 0 || l.wake > max(r.due, 1) {
						t.Errorf("contact %s: wait %s due %d, wake at %d", c, r.id, r.due, l.wake)
					}
					continue
				}
				if got[c] == nil {
					got[c] = map[string]uint64{}
				}
				got[c][r.id] = r.due
			}
			if l.wake != 0 {
				listWakes[c] = l.wake
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("timer lists:\n%v\nwant\n%v", got, want)
	}
	if !reflect.DeepEqual(wakes, listWakes) {
		t.Errorf("wake entries %v, the lists say %v", wakes, listWakes)
	}
}

// sessionOf reads the head of a contact's s/ entry.
func sessionOf(txn *badger.Txn, c string) (seq uint64, ts contactTimers, sess []byte, err error) {
	err = getIn(txn, keySession(nil, c), func(v []byte) error {
		var l timerList
		seq, l, sess, err = splitSessionHead(v)
		ts, sess = l.ts, bytes.Clone(sess)
		return err
	})
	return seq, ts, sess, err
}

func TestContactTimers(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		ids := func(contact string) []string {
			t.Helper()
			ts, err := st.ContactTimers(bg, contact)
			if err != nil {
				t.Fatal(err)
			}
			for _, tm := range ts {
				if tm.Contact != contact {
					t.Errorf("ContactTimers(%s) returned %s of %s", contact, tm.ID, tm.Contact)
				}
			}
			return timerIDs(ts)
		}
		if got := ids("c1"); got != nil {
			t.Errorf("empty store: %v", got)
		}
		// c1's timers come from its batch's ContactID, from Contact.ID,
		// and from a batch for c2 that names c1.
		commit(t, st,
			&Batch{ContactID: "c1", Timers: []flows.Timer{{ID: "a3", Due: at(3)}, {ID: "a1", Due: at(1), Kind: flows.TimerWait, Seq: 4}}},
			&Batch{Contact: contact("c2", "shop", "x2"), Timers: []flows.Timer{{ID: "b2", Due: at(2)}, {ID: "a0", Contact: "c1", Due: at(0)}}},
			&Batch{ContactID: "c1", Timers: []flows.Timer{{ID: "a2", Due: at(1)}}})
		if got := ids("c1"); !reflect.DeepEqual(got, []string{"a0", "a1", "a2", "a3"}) {
			t.Errorf("c1: %v", got)
		}
		if got := ids("c2"); !reflect.DeepEqual(got, []string{"b2"}) {
			t.Errorf("c2: %v", got)
		}
		if got := ids("c"); got != nil {
			t.Errorf("a prefix of the IDs: %v", got)
		}
		ts, _ := st.ContactTimers(bg, "c1")
		if want := (flows.Timer{ID: "a1", Contact: "c1", Due: at(1), Kind: flows.TimerWait, Seq: 4}); !reflect.DeepEqual(ts[1], want) {
			t.Errorf("a1: %#v", ts[1])
		}
		checkTimerIndex(t, st)

		// Move a3 first, a1 last; cancel a0 and an unknown ID. b2 is c2's,
		// so a batch of c1 cannot cancel it.
		commit(t, st, &Batch{ContactID: "c1",
			CancelTimers: []string{"a0", "nope", "b2"},
			Timers:       []flows.Timer{{ID: "a3", Due: at(-1)}, {ID: "a1", Due: at(9)}}})
		if got := ids("c1"); !reflect.DeepEqual(got, []string{"a3", "a2", "a1"}) {
			t.Errorf("c1 after moves: %v", got)
		}
		if got := ids("c2"); !reflect.DeepEqual(got, []string{"b2"}) {
			t.Errorf("c2 after moves: %v", got)
		}
		checkTimerIndex(t, st)
		// Cancel and set b2 again in one batch.
		commit(t, st, &Batch{ContactID: "c2", CancelTimers: []string{"b2"}, Timers: []flows.Timer{{ID: "b2", Due: at(3)}}})
		if ts, _ := st.ContactTimers(bg, "c2"); len(ts) != 1 || !ts[0].Due.Equal(at(3)) {
			t.Errorf("c2 after cancelling and setting b2: %v", ts)
		}
		checkTimerIndex(t, st)

		// The same, with every due time read back from Badger.
		st.(*badgerStore).cache = newMetaCache(1)
		commit(t, st,
			&Batch{ContactID: "c2", CancelTimers: []string{"a3"}, Timers: []flows.Timer{{ID: "b2", Due: at(4)}}},
			&Batch{ContactID: "c1", CancelTimers: []string{"a3"}, Timers: []flows.Timer{{ID: "a1", Due: at(9)}, {ID: "a2", Due: at(5)}}})
		if got := ids("c1"); !reflect.DeepEqual(got, []string{"a2", "a1"}) {
			t.Errorf("c1 after uncached moves: %v", got)
		}
		if ts, _ := st.ContactTimers(bg, "c2"); len(ts) != 1 || !ts[0].Due.Equal(at(4)) {
			t.Errorf("c2 after uncached moves: %v", ts)
		}
		checkTimerIndex(t, st)

		commit(t, st, &Batch{ContactID: "c1", CancelTimers: []string{"a1", "a2"}}, &Batch{ContactID: "c2", CancelTimers: []string{"b2"}})
		if got := ids("c1"); got != nil {
			t.Errorf("c1 after cancelling all: %v", got)
		}
		if got := ids("c2"); got != nil {
			t.Errorf("c2 after cancelling all: %v", got)
		}
		checkTimerIndex(t, st)
	})
}

// TestContactTimersMany: a contact's timers are found among more than
// MaxDueTimers timers of others, all due earlier, and a contact with more
// than MaxDueTimers gets its earliest.
func TestContactTimersMany(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		var others, many []flows.Timer
		for i := range MaxDueTimers + 200 {
			others = append(others, flows.Timer{ID: fmt.Sprint("o", i), Contact: fmt.Sprint("other", i%7), Due: t0.Add(time.Duration(i) * time.Second)})
		}
		for i := range MaxDueTimers + 5 {
			// Inserted latest first.
			many = append(many, flows.Timer{ID: fmt.Sprintf("m%04d", i), Due: t0.Add(time.Duration(MaxDueTimers+5-i) * time.Hour)})
		}
		commit(t, st, &Batch{Timers: others},
			&Batch{ContactID: "me", Timers: []flows.Timer{{ID: "late", Due: t0.Add(48 * time.Hour)}, {ID: "soon", Due: t0.Add(24 * time.Hour)}}},
			&Batch{ContactID: "many", Timers: many})
		ts, err := st.ContactTimers(bg, "me")
		if err != nil || !reflect.DeepEqual(timerIDs(ts), []string{"soon", "late"}) {
			t.Errorf("me: %v %v", err, timerIDs(ts))
		}
		ts, err = st.ContactTimers(bg, "many")
		if err != nil || len(ts) != MaxDueTimers {
			t.Fatalf("many: %v, %d timers", err, len(ts))
		}
		if ts[0].ID != fmt.Sprintf("m%04d", MaxDueTimers+4) || ts[MaxDueTimers-1].ID != "m0005" {
			t.Errorf("many: from %s to %s", ts[0].ID, ts[MaxDueTimers-1].ID)
		}
		for i := 1; i < len(ts); i++ {
			if !ts[i-1].Due.Before(ts[i].Due) {
				t.Fatalf("many: %s before %s", ts[i-1].ID, ts[i].ID)
			}
		}
		if ts, _ := st.ContactTimers(bg, "other3"); len(ts) == 0 {
			t.Error("other3 has no timers")
		}
	})
}

func TestContactTimersReopen(t *testing.T) {
	st, dir := openOnDisk(t)
	commit(t, st,
		&Batch{ContactID: "c1", Timers: []flows.Timer{{ID: "t2", Due: t0.Add(2 * time.Hour)}, {ID: "t1", Due: t0.Add(time.Hour), Kind: flows.TimerWait, Seq: 3}}},
		&Batch{ContactID: "c2", Timers: []flows.Timer{{ID: "u1", Due: t0}}})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err := Open(dir, quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	ts, err := st.ContactTimers(bg, "c1")
	want := flows.Timer{ID: "t1", Contact: "c1", Due: t0.Add(time.Hour), Kind: flows.TimerWait, Seq: 3}
	if err != nil || len(ts) != 2 || !reflect.DeepEqual(ts[0], want) || ts[1].ID != "t2" {
		t.Errorf("c1 after reopen: %v %#v", err, ts)
	}
	// Moves and cancels find the old entries with an empty cache.
	commit(t, st, &Batch{ContactID: "c1", CancelTimers: []string{"t2"},
		Timers: []flows.Timer{{ID: "t1", Due: t0.Add(3 * time.Hour)}}},
		&Batch{ContactID: "c2", Timers: []flows.Timer{{ID: "u1", Due: t0.Add(5 * time.Hour)}}})
	if ts, _ := st.ContactTimers(bg, "c1"); !reflect.DeepEqual(timerIDs(ts), []string{"t1"}) || !ts[0].Due.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("c1 after moves: %v", ts)
	}
	if ts, _ := st.ContactTimers(bg, "c2"); len(ts) != 1 || !ts[0].Due.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("c2 after moves: %v", ts)
	}
	if ts, _ := st.DueTimers(bg, t0.Add(10*time.Hour), 0); !reflect.DeepEqual(timerIDs(ts), []string{"t1", "u1"}) {
		t.Errorf("due after moves: %v", timerIDs(ts))
	}
	checkTimerIndex(t, st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ContactTimers(bg, "c1"); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// TestLargeValues: a message and a session above the value threshold (4
// KiB, where the disk store sends values to its value log) are stored and
// read back, in memory as on disk.
func TestLargeValues(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		text := strings.Repeat("é", 3000)
		big := strings.Repeat("v", 200<<10)
		commit(t, st, &Batch{ContactID: "c", Session: &flows.Session{Seq: 1, Vars: map[string]any{"big": big}},
			Messages: []Message{msg(DirectionIn, text)}})
		if s, err := st.Session(bg, "c"); err != nil || s.Vars["big"] != big {
			t.Errorf("session: %v", err)
		}
		ms, _, err := st.Messages(bg, "c", MessageQuery{})
		if err != nil || len(ms) != 1 || ms[0].Content.Text != text {
			t.Errorf("messages: %v %d", err, len(ms))
		}
	})
}
