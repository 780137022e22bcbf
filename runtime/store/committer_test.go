package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// countingStore counts the transactions the committer asks for.
type countingStore struct {
	Store
	commits atomic.Int64
	batches atomic.Int64
	delay   time.Duration
}

func (c *countingStore) Commit(ctx context.Context, bs ...*Batch) error {
	c.commits.Add(1)
	c.batches.Add(int64(len(bs)))
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	return c.Store.Commit(ctx, bs...)
}

func TestCommitterConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		cs := &countingStore{Store: st}
		cm := NewCommitter(cs, 64, 2*time.Millisecond)
		const workers, steps = 40, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers*steps)
		for w := range workers {
			wg.Go(func() {
				// Each worker is one conversation: its steps are
				// sequential, as the runtime's shards make them.
				cid := fmt.Sprint("c", w)
				for i := range steps {
					b := &Batch{
						Contact:  contact(cid, "shop", "x"+cid),
						Session:  &flows.Session{Seq: uint64(i + 1)},
						Messages: []Message{msg(DirectionIn, fmt.Sprint("in", i)), msg(DirectionOut, fmt.Sprint("out", i))},
						Timers:   []flows.Timer{{ID: "t-" + cid, Due: t0.Add(time.Duration(i) * time.Second)}},
						DedupKey: fmt.Sprint(cid, ":", i),
					}
					if err := cm.Submit(bg, b); err != nil {
						errs <- err
						return
					}
					if b.Messages[1].Seq != uint64(2*i+2) {
						errs <- fmt.Errorf("%s step %d: Seq %d", cid, i, b.Messages[1].Seq)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if err := cm.Close(); err != nil {
			t.Fatal(err)
		}
		for w := range workers {
			cid := fmt.Sprint("c", w)
			ms, _, err := st.Messages(bg, cid, MessageQuery{Limit: MaxPage})
			if err != nil || !reflect.DeepEqual(seqs(ms), span(1, 2*steps)) {
				t.Fatalf("%s: %v %v", cid, err, seqs(ms))
			}
			for i, m := range ms {
				want := fmt.Sprint("in", i/2)
				if i%2 == 1 {
					want = fmt.Sprint("out", i/2)
				}
				if m.Content.Text != want {
					t.Fatalf("%s message %d is %q, want %q", cid, i+1, m.Content.Text, want)
				}
			}
			if s, err := st.Session(bg, cid); err != nil || s.Seq != steps {
				t.Fatalf("%s session: %v %v", cid, err, s)
			}
		}
		ts, _ := st.DueTimers(bg, t0.Add(time.Hour), MaxDueTimers)
		if len(ts) != workers {
			t.Errorf("%d timers, want one per conversation", len(ts))
		}
		n, b := cs.commits.Load(), cs.batches.Load()
		t.Logf("%d batches in %d transactions", b, n)
		if b != workers*steps || n >= b/2 {
			t.Errorf("%d batches in %d transactions: not grouped", b, n)
		}
	})
}

// TestCommitterIsolatesFailure: a batch that cannot be written fails alone;
// the batches it shared a transaction with are committed.
func TestCommitterIsolatesFailure(t *testing.T) {
	st, err := OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs := &countingStore{Store: st}
	cm := NewCommitter(cs, 64, 50*time.Millisecond)
	defer cm.Close()
	var wg sync.WaitGroup
	results := make([]error, 10)
	for i := range 10 {
		wg.Go(func() {
			b := &Batch{ContactID: fmt.Sprint("c", i), DedupKey: fmt.Sprint("d", i), Session: &flows.Session{}}
			if i == 3 {
				b.Session.Vars = map[string]any{"bad": struct{}{}}
			}
			results[i] = cm.Submit(bg, b)
		})
	}
	wg.Wait()
	for i, err := range results {
		if (i == 3) != (err != nil) {
			t.Errorf("batch %d: %v", i, err)
		}
		if seen, _ := st.Seen(bg, fmt.Sprint("d", i)); seen != (i != 3) {
			t.Errorf("batch %d committed: %v", i, seen)
		}
	}
	if !errors.Is(results[3], ErrInvalid) {
		t.Errorf("bad batch: %v", results[3])
	}
	// Invalid batches are refused before they join a transaction.
	if err := cm.Submit(bg, &Batch{Session: &flows.Session{}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid batch: %v", err)
	}
}

func TestCommitterContext(t *testing.T) {
	st, err := OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A slow store keeps the loop busy so that submitters wait.
	cs := &countingStore{Store: st, delay: 100 * time.Millisecond}
	cm := NewCommitter(cs, 1, 0)
	defer cm.Close()

	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := cm.Submit(ctx, &Batch{DedupKey: "a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	go cm.Submit(bg, &Batch{DedupKey: "busy"}) // occupies the loop
	time.Sleep(10 * time.Millisecond)
	ctx, cancel = context.WithTimeout(bg, 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := cm.Submit(ctx, &Batch{DedupKey: "late"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	if d := time.Since(start); d > 80*time.Millisecond {
		t.Errorf("Submit waited %v past its deadline", d)
	}
	// The loop skips the batch whose submitter gave up, if it had not
	// started it yet.
	time.Sleep(300 * time.Millisecond)
	if seen, _ := st.Seen(bg, "late"); seen {
		t.Log("late batch committed (it had been taken before the deadline)")
	}
}

func TestCommitterClose(t *testing.T) {
	st, err := OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs := &countingStore{Store: st, delay: time.Millisecond}
	cm := NewCommitter(cs, 8, time.Millisecond)
	var wg sync.WaitGroup
	var ok, closed atomic.Int64
	for i := range 200 {
		wg.Go(func() {
			err := cm.Submit(bg, &Batch{DedupKey: fmt.Sprint("k", i)})
			switch {
			case err == nil:
				ok.Add(1)
				if seen, _ := st.Seen(bg, fmt.Sprint("k", i)); !seen {
					t.Errorf("batch %d acknowledged but not committed", i)
				}
			case errors.Is(err, ErrClosed):
				closed.Add(1)
			default:
				t.Errorf("batch %d: %v", i, err)
			}
		})
	}
	time.Sleep(5 * time.Millisecond)
	if err := cm.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if ok.Load()+closed.Load() != 200 {
		t.Fatalf("%d ok + %d closed", ok.Load(), closed.Load())
	}
	t.Logf("%d committed, %d refused after Close", ok.Load(), closed.Load())
	if err := cm.Submit(bg, &Batch{DedupKey: "after"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Submit after Close: %v", err)
	}
	if err := cm.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
