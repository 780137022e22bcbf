package store

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// stepBatch is what one engine step of a typical conversation commits: the
// contact, the session, the user's message, two bot replies, and the LISTEN
// timeout timer, which replaces the one of the previous step (the engine
// names wait timers contact/w{seq}).
func stepBatch(cid string, round int) *Batch {
	now := t0.Add(time.Duration(round) * time.Second)
	timer := fmt.Sprintf("%s/w%d", cid, round)
	return &Batch{
		Contact: &flows.Contact{ID: cid, Bot: "shop", Channel: "telegram", ExternalID: "tg-" + cid, Name: "Ada",
			Attributes: map[string]any{"plan": "gold", "orders": 3}, CreatedAt: t0, UpdatedAt: now},
		Session: &flows.Session{Seq: uint64(round), Frames: []flows.Frame{{Skill: "/start", Block: 2}}, Started: true,
			Wait:    &flows.Wait{Kind: flows.WaitMessage, TimerID: timer, Due: now.Add(10 * time.Minute)},
			Vars:    map[string]any{"question": "where is my order?", "order_id": 123456, "total": 49.9, "vip": true, "city": "Zürich"},
			Offered: []flows.Offer{{Title: "Track my order", Target: "track"}, {Title: "Talk to a human", Payload: "HUMAN"}}},
		Messages: []Message{
			{ID: fmt.Sprint("in-", cid, round), Time: now, Direction: DirectionIn, Author: AuthorUser, Channel: "telegram",
				ExternalID: fmt.Sprint(round), Content: flows.Content{Text: "where is my order?"}},
			{ID: fmt.Sprint("out1-", cid, round), Time: now, Direction: DirectionOut, Author: AuthorBot, Channel: "telegram",
				Status: StatusQueued, Content: flows.Content{Text: "Let me check order 123456 for you."}},
			{ID: fmt.Sprint("out2-", cid, round), Time: now, Direction: DirectionOut, Author: AuthorBot, Channel: "telegram",
				Status: StatusQueued, Content: flows.Content{Text: "Anything else?", QuickReplies: []flows.Button{{Title: "Yes", Payload: "y"}, {Title: "No", Payload: "n"}}}},
		},
		CancelTimers: []string{fmt.Sprintf("%s/w%d", cid, round-1)},
		Timers:       []flows.Timer{{ID: timer, Contact: cid, Due: now.Add(10 * time.Minute), Kind: flows.TimerWait, Seq: uint64(round)}},
		DedupKey:     fmt.Sprint("telegram:", cid, ":", round),
	}
}

// BenchmarkCommit commits typical step batches on disk, one per transaction
// and 64 per transaction (what the Committer does under load), with and
// without SyncWrites. ns/msg and allocs/msg divide by the three messages of
// each batch; building the batches is outside the measurement.
func BenchmarkCommit(b *testing.B) {
	for _, sync := range []bool{false, true} {
		for _, perTxn := range []int{1, 64} {
			b.Run(fmt.Sprintf("sync=%v/batches=%d", sync, perTxn), func(b *testing.B) {
				benchCommit(b, sync, perTxn)
			})
		}
	}
}

func benchCommit(b *testing.B, sync bool, perTxn int) {
	opts := quietOptions()
	opts.SyncWrites = sync
	st, err := Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	// Rounds of batches are prepared ahead; conversations take turns, each
	// step of one replacing its previous timer.
	const contacts, rounds = 1000, 64
	prepared := make([][]*Batch, rounds)
	n := 0
	for r := range prepared {
		for range perTxn {
			prepared[r] = append(prepared[r], stepBatch(fmt.Sprint("c", n%contacts), n/contacts))
			n++
		}
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := st.Commit(bg, prepared[i%rounds]...); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	msgs := float64(b.N * perTxn * 3)
	b.ReportMetric(float64(elapsed.Nanoseconds())/msgs, "ns/msg")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/msgs, "allocs/msg")
	b.ReportMetric(float64(b.N*perTxn)/elapsed.Seconds(), "batches/s")
}

// BenchmarkContentEncoding compares the binary content codec the store uses
// with encoding/json, for a reply with quick replies.
func BenchmarkContentEncoding(b *testing.B) {
	c := &flows.Content{Text: "Anything else?", QuickReplies: []flows.Button{{Title: "Yes", Payload: "y"}, {Title: "No", Payload: "n"}}}
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 256)
		for b.Loop() {
			buf = flows.AppendContent(buf[:0], c)
			if _, err := flows.UnmarshalContent(buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(buf)), "bytes")
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			j, _ := json.Marshal(c)
			n = len(j)
			var out flows.Content
			if err := json.Unmarshal(j, &out); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n), "bytes")
	})
}

// BenchmarkRead reads back what a conversation needs at each step.
func BenchmarkRead(b *testing.B) {
	st, err := OpenInMemory()
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for i := range 100 {
		if err := st.Commit(bg, stepBatch("c1", i)); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("session", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.Session(bg, "c1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("messages-50", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ms, _, err := st.Messages(bg, "c1", MessageQuery{}); err != nil || len(ms) != 50 {
				b.Fatal(err)
			}
		}
	})
}
