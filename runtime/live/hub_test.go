package live_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/live"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// step is a committed step of contact id of bot with n messages, numbered
// from seq on.
func step(bot, id string, seq uint64, n int) pipeline.Committed {
	now := time.Now()
	c := pipeline.Committed{Contact: &flows.Contact{ID: id, Bot: bot, Channel: "rest", UpdatedAt: now.Add(-time.Hour)}, At: now}
	for i := 0; i < n; i++ {
		c.Messages = append(c.Messages, store.Message{Contact: id, Seq: seq + uint64(i), Direction: store.DirectionIn, Author: store.AuthorUser, Channel: "rest", Time: now, Content: flows.Content{Text: fmt.Sprint("m", seq+uint64(i))}})
	}
	return c
}

func drain(s *live.Subscription) []live.Event {
	var out []live.Event
	for {
		select {
		case ev, ok := <-s.C:
			if !ok {
				return out
			}
			out = append(out, ev)
		default:
			return out
		}
	}
}

func TestFanOutAndShapes(t *testing.T) {
	h := live.NewHub()
	a, b := h.Subscribe(live.Filter{}, 0), h.Subscribe(live.Filter{}, 0)
	c := step("shop", "c1", 1, 2)
	c.Contact.UpdatedAt = c.At // the step changed the contact
	c.Handovers = []*store.Handover{{ID: "h1", Bot: "shop", Contact: "c1", Queue: "sales", Status: store.HandoverNew}}
	c.HandoverEnd = "timeout"
	h.SetHandoverView(func(ho *store.Handover) any { return map[string]string{"id": ho.ID, "queue": ho.Queue, "seen": "view"} })
	h.Publish(c)
	h.Publish(pipeline.Committed{Contact: &flows.Contact{ID: "c1", Bot: "shop"}}) // an API update
	h.Publish(step("shop", "c1", 3, 0))                                           // nothing to say
	h.Publish(pipeline.Committed{})                                               // no contact: ignored
	ea, eb := drain(a), drain(b)
	want := []string{"contact", "message", "message", "handover", "handover_end", "contact"}
	if len(ea) != len(want) || len(eb) != len(want) {
		t.Fatalf("got %d and %d events, want %d", len(ea), len(eb), len(want))
	}
	for i, ev := range ea {
		var f struct {
			ID      uint64
			Type    string
			Bot     string
			Contact flows.Contact
			Message *struct {
				Seq                                uint64
				Direction, Author, Channel, Status string
				Content                            flows.Content
				Time                               time.Time
			}
			Handover map[string]string
			Reason   string
		}
		if err := json.Unmarshal(ev.JSON, &f); err != nil {
			t.Fatalf("%v: %s", err, ev.JSON)
		}
		if f.ID != uint64(i+1) || ev.ID != f.ID || f.Type != want[i] || ev.Type != f.Type || f.Bot != "shop" || f.Contact.ID != "c1" || ev.Contact != "c1" || string(eb[i].JSON) != string(ev.JSON) {
			t.Fatalf("event %d: %s", i, ev.JSON)
		}
		switch f.Type {
		case "message":
			if f.Message == nil || f.Message.Seq != uint64(i) || f.Message.Content.Text != fmt.Sprint("m", i) || f.Message.Direction != "in" || f.Message.Author != "user" || f.Message.Time.IsZero() {
				t.Fatalf("message: %s", ev.JSON)
			}
		case "handover":
			if f.Handover["id"] != "h1" || f.Handover["queue"] != "sales" || f.Handover["seen"] != "view" {
				t.Fatalf("handover: %s", ev.JSON)
			}
		case "handover_end":
			if f.Reason != "timeout" {
				t.Fatalf("handover_end: %s", ev.JSON)
			}
		}
	}
	if pub, dropped := h.Stats(); pub != 6 || dropped != 0 {
		t.Fatalf("stats %d %d", pub, dropped)
	}
}

// TestContentView: message events show the content as the view set says
// (the API's, with the paths of the customer's files).
func TestContentView(t *testing.T) {
	h := live.NewHub()
	s := h.Subscribe(live.Filter{}, 0)
	h.SetContentView(func(bot string, m *store.Message) any {
		return map[string]string{"text": m.Content.Text, "bot": bot}
	})
	h.Publish(step("shop", "c1", 1, 1))
	evs := drain(s)
	if len(evs) != 1 || !strings.Contains(string(evs[0].JSON), `"content":{"bot":"shop","text":"m1"}`) {
		t.Fatalf("events: %v", evs)
	}
}

func TestFilter(t *testing.T) {
	h := live.NewHub()
	all := h.Subscribe(live.Filter{}, 0)
	shop := h.Subscribe(live.Filter{Bot: "shop"}, 0)
	c2 := h.Subscribe(live.Filter{Contact: "c2"}, 0)
	h.Publish(step("shop", "c1", 1, 1))
	h.Publish(step("shop", "c2", 1, 1))
	h.Publish(step("help", "c3", 1, 1))
	contacts := func(evs []live.Event) (s string) {
		for _, e := range evs {
			s += e.Contact + " "
		}
		return s
	}
	if got := contacts(drain(all)); got != "c1 c2 c3 " {
		t.Fatalf("all: %s", got)
	}
	if got := contacts(drain(shop)); got != "c1 c2 " {
		t.Fatalf("shop: %s", got)
	}
	if got := contacts(drain(c2)); got != "c2 " {
		t.Fatalf("c2: %s", got)
	}
	c2.SetFilter(live.Filter{Bot: "help"})
	h.Publish(step("shop", "c2", 2, 1))
	h.Publish(step("help", "c3", 2, 1))
	if got := contacts(drain(c2)); got != "c3 " {
		t.Fatalf("refiltered: %s", got)
	}
	c2.Close()
	if _, ok := <-c2.C; ok || !errors.Is(c2.Err(), live.ErrUnsubscribed) || h.Subscribers() != 2 {
		t.Fatalf("closed: %v %d", c2.Err(), h.Subscribers())
	}
	h.Close()
	drain(all)
	if _, ok := <-all.C; ok || !errors.Is(all.Err(), live.ErrHubClosed) || h.Subscribers() != 0 {
		t.Fatalf("hub closed: %v", all.Err())
	}
	h.Publish(step("shop", "c1", 9, 1)) // no-op
	if s := h.Subscribe(live.Filter{}, 0); !errors.Is(s.Err(), live.ErrHubClosed) {
		t.Fatal("subscribed to a closed hub")
	}
}

// A subscriber that does not read is dropped; Publish, from many
// goroutines, never waits for it, and the others get everything.
func TestSlowSubscriberDropped(t *testing.T) {
	const shards, steps = 8, 500
	h := live.NewHub()
	slow := h.Subscribe(live.Filter{}, 4)
	fast := h.Subscribe(live.Filter{}, shards*steps) // room for everything
	got := make(chan []live.Event)
	go func() {
		var evs []live.Event
		for ev := range fast.C {
			evs = append(evs, ev)
		}
		got <- evs
	}()
	var wg sync.WaitGroup
	start := time.Now()
	for s := 0; s < shards; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < steps; i++ {
				h.Publish(step("shop", fmt.Sprint("c", s), uint64(i+1), 1))
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked")
	}
	took := time.Since(start)
	if !errors.Is(slow.Err(), live.ErrSlow) {
		t.Fatalf("slow subscriber: %v", slow.Err())
	}
	if n := len(drain(slow)); n != 4 {
		t.Fatalf("slow got %d buffered events", n)
	}
	h.Close()
	evs := <-got
	// The other got everything, in id order, each contact in seq order.
	if err := fast.Err(); !errors.Is(err, live.ErrHubClosed) || len(evs) != shards*steps {
		t.Fatalf("fast got %d of %d (%v)", len(evs), shards*steps, err)
	}
	last := map[string]uint64{}
	for i, ev := range evs {
		if ev.ID != uint64(i+1) {
			t.Fatalf("event %d has id %d", i, ev.ID)
		}
		var f struct{ Message struct{ Seq uint64 } }
		json.Unmarshal(ev.JSON, &f)
		if f.Message.Seq != last[ev.Contact]+1 {
			t.Fatalf("%s: seq %d after %d", ev.Contact, f.Message.Seq, last[ev.Contact])
		}
		last[ev.Contact] = f.Message.Seq
	}
	_, dropped := h.Stats()
	t.Logf("%d steps published from %d goroutines in %v; dropped %d", shards*steps, shards, took, dropped)
}

// Events nobody's filter selects are numbered all the same: a subscriber
// that joins later sees ids that count them.
func TestUnwatchedEventsNumbered(t *testing.T) {
	h := live.NewHub()
	h.Publish(step("shop", "c1", 1, 2)) // 2 messages, nobody listening
	help := h.Subscribe(live.Filter{Bot: "help"}, 0)
	h.Publish(step("shop", "c2", 1, 1)) // 1 message, filtered out
	h.Publish(step("help", "c3", 1, 1))
	evs := drain(help)
	if len(evs) != 1 || evs[0].ID != 4 || evs[0].Contact != "c3" {
		t.Fatalf("events after 3 unwatched ones: %+v", evs)
	}
	if published, _ := h.Stats(); published != 4 {
		t.Fatalf("published = %d, want 4", published)
	}
}

// A console's filter: the handovers of its queues from everywhere, and
// everything of the conversation it has open.
func TestFilterTypesContactAndQueues(t *testing.T) {
	h := live.NewHub()
	billing := func(bot, queue string) bool { return queue == "" || queue == "billing" }
	console := h.Subscribe(live.Filter{Contact: "c2", Types: []string{live.TypeHandover}, SeesQueue: billing}, 0)
	handover := func(contact, queue string) pipeline.Committed {
		c := step("shop", contact, 1, 1)
		c.Handovers = []*store.Handover{{ID: "h-" + contact, Bot: "shop", Contact: contact, Queue: queue, Status: store.HandoverNew}}
		return c
	}
	h.Publish(step("shop", "c1", 1, 1))  // a message elsewhere: no
	h.Publish(step("shop", "c2", 1, 1))  // a message of the open conversation: yes
	h.Publish(handover("c3", "billing")) // a handover of its queue: yes, not its message
	h.Publish(handover("c4", "sales"))   // another team's handover: no
	h.Publish(handover("c2", "sales"))   // nor in the open conversation: only the message
	var got []string
	for _, ev := range drain(console) {
		got = append(got, ev.Type+":"+ev.Contact+":"+ev.Queue)
	}
	want := "message:c2: handover:c3:billing message:c2:"
	if strings.Join(got, " ") != want {
		t.Fatalf("console got %q, want %q", strings.Join(got, " "), want)
	}
}
