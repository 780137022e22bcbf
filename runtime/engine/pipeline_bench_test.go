package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// BenchmarkPipeline is the engine with durable state: each message is
// stepped and then committed with its session, the inbound and outbound
// messages and the timers, through the group committer, to Badger on disk.
// Workers stand for the runtime's shards: each owns its contacts, keeps
// their sessions encoded in memory, and waits for its commit before the next
// message, so a message is only counted once it is durable. One op is one
// message.
func BenchmarkPipeline(b *testing.B) {
	const (
		workers       = 256
		conversations = 10_000
	)
	st, err := store.Open(b.TempDir(), store.Options{GCInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	cm := store.NewCommitter(st, 512, time.Millisecond)
	defer cm.Close()
	bot := loadBench(b)
	eng := engine.New(nil)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()

	type conv struct {
		contact *flows.Contact
		session []byte
	}
	// Each worker owns conversations w, w+workers, …; the first message of
	// each starts its session.
	owned := make([][]*conv, workers)
	for i := 0; i < conversations; i++ {
		c := &conv{contact: &flows.Contact{ID: fmt.Sprintf("c%05d", i), Bot: "bench", Channel: "bench", Name: "Ann"}}
		owned[i%workers] = append(owned[i%workers], c)
	}
	step := func(c *conv, text string, n int) error {
		var sess *flows.Session
		if c.session != nil {
			s, err := flows.UnmarshalSession(c.session)
			if err != nil {
				return err
			}
			sess = s
		}
		in := flows.Content{Text: text}
		sp := eng.Step(engine.Input{Bot: bot, Session: sess, Contact: c.contact, Event: flows.Event{Kind: flows.EventMessage, Message: &in}, Now: now, Seed: uint64(n)})
		msgs := make([]store.Message, 0, 1+len(sp.Messages))
		msgs = append(msgs, store.Message{ID: fmt.Sprintf("%s-in-%d", c.contact.ID, n), Time: now, Direction: store.DirectionIn, Author: store.AuthorUser, Channel: "bench", Content: in})
		for _, m := range sp.Messages {
			msgs = append(msgs, store.Message{Time: now, Direction: store.DirectionOut, Author: store.AuthorBot, Channel: "bench", Status: store.StatusQueued, Content: m})
		}
		batch := &store.Batch{ContactID: c.contact.ID, Session: sp.Session, Messages: msgs, Timers: sp.Timers, CancelTimers: sp.CancelTimers, DedupKey: fmt.Sprintf("bench:%s:%d", c.contact.ID, n)}
		if sp.ContactDirty || c.session == nil {
			batch.Contact = sp.Contact
		}
		c.contact = sp.Contact
		if err := cm.Submit(ctx, batch); err != nil {
			return err
		}
		buf, err := flows.AppendSession(c.session[:0], sp.Session)
		c.session = buf
		return err
	}
	// Warm up: every conversation has said hi and waits in LISTEN.
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for _, c := range owned[w] {
				if err := step(c, "hi", 0); err != nil {
					b.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for w := 0; w < workers; w++ {
		n := b.N / workers
		if w < b.N%workers {
			n++
		}
		wg.Add(1)
		go func(w, n int) {
			defer wg.Done()
			cs := owned[w]
			for i := 0; i < n; i++ {
				if err := step(cs[i%len(cs)], "where is my order?", i+1); err != nil {
					b.Error(err)
					return
				}
			}
		}(w, n)
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
