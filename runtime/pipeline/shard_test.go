package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// TestOneJobPerContactAtATime: jobs for one contact never overlap, while
// jobs for other contacts run alongside them.
func TestOneJobPerContactAtATime(t *testing.T) {
	st := memStore(t)
	p := start(t, st, newClock(t0))
	const users, jobs = 6, 8
	ids := make([]string, users)
	for u := range ids {
		res := send(t, p, fmt.Sprintf("u%d", u), "", "hi")
		ids[u] = res.Contact.ID
	}
	active := make([]atomic.Int32, users)
	var all, most atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, users*jobs)
	for u := range ids {
		for range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := p.Do(context.Background(), ids[u], func(ctx context.Context, tx *pipeline.Tx) error {
					if n := active[u].Add(1); n != 1 {
						return fmt.Errorf("contact %d: %d jobs at once", u, n)
					}
					n := all.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					time.Sleep(2 * time.Millisecond)
					all.Add(-1)
					active[u].Add(-1)
					return nil
				})
				if err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	shards := map[int]bool{}
	for _, id := range ids {
		shards[pipeline.ShardOf(p, id)] = true
	}
	if len(shards) < 2 {
		t.Fatalf("the contacts share one shard: pick other senders")
	}
	if most.Load() < 2 {
		t.Fatalf("jobs of different contacts never ran at once")
	}
}

// hold keeps the contact's shard busy with a queued job until release is
// closed; done then reports the job's error.
func hold(t *testing.T, p *pipeline.Pipeline, contact string) (release chan struct{}, done chan error) {
	t.Helper()
	held := make(chan struct{})
	release, done = make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := p.Do(context.Background(), contact, func(ctx context.Context, tx *pipeline.Tx) error {
			close(held)
			<-release
			return nil
		})
		done <- err
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("the holding job did not start: %v", err)
	}
	return release, done
}

// closeWaiting starts Close and checks that it is still waiting a moment
// later, for a job that holds a shard; the channel gets Close's error.
func closeWaiting(t *testing.T, p *pipeline.Pipeline) chan error {
	t.Helper()
	closed := make(chan error, 1)
	go func() { closed <- p.Close(context.Background()) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned while a job still ran: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	return closed
}

// TestCallerGivesUpWaitingForTheShard: a message handled inline whose
// caller stops waiting while a queued job holds its contact is answered
// with the caller's error and never stored; the contact's next message goes
// on normally, inline or queued.
func TestCallerGivesUpWaitingForTheShard(t *testing.T) {
	st := memStore(t)
	p := start(t, st, newClock(t0))
	id := send(t, p, "u1", "m1", "hi").Contact.ID
	release, done := hold(t, p, id)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := p.HandleInline(ctx, pipeline.Inbound{Bot: "shop", Channel: "rest", Sender: "u1", ID: "m2", Content: flows.Content{Text: "4711"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past the caller's deadline: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	res, err := p.HandleInline(context.Background(), pipeline.Inbound{Bot: "shop", Channel: "rest", Sender: "u1", ID: "m3", Content: flows.Content{Text: "4712"}})
	if err != nil || len(res.Replies) != 1 || res.Replies[0].Content.Text != "Order 4712 is on its way." {
		t.Fatalf("next message: %v %+v", err, res)
	}
	if res := send(t, p, "u1", "m4", "hi"); len(res.Replies) != 1 || res.Replies[0].Content.Text != "Hi there! What's your order number?" {
		t.Fatalf("the one after: %s", texts(res.Replies))
	}
	msgs, _, _ := st.Messages(context.Background(), id, store.MessageQuery{})
	for _, m := range msgs {
		if m.Content.Text == "4711" {
			t.Fatalf("the abandoned message was stored: %s", texts(msgs))
		}
	}
}

// TestCloseFinishesTheJobsLetIn: Close waits for the job that holds a
// shard and for the one queued behind it, and refuses work after that,
// queued or inline.
func TestCloseFinishesTheJobsLetIn(t *testing.T) {
	st := memStore(t)
	p := start(t, st, newClock(t0))
	id := send(t, p, "u1", "m1", "hi").Contact.ID
	release, first := hold(t, p, id)
	second := make(chan *pipeline.Result, 1)
	go func() {
		res, err := p.Handle(context.Background(), pipeline.Inbound{Bot: "shop", Channel: "rest", Sender: "u1", ID: "m2", Content: flows.Content{Text: "4711"}})
		if err != nil {
			t.Error(err)
		}
		second <- res
	}()
	waitFor(t, "the second job to be queued", func() bool { return pipeline.Queued(p, id) == 1 })
	closed := closeWaiting(t, p)
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if res := <-second; res == nil || len(res.Replies) != 1 || res.Replies[0].Content.Text != "Order 4711 is on its way." {
		t.Fatalf("the queued job: %+v", res)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	msgs, _, _ := st.Messages(context.Background(), id, store.MessageQuery{})
	if got := texts(msgs); !strings.HasSuffix(got, "in:4711 | out:Order 4711 is on its way.") {
		t.Fatalf("stored: %s", got)
	}
	for _, handle := range []func(context.Context, pipeline.Inbound) (*pipeline.Result, error){p.Handle, p.HandleInline} {
		if _, err := handle(context.Background(), pipeline.Inbound{Bot: "shop", Channel: "rest", Sender: "u1", Content: flows.Content{Text: "hi"}}); !errors.Is(err, pipeline.ErrClosed) {
			t.Fatalf("after Close: %v", err)
		}
	}
}

// slowCommits is a store whose commits take a while.
type slowCommits struct {
	store.Store
	delay time.Duration
}

func (s slowCommits) Commit(ctx context.Context, bs ...*store.Batch) error {
	time.Sleep(s.delay)
	return s.Store.Commit(ctx, bs...)
}

// TestInlineStepOutlivesItsCallersDeadline: a message handled inline whose
// caller's deadline passes during the commit is still answered once the
// commit lands, and the contact's next message sees the step: the shard is
// not let go while the commit may still land.
func TestInlineStepOutlivesItsCallersDeadline(t *testing.T) {
	p := start(t, slowCommits{Store: memStore(t), delay: 100 * time.Millisecond}, newClock(t0))
	send(t, p, "u1", "m1", "hi")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	res, err := p.HandleInline(ctx, pipeline.Inbound{Bot: "shop", Channel: "rest", Sender: "u1", ID: "m2", Content: flows.Content{Text: "4711"}})
	if err != nil || len(res.Replies) != 1 || res.Replies[0].Content.Text != "Order 4711 is on its way." {
		t.Fatalf("a step that started: %v %+v", err, res)
	}
	if res := send(t, p, "u1", "m3", "hi"); len(res.Replies) != 1 || res.Replies[0].Content.Text != "Hi there! What's your order number?" {
		t.Fatalf("the next message: %s", texts(res.Replies))
	}
}

// TestCloseThatGaveUpGoesOn: a Close whose ctx ends while a job runs
// returns, the job still finishes, and a second Close waits for it.
func TestCloseThatGaveUpGoesOn(t *testing.T) {
	st := memStore(t)
	p := start(t, st, newClock(t0))
	id := send(t, p, "u1", "m1", "hi").Contact.ID
	release, first := hold(t, p, id)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close past its deadline: %v", err)
	}
	again := closeWaiting(t, p)
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-again; err != nil {
		t.Fatal(err)
	}
}

// TestCloseRefusesCallersWaitingOnAFullQueue: with a contact's shard held
// and its queue full, a caller waiting for room is refused when Close
// starts, and Close keeps to its deadline instead of waiting for the queue
// to drain; the jobs already queued still run, and a second Close waits
// for them.
func TestCloseRefusesCallersWaitingOnAFullQueue(t *testing.T) {
	st := memStore(t)
	p := start(t, st, newClock(t0))
	id := send(t, p, "u1", "m1", "hi").Contact.ID
	release, first := hold(t, p, id)
	queued := make(chan error, pipeline.QueueCap)
	for range pipeline.QueueCap {
		go func() {
			_, err := p.Do(context.Background(), id, func(ctx context.Context, tx *pipeline.Tx) error { return nil })
			queued <- err
		}()
	}
	waitFor(t, "the queue to fill", func() bool { return pipeline.Queued(p, id) == pipeline.QueueCap })
	waiting := make(chan error, 1)
	go func() {
		_, err := p.Handle(context.Background(), pipeline.Inbound{Bot: "shop", Channel: "rest", Sender: "u1", ID: "m2", Content: flows.Content{Text: "4711"}})
		waiting <- err
	}()
	select {
	case err := <-waiting:
		t.Fatalf("a message was let into a full queue: %v", err)
	case <-time.After(20 * time.Millisecond):
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- p.Close(ctx) }()
	select {
	case err := <-closed:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close past its deadline, a job still running: %v", err)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("Close waited on a caller blocked on the full queue, past its own deadline")
	}
	if err := <-waiting; !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("the caller waiting for room: %v", err)
	}
	again := closeWaiting(t, p)
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range pipeline.QueueCap {
		if err := <-queued; err != nil {
			t.Fatalf("a queued job: %v", err)
		}
	}
	if err := <-again; err != nil {
		t.Fatal(err)
	}
	msgs, _, _ := st.Messages(context.Background(), id, store.MessageQuery{})
	if got := texts(msgs); strings.Contains(got, "4711") {
		t.Fatalf("the refused message was stored: %s", got)
	}
}
