package pipeline_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

const botSrc = `
id: shop
skills:
  /start:
    - text: "Hi {{ contact.name ?? 'there' }}! What's your order number?"
    - listen: order
      timeout: 10m
      on_timeout: nudge
    - text: "Order {{ order }} is on its way."
  nudge:
    - text: Still there?
  /default:
    - goto: /start
`

// clock is a settable time source shared by the pipeline and the test.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }
func newClock(t time.Time) *clock    { c := &clock{}; c.set(t); return c }
func bots(t *testing.T) map[string]*flows.Bot {
	t.Helper()
	bot, ds := flows.Load("shop.yaml", []byte(botSrc))
	if bot == nil {
		t.Fatal(ds)
	}
	return map[string]*flows.Bot{bot.ID: bot}
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func start(t *testing.T, st store.Store, clk *clock) *pipeline.Pipeline {
	t.Helper()
	p := pipeline.New(pipeline.Config{Store: st, Engine: engine.New(nil), Shards: 8, TimerPoll: 5 * time.Millisecond, Now: clk.now})
	p.SetBots(bots(t))
	p.Start()
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func memStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func texts(ms []store.Message) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Direction+":"+m.Content.Text)
	}
	return strings.Join(out, " | ")
}

func send(t *testing.T, p *pipeline.Pipeline, sender, id, text string) *pipeline.Result {
	t.Helper()
	res, err := p.Handle(context.Background(), pipeline.Inbound{Bot: "shop", Channel: "rest", Sender: sender, ID: id, Content: flows.Content{Text: text}, Replied: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestConversationIsStoredAndContinues(t *testing.T) {
	st := memStore(t)
	p := start(t, st, newClock(t0))
	res := send(t, p, "u1", "", "hi")
	if got := texts(res.Replies); got != "out:Hi there! What's your order number?" {
		t.Fatalf("replies: %s", got)
	}
	res = send(t, p, "u1", "", "12345")
	if got := texts(res.Replies); got != "out:Order 12345 is on its way." {
		t.Fatalf("replies: %s", got)
	}
	id := pipeline.ContactID("shop", "rest", "u1")
	msgs, _, err := st.Messages(context.Background(), id, store.MessageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := "in:hi | out:Hi there! What's your order number? | in:12345 | out:Order 12345 is on its way."
	if got := texts(msgs); got != want {
		t.Fatalf("stored: %s", got)
	}
	for _, m := range msgs {
		if m.Direction == store.DirectionOut && m.Status != store.StatusSent {
			t.Fatalf("a reply delivered in the answer is stored as %q", m.Status)
		}
	}
	c, err := st.Contact(context.Background(), id)
	if err != nil || c.Bot != "shop" || c.Channel != "rest" || c.ExternalID != "u1" {
		t.Fatalf("contact %+v %v", c, err)
	}
}

func TestDuplicateMessagesAreHandledOnce(t *testing.T) {
	st := memStore(t)
	p := start(t, st, newClock(t0))
	send(t, p, "u1", "m1", "hi")
	if res := send(t, p, "u1", "m1", "hi"); !res.Duplicate || len(res.Replies) != 0 {
		t.Fatalf("second delivery: %+v", res)
	}
	msgs, _, _ := st.Messages(context.Background(), pipeline.ContactID("shop", "rest", "u1"), store.MessageQuery{})
	if len(msgs) != 2 {
		t.Fatalf("stored %d messages: %s", len(msgs), texts(msgs))
	}
}

// TestConversationsRunInParallelInOrder: many conversations at once, each
// in order; run with -race.
func TestConversationsRunInParallelInOrder(t *testing.T) {
	st := memStore(t)
	p := start(t, st, newClock(t0))
	const users, rounds = 40, 6
	var wg sync.WaitGroup
	errs := make(chan error, users)
	for u := 0; u < users; u++ {
		wg.Add(1)
		go func(u int) {
			defer wg.Done()
			sender := fmt.Sprintf("u%d", u)
			for r := 0; r < rounds; r++ {
				text := "hi"
				if r%2 == 1 {
					text = fmt.Sprintf("%d", 10000+u*100+r)
				}
				res, err := p.Handle(context.Background(), pipeline.Inbound{Bot: "shop", Channel: "rest", Sender: sender, ID: fmt.Sprintf("%s-%d", sender, r), Content: flows.Content{Text: text}})
				if err != nil {
					errs <- err
					return
				}
				want := "Hi there! What's your order number?"
				if r%2 == 1 {
					want = "Order " + text + " is on its way."
				}
				if len(res.Replies) != 1 || res.Replies[0].Content.Text != want {
					errs <- fmt.Errorf("%s round %d: %s", sender, r, texts(res.Replies))
					return
				}
			}
		}(u)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for u := 0; u < users; u++ {
		msgs, _, _ := st.Messages(context.Background(), pipeline.ContactID("shop", "rest", fmt.Sprintf("u%d", u)), store.MessageQuery{})
		if len(msgs) != 2*rounds {
			t.Fatalf("u%d: %d messages", u, len(msgs))
		}
		for i, m := range msgs {
			if (i%2 == 0) != (m.Direction == store.DirectionIn) {
				t.Fatalf("u%d out of order: %s", u, texts(msgs))
			}
		}
	}
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func lastText(st store.Store, contact string) string {
	msgs, _, _ := st.Messages(context.Background(), contact, store.MessageQuery{})
	if len(msgs) == 0 {
		return ""
	}
	return msgs[len(msgs)-1].Content.Text
}

func TestTimersFire(t *testing.T) {
	st := memStore(t)
	clk := newClock(t0)
	p := start(t, st, clk)
	send(t, p, "u1", "", "hi")
	id := pipeline.ContactID("shop", "rest", "u1")
	clk.add(11 * time.Minute)
	waitFor(t, "the timeout's message", func() bool { return lastText(st, id) == "Still there?" })
	msgs, _, _ := st.Messages(context.Background(), id, store.MessageQuery{})
	if last := msgs[len(msgs)-1]; last.Status != store.StatusQueued {
		t.Fatalf("a timer's message is %q, want queued for the outbox", last.Status)
	}
	if ts, _ := st.DueTimers(context.Background(), clk.now().Add(time.Hour), 10); len(ts) != 0 {
		t.Fatalf("fired timer still stored: %+v", ts)
	}
}

// TestTimeoutAfterAnAnsweredQuestion: the answer to a question with a
// timeout starts the next question's. The first timeout's time comes and
// goes without a nudge; the second nudges when it is due.
func TestTimeoutAfterAnAnsweredQuestion(t *testing.T) {
	const src = `
id: quiz
skills:
  /start:
    - text: Question one?
    - listen: a
      timeout: 10m
      on_timeout: nudge
    - text: Question two?
    - listen: b
      timeout: 10m
      on_timeout: nudge
  nudge:
    - text: Still there?
`
	bot, ds := flows.Load("quiz.yaml", []byte(src))
	if bot == nil {
		t.Fatal(ds)
	}
	st := memStore(t)
	clk := newClock(t0)
	p := pipeline.New(pipeline.Config{Store: st, Engine: engine.New(nil), Shards: 2, TimerPoll: 5 * time.Millisecond, Now: clk.now})
	p.SetBots(map[string]*flows.Bot{bot.ID: bot})
	p.Start()
	t.Cleanup(func() { p.Close(context.Background()) })
	say := func(text string) {
		t.Helper()
		if _, err := p.Handle(context.Background(), pipeline.Inbound{Bot: "quiz", Channel: "rest", Sender: "u1", Content: flows.Content{Text: text}, Replied: true}); err != nil {
			t.Fatal(err)
		}
	}
	id := pipeline.ContactID("quiz", "rest", "u1")
	say("hi")
	clk.add(5 * time.Minute)
	say("one")
	if got := lastText(st, id); got != "Question two?" {
		t.Fatalf("after the first answer: %q", got)
	}
	// The first question's timeout would be due now.
	clk.add(6 * time.Minute)
	waitFor(t, "nothing due at +11m", func() bool {
		ts, err := st.DueTimers(context.Background(), clk.now(), 10)
		return err == nil && len(ts) == 0
	})
	if got := lastText(st, id); got != "Question two?" {
		t.Fatalf("at +11m, with the second question's timeout at +15m: %q", got)
	}
	clk.add(5 * time.Minute)
	waitFor(t, "the second timeout's nudge", func() bool { return lastText(st, id) == "Still there?" })
}

// TestTimersFireAfterRestart: a timer set before a shutdown fires after the
// pipeline and the store start again.
func TestTimersFireAfterRestart(t *testing.T) {
	dir := t.TempDir()
	clk := newClock(t0)
	st, err := store.Open(dir, store.Options{GCInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	p := pipeline.New(pipeline.Config{Store: st, Engine: engine.New(nil), Shards: 2, TimerPoll: 5 * time.Millisecond, Now: clk.now})
	p.SetBots(bots(t))
	p.Start()
	send(t, p, "u1", "", "hi")
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.Close()

	clk.add(time.Hour)
	st2, err := store.Open(dir, store.Options{GCInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	start(t, st2, clk)
	id := pipeline.ContactID("shop", "rest", "u1")
	waitFor(t, "the timeout's message after restart", func() bool { return lastText(st2, id) == "Still there?" })
}

func TestBannedContactIsStoredButNotAnswered(t *testing.T) {
	st := memStore(t)
	p := start(t, st, newClock(t0))
	send(t, p, "u1", "", "hi")
	id := pipeline.ContactID("shop", "rest", "u1")
	c, _ := st.Contact(context.Background(), id)
	c.Banned = true
	if err := st.Commit(context.Background(), &store.Batch{Contact: c}); err != nil {
		t.Fatal(err)
	}
	// A new pipeline reads the contact afresh (the running one caches it;
	// banning through the API goes through the contact's shard).
	p2 := start(t, st, newClock(t0))
	res := send(t, p2, "u1", "", "12345")
	if len(res.Replies) != 0 {
		t.Fatalf("a banned contact got %s", texts(res.Replies))
	}
	if got := lastText(st, id); got != "12345" {
		t.Fatalf("the banned contact's message was not stored: last %q", got)
	}
}

func TestUnknownBotAndClosedPipeline(t *testing.T) {
	st := memStore(t)
	p := start(t, st, newClock(t0))
	if _, err := p.Handle(context.Background(), pipeline.Inbound{Bot: "nope", Channel: "rest", Sender: "u"}); err == nil {
		t.Fatal("unknown bot accepted")
	}
	p.Close(context.Background())
	if _, err := p.Handle(context.Background(), pipeline.Inbound{Bot: "shop", Channel: "rest", Sender: "u"}); err != pipeline.ErrClosed {
		t.Fatalf("after close: %v", err)
	}
}

// TestEventFromANewVisitor: a channel event (a page visit) from someone
// who never wrote makes them a contact and runs the bot, storing no message
// of theirs.
func TestEventFromANewVisitor(t *testing.T) {
	st := memStore(t)
	p := start(t, st, newClock(t0))
	res, err := p.Handle(context.Background(), pipeline.Inbound{Bot: "shop", Channel: "webchat", Sender: "v1",
		Event: &flows.Event{Kind: flows.EventNamed, Name: "page_visit", Data: map[string]any{"url": "/pricing"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Contact == nil || res.Contact.ExternalID != "v1" {
		t.Fatalf("contact: %+v", res.Contact)
	}
	msgs, _, _ := st.Messages(context.Background(), res.Contact.ID, store.MessageQuery{})
	for _, m := range msgs {
		if m.Direction == store.DirectionIn {
			t.Fatalf("an event was stored as a message: %s", texts(msgs))
		}
	}
}

// breakingHook makes the commit of any step whose message is "break" fail.
type breakingHook struct{}

func (breakingHook) Before(context.Context, *pipeline.Tx) error { return nil }
func (breakingHook) After(_ context.Context, tx *pipeline.Tx) error {
	if tx.Inbound != nil && tx.Inbound.Content.Text == "break" {
		tx.Batch.Messages = append(tx.Batch.Messages, store.Message{Direction: "sideways"})
	}
	return nil
}

// TestFailedCommitLeavesTheConversationAsStored: a step whose commit
// fails leaves nothing behind, not even in the pipeline's memory: the
// next message continues from the stored session.
func TestFailedCommitLeavesTheConversationAsStored(t *testing.T) {
	st := memStore(t)
	p := pipeline.New(pipeline.Config{Store: st, Engine: engine.New(nil), Shards: 2, Now: newClock(t0).now, Hook: breakingHook{}})
	p.SetBots(bots(t))
	p.Start()
	t.Cleanup(func() { p.Close(context.Background()) })
	send(t, p, "u1", "", "hi")
	if _, err := p.Handle(context.Background(), pipeline.Inbound{Bot: "shop", Channel: "rest", Sender: "u1", Content: flows.Content{Text: "break"}, Replied: true}); err == nil {
		t.Fatal("the broken step committed")
	}
	res := send(t, p, "u1", "", "777")
	if got := texts(res.Replies); got != "out:Order 777 is on its way." {
		t.Fatalf("after a failed commit: %s", got)
	}
}
