package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// Polls that found nothing must not hide what is written afterwards, nor
// what a poll's snapshot missed while commits raced it.
func TestDuePollsSeeLaterWrites(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		due := func(now time.Time) (timers, outbox int) {
			t.Helper()
			ts, err := st.DueTimers(bg, now, 0)
			if err != nil {
				t.Fatal(err)
			}
			ms, err := st.Outbox(bg, now, 0)
			if err != nil {
				t.Fatal(err)
			}
			return len(ts), len(ms)
		}
		if tn, on := due(at(0)); tn+on != 0 {
			t.Fatalf("empty store: %d timers, %d outbox", tn, on)
		}
		queued := func(id string, m int) Message {
			return Message{Direction: DirectionOut, Author: AuthorBot, Channel: "sms", Status: StatusQueued, Time: at(m), Content: flows.Content{Text: id}}
		}
		commit(t, st, &Batch{ContactID: "c1", Timers: []flows.Timer{{ID: "late", Due: at(10)}}, Messages: []Message{queued("late", 10)}})
		if tn, on := due(at(5)); tn+on != 0 {
			t.Fatalf("before anything is due: %d timers, %d outbox", tn, on)
		}
		// Written after polls that found the earliest due at +10m.
		commit(t, st, &Batch{ContactID: "c2", Timers: []flows.Timer{{ID: "early", Due: at(1)}}, Messages: []Message{queued("early", 1)}})
		if tn, on := due(at(5)); tn != 1 || on != 1 {
			t.Fatalf("the earlier entries written after the poll: %d timers, %d outbox, want 1 and 1", tn, on)
		}
		if tn, on := due(at(10)); tn != 2 || on != 2 {
			t.Fatalf("at +10m: %d timers, %d outbox, want 2 and 2", tn, on)
		}
	})
}

func TestDuePollsRacingCommits(t *testing.T) {
	st, err := OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n = 300
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := st.DueTimers(bg, t0, 0); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	// Each timer is due before the one written before it, so every poll's
	// hint is too late for the next write.
	for i := range n {
		commit(t, st, &Batch{ContactID: fmt.Sprint("c", i), Timers: []flows.Timer{{ID: fmt.Sprint("t", i), Due: t0.Add(-time.Duration(i) * time.Second)}}})
	}
	close(stop)
	wg.Wait()
	ts, err := st.DueTimers(bg, t0, MaxDueTimers)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != n {
		t.Fatalf("%d timers due after racing polls, want %d", len(ts), n)
	}
}
