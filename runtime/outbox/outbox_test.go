package outbox_test

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
	"github.com/switchboard-bots/switchboard/runtime/outbox"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func newClock() *clock { c := &clock{}; c.ns.Store(t0.UnixNano()); return c }

func memStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// queue stores a contact with n queued outbound messages on channel "test".
func queue(t *testing.T, st store.Store, contact string, texts ...string) {
	t.Helper()
	b := &store.Batch{Contact: &flows.Contact{ID: contact, Bot: "b", Channel: "test", ExternalID: contact}}
	for _, tx := range texts {
		b.Messages = append(b.Messages, store.Message{
			Time: t0, Direction: store.DirectionOut, Author: store.AuthorBot, Channel: "test",
			Status: store.StatusQueued, Content: flows.Content{Text: tx},
		})
	}
	if err := st.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func messages(t *testing.T, st store.Store, contact string) []store.Message {
	t.Helper()
	ms, _, err := st.Messages(context.Background(), contact, store.MessageQuery{After: "0"})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// waitFor polls cond until it holds or 5s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func start(t *testing.T, cfg outbox.Config, s outbox.Sender) *outbox.Dispatcher {
	t.Helper()
	if s != nil {
		cfg.Senders = map[string]outbox.Sender{"test": s}
	}
	if cfg.Poll == 0 {
		cfg.Poll = 5 * time.Millisecond
	}
	d := outbox.New(cfg)
	t.Cleanup(func() { d.Close(context.Background()) })
	return d
}

func waitStatus(t *testing.T, st store.Store, contact, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := status(t, st, contact)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status:\n got  %s\n want %s", got, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func status(t *testing.T, st store.Store, contact string) string {
	var out []string
	for _, m := range messages(t, st, contact) {
		out = append(out, fmt.Sprintf("%s/%s/%d/%s/%s", m.Content.Text, m.Status, m.Attempts, m.ExternalID, m.Error))
	}
	return strings.Join(out, " ")
}

func TestSendSuccess(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1", "one", "two")
	var mu sync.Mutex
	var got []string
	d := start(t, outbox.Config{Store: st}, outbox.SenderFunc(func(ctx context.Context, c *flows.Contact, m store.Message) (string, error) {
		if c.ID != "c1" || c.ExternalID != "c1" {
			return "", outbox.Final(fmt.Errorf("wrong contact %+v", c))
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, m.Content.Text)
		return "x-" + m.Content.Text, nil
	}))
	d.Notify()
	want := "one/sent/1/x-one/ two/sent/1/x-two/"
	waitStatus(t, st, "c1", want)
	ms := messages(t, st, "c1")
	found, err := st.MessageByExternal(context.Background(), "test", "x-two")
	if err != nil || found.Seq != ms[1].Seq {
		t.Fatalf("by external id: %+v %v", found, err)
	}
	if due, _ := st.Outbox(context.Background(), t0.Add(time.Hour), 0); len(due) != 0 {
		t.Fatalf("still in the outbox: %+v", due)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("sends: %v", got)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1", "hello")
	clk := newClock()
	var calls atomic.Int32
	d := start(t, outbox.Config{Store: st, Now: clk.now, Backoff: time.Second, MaxBackoff: time.Minute}, outbox.SenderFunc(func(ctx context.Context, c *flows.Contact, m store.Message) (string, error) {
		if calls.Add(1) < 3 {
			return "", errors.New("provider down")
		}
		return "ok", nil
	}))
	d.Notify()
	// A leased message looks the same, but is due much later.
	waitRetry := func(want string) time.Duration {
		t.Helper()
		waitFor(t, want, func() bool {
			ms := messages(t, st, "c1")
			m := ms[0]
			got := fmt.Sprintf("%s/%s/%d/%s/%s", m.Content.Text, m.Status, m.Attempts, m.ExternalID, m.Error)
			return got == want && m.NextAttempt.Sub(clk.now()) < 10*time.Second
		})
		return messages(t, st, "c1")[0].NextAttempt.Sub(clk.now())
	}
	// Backoff after the first failure: between 0.5s and 1s.
	if wait := waitRetry("hello/queued/1//provider down"); wait < 500*time.Millisecond || wait > time.Second {
		t.Fatalf("next attempt in %v", wait)
	}
	time.Sleep(20 * time.Millisecond)
	if calls.Load() != 1 {
		t.Fatalf("retried before its time: %d calls", calls.Load())
	}
	clk.add(time.Second)
	if wait := waitRetry("hello/queued/2//provider down"); wait < time.Second || wait > 2*time.Second {
		t.Fatalf("second backoff %v", wait)
	}
	clk.add(2 * time.Second)
	// The last error is kept after the success.
	waitStatus(t, st, "c1", "hello/sent/3/ok/provider down")
}

func TestRetryAfterIsHonoured(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1", "hello")
	clk := newClock()
	d := start(t, outbox.Config{Store: st, Now: clk.now}, outbox.SenderFunc(func(ctx context.Context, c *flows.Contact, m store.Message) (string, error) {
		return "", outbox.Retry(errors.New("rate limited"), time.Hour)
	}))
	d.Notify()
	waitStatus(t, st, "c1", "hello/queued/1//rate limited")
	if next := messages(t, st, "c1")[0].NextAttempt; !next.Equal(t0.Add(time.Hour)) {
		t.Fatalf("next attempt %v", next)
	}
}

func TestFinalErrorFails(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1", "hello")
	var calls atomic.Int32
	d := start(t, outbox.Config{Store: st}, outbox.SenderFunc(func(ctx context.Context, c *flows.Contact, m store.Message) (string, error) {
		calls.Add(1)
		return "", fmt.Errorf("wrapped: %w", outbox.Final(errors.New("user blocked the bot")))
	}))
	d.Notify()
	waitStatus(t, st, "c1", "hello/failed/1//wrapped: user blocked the bot")
	time.Sleep(30 * time.Millisecond)
	if calls.Load() != 1 {
		t.Fatalf("a final error was retried: %d calls", calls.Load())
	}
}

func TestMaxAttempts(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1", "hello")
	var calls atomic.Int32
	d := start(t, outbox.Config{Store: st, MaxAttempts: 3, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}, outbox.SenderFunc(func(ctx context.Context, c *flows.Contact, m store.Message) (string, error) {
		calls.Add(1)
		return "", errors.New("timeout")
	}))
	d.Notify()
	waitStatus(t, st, "c1", "hello/failed/3//gave up after 3 attempts: timeout")
	time.Sleep(30 * time.Millisecond)
	if calls.Load() != 3 {
		t.Fatalf("%d calls, want 3", calls.Load())
	}
}

func TestUnknownChannelIsRetriedThenFailed(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1", "hello")
	d := start(t, outbox.Config{Store: st, MaxAttempts: 2, Backoff: time.Millisecond, MaxBackoff: time.Millisecond}, nil)
	d.Notify()
	waitStatus(t, st, "c1", `hello/failed/2//gave up after 2 attempts: no sender for channel "test"`)
}

// A message being sent is leased: neither the loop itself (woken many
// times) nor a second dispatcher on the same store sends it again.
func TestLeasePreventsDoubleSend(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1", "hello")
	release := make(chan struct{})
	var calls atomic.Int32
	slow := outbox.SenderFunc(func(ctx context.Context, c *flows.Contact, m store.Message) (string, error) {
		calls.Add(1)
		select {
		case <-release:
			return "ok", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
	d1 := start(t, outbox.Config{Store: st, Poll: time.Millisecond}, slow)
	d1.Notify()
	waitFor(t, "first send", func() bool { return calls.Load() == 1 })
	d2 := start(t, outbox.Config{Store: st, Poll: time.Millisecond}, nil)
	d2.Register("test", slow)
	for range 20 {
		d1.Notify()
		d2.Notify()
		time.Sleep(time.Millisecond)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("sent %d times while leased", n)
	}
	ms := messages(t, st, "c1")
	if ms[0].Status != store.StatusQueued || ms[0].Attempts != 1 || !ms[0].NextAttempt.After(time.Now().Add(10*time.Second)) {
		t.Fatalf("lease not recorded: %+v", ms[0])
	}
	close(release)
	waitStatus(t, st, "c1", "hello/sent/1/ok/")
	time.Sleep(20 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Fatalf("sent %d times", n)
	}
}

func TestSendTimeout(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1", "hello")
	d := start(t, outbox.Config{Store: st, SendTimeout: 20 * time.Millisecond, Backoff: time.Hour}, outbox.SenderFunc(func(ctx context.Context, c *flows.Contact, m store.Message) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}))
	d.Notify()
	waitStatus(t, st, "c1", "hello/queued/1//context deadline exceeded")
}

func TestCloseStopsLoopAndSends(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1", "hello")
	started := make(chan struct{})
	d := outbox.New(outbox.Config{Store: st, Poll: time.Millisecond, Senders: map[string]outbox.Sender{
		"test": outbox.SenderFunc(func(ctx context.Context, c *flows.Contact, m store.Message) (string, error) {
			close(started)
			<-ctx.Done() // a send that never finishes on its own
			return "", ctx.Err()
		}),
	}})
	d.Notify()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	begin := time.Now()
	if err := d.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("close: %v", err)
	}
	if time.Since(begin) > 2*time.Second {
		t.Fatal("close waited for the send")
	}
	// The interrupted send is queued again, not lost.
	if got := status(t, st, "c1"); got != "hello/queued/1//context canceled" {
		t.Fatalf("after close: %s", got)
	}
	if err := d.Close(context.Background()); err != nil {
		t.Fatalf("second close: %v", err)
	}
	d.Notify() // harmless after Close
	queue(t, st, "c2", "later")
	time.Sleep(20 * time.Millisecond)
	if got := status(t, st, "c2"); got != "later/queued/0//" {
		t.Fatalf("sent after close: %s", got)
	}
}

func TestPanickingSenderIsRetried(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1", "hello")
	d := start(t, outbox.Config{Store: st, Backoff: time.Hour}, outbox.SenderFunc(func(ctx context.Context, c *flows.Contact, m store.Message) (string, error) {
		panic("boom")
	}))
	d.Notify()
	waitStatus(t, st, "c1", "hello/queued/1//sender panicked: boom")
}

func TestManyMessages(t *testing.T) {
	st := memStore(t)
	for i := range 50 {
		queue(t, st, fmt.Sprintf("c%d", i), "a", "b", "c")
	}
	var mu sync.Mutex
	seen := map[string]int{}
	d := start(t, outbox.Config{Store: st, Batch: 16, Workers: 4}, outbox.SenderFunc(func(ctx context.Context, c *flows.Contact, m store.Message) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		seen[fmt.Sprint(m.Contact, m.Seq)]++
		return "", nil
	}))
	d.Notify()
	waitFor(t, "all sent", func() bool {
		due, _ := st.Outbox(context.Background(), time.Now().Add(time.Hour), 0)
		return len(due) == 0
	})
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 150 {
		t.Fatalf("%d messages sent", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s sent %d times", k, n)
		}
	}
}

func TestDepth(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1", "a", "b")
	d := start(t, outbox.Config{Store: st, Poll: time.Hour}, nil)
	d.Close(context.Background())
	if n, err := d.Depth(context.Background()); n != 2 || err != nil {
		t.Fatalf("depth %d %v", n, err)
	}
}

// commitLeased stores a step's queued replies the way the pipeline does
// for a dispatcher that takes them at commit, and returns them as stored.
func commitLeased(t *testing.T, st store.Store, d *outbox.Dispatcher, now time.Time, c *flows.Contact, texts ...string) []store.Message {
	t.Helper()
	b := &store.Batch{ContactID: c.ID}
	for _, tx := range texts {
		b.Messages = append(b.Messages, store.Message{
			Time: now, Direction: store.DirectionOut, Author: store.AuthorBot, Channel: "test",
			Status: store.StatusQueued, Content: flows.Content{Text: tx}, NextAttempt: d.Lease(now),
		})
	}
	if err := st.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b.Messages
}

// recorder is a Sender that keeps the texts it sent, per contact, and can
// be held back.
type recorder struct {
	mu   sync.Mutex
	sent map[string][]string
	gate chan struct{} // when set, each send waits for a value
}

func (r *recorder) Send(ctx context.Context, c *flows.Contact, m store.Message) (string, error) {
	if r.gate != nil {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sent == nil {
		r.sent = map[string][]string{}
	}
	r.sent[c.ID] = append(r.sent[c.ID], m.Content.Text)
	return "x-" + m.Content.Text, nil
}

func (r *recorder) texts(contact string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.sent[contact], " ")
}

// Replies handed over at commit are sent without the outbox being read,
// each conversation's in order, steps after steps.
func TestOfferSendsAtCommitInOrder(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1")
	queue(t, st, "c2")
	rec := &recorder{}
	d := start(t, outbox.Config{Store: st, Poll: time.Hour, Workers: 4}, rec)
	c1 := &flows.Contact{ID: "c1", Bot: "b", Channel: "test", ExternalID: "c1"}
	c2 := &flows.Contact{ID: "c2", Bot: "b", Channel: "test", ExternalID: "c2"}
	var want1, want2 []string
	for step := range 20 {
		a, b := fmt.Sprintf("a%d", step), fmt.Sprintf("b%d", step)
		d.Offer(c1, commitLeased(t, st, d, time.Now(), c1, a, b))
		d.Offer(c2, commitLeased(t, st, d, time.Now(), c2, a))
		want1 = append(want1, a, b)
		want2 = append(want2, a)
	}
	waitFor(t, "all sent", func() bool {
		return rec.texts("c1") == strings.Join(want1, " ") && rec.texts("c2") == strings.Join(want2, " ")
	})
	waitFor(t, "outcomes recorded", func() bool {
		for _, m := range messages(t, st, "c1") {
			if m.Status != store.StatusSent || m.Attempts != 1 || m.ExternalID != "x-"+m.Content.Text {
				return false
			}
		}
		return true
	})
	if due, _ := st.Outbox(context.Background(), time.Now().Add(time.Hour), 0); len(due) != 0 {
		t.Fatalf("still in the outbox: %d", len(due))
	}
}

// A reply to be retried holds back the ones behind it, which then go out
// after it, in order.
func TestOfferRetryKeepsOrder(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1")
	clk := newClock()
	var calls atomic.Int32
	var mu sync.Mutex
	var got []string
	d := start(t, outbox.Config{Store: st, Now: clk.now, Backoff: time.Second}, outbox.SenderFunc(func(ctx context.Context, c *flows.Contact, m store.Message) (string, error) {
		if calls.Add(1) == 1 {
			return "", errors.New("provider down")
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, m.Content.Text)
		return "ok", nil
	}))
	c1 := &flows.Contact{ID: "c1", Bot: "b", Channel: "test", ExternalID: "c1"}
	d.Offer(c1, commitLeased(t, st, d, clk.now(), c1, "one", "two", "three"))
	waitFor(t, "the retry recorded", func() bool {
		return status(t, st, "c1") == "one/queued/1//provider down two/queued/0// three/queued/0//"
	})
	ms := messages(t, st, "c1")
	if !ms[1].NextAttempt.Equal(ms[0].NextAttempt) || !ms[2].NextAttempt.Equal(ms[0].NextAttempt) || ms[0].NextAttempt.After(clk.now().Add(time.Second)) {
		t.Fatalf("the ones behind are not due with the first: %v %v %v", ms[0].NextAttempt, ms[1].NextAttempt, ms[2].NextAttempt)
	}
	clk.add(time.Second)
	d.Notify()
	waitStatus(t, st, "c1", "one/sent/2/ok/provider down two/sent/1/ok/ three/sent/1/ok/")
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, " ") != "one two three" {
		t.Fatalf("order: %v", got)
	}
}

// Stored leased but never handed over (the process stopped at the
// commit): the replies are not sent during the lease, and are sent once it
// runs out.
func TestLeasedRepliesAreSentAfterTheLease(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1")
	clk := newClock()
	rec := &recorder{}
	d := start(t, outbox.Config{Store: st, Now: clk.now, Lease: time.Minute}, rec)
	c1 := &flows.Contact{ID: "c1", Bot: "b", Channel: "test", ExternalID: "c1"}
	commitLeased(t, st, d, clk.now(), c1, "one", "two")
	d.Notify()
	time.Sleep(30 * time.Millisecond)
	if got := rec.texts("c1"); got != "" {
		t.Fatalf("sent during the lease: %s", got)
	}
	clk.add(time.Minute)
	d.Notify()
	waitStatus(t, st, "c1", "one/sent/1/x-one/ two/sent/1/x-two/")
	if got := rec.texts("c1"); got != "one two" {
		t.Fatalf("sent %q", got)
	}
}

// Closing with replies in hand puts the unsent ones back in the outbox for
// the next start: the one whose send was cut off due after its backoff,
// the ones behind it with it, another conversation's at once.
func TestClosePutsBackRepliesInHand(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1")
	rec := &recorder{gate: make(chan struct{})}
	queue(t, st, "c2")
	d := outbox.New(outbox.Config{Store: st, Poll: time.Hour, Workers: 1, Senders: map[string]outbox.Sender{"test": rec}})
	c1 := &flows.Contact{ID: "c1", Bot: "b", Channel: "test", ExternalID: "c1"}
	c2 := &flows.Contact{ID: "c2", Bot: "b", Channel: "test", ExternalID: "c2"}
	d.Offer(c1, commitLeased(t, st, d, time.Now(), c1, "one", "two", "three"))
	rec.gate <- struct{}{} // "one" goes
	waitStatus(t, st, "c1", "one/sent/1/x-one/ two/queued/0// three/queued/0//")
	d.Offer(c1, commitLeased(t, st, d, time.Now(), c1, "four"))
	d.Offer(c2, commitLeased(t, st, d, time.Now(), c2, "other"))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	d.Close(ctx) // "two" is being sent, held at the gate: cancelled
	if got := status(t, st, "c1"); got != "one/sent/1/x-one/ two/queued/1//context canceled three/queued/0// four/queued/0//" {
		t.Fatalf("after close: %s", got)
	}
	due, err := st.Outbox(context.Background(), time.Now(), 0)
	if err != nil || len(due) != 1 || due[0].Content.Text != "other" {
		t.Fatalf("due at once after close: %+v %v", due, err)
	}
	if due, _ := st.Outbox(context.Background(), time.Now().Add(time.Second), 0); len(due) != 4 {
		t.Fatalf("due within the backoff after close: %d", len(due))
	}
	rec.gate = nil
	d2 := start(t, outbox.Config{Store: st}, rec)
	d2.Notify()
	waitStatus(t, st, "c1", "one/sent/1/x-one/ two/sent/2/x-two/context canceled three/sent/1/x-three/ four/sent/1/x-four/")
	waitStatus(t, st, "c2", "other/sent/1/x-other/")
	if got := rec.texts("c1"); got != "one two three four" {
		t.Fatalf("order: %s", got)
	}
}

// Offered without the contact (a step that left none), the replies are
// sent with the contact read from the store.
func TestOfferWithoutContact(t *testing.T) {
	st := memStore(t)
	queue(t, st, "c1")
	rec := &recorder{}
	d := start(t, outbox.Config{Store: st, Poll: time.Hour}, rec)
	c1 := &flows.Contact{ID: "c1", Bot: "b", Channel: "test", ExternalID: "c1"}
	d.Offer(nil, commitLeased(t, st, d, time.Now(), c1, "one", "two"))
	waitStatus(t, st, "c1", "one/sent/1/x-one/ two/sent/1/x-two/")
	if got := rec.texts("c1"); got != "one two" {
		t.Fatalf("sent %q", got)
	}
}
