package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// job is one piece of work for a contact: exactly one of inbound, event,
// timer, update, do and remove is set.
type job struct {
	contact string
	// queued is when the job reached the pipeline.
	queued  time.Time
	inbound *Inbound
	event   *flows.Event
	timer   *flows.Timer
	// update is set by UpdateContact, alone.
	update func(c *flows.Contact) error
	// do is set by Do, alone; remove by DeleteContact, alone.
	do     func(ctx context.Context, tx *Tx) error
	remove bool

	// done is closed when a queued job is done, with res and err set.
	done chan struct{}
	res  *Result
	err  error
}

// shard owns the contacts that hash to it. A goroutine works on one of them
// only while it holds the shard (its token in own), so the shard's cache is
// always current and one conversation's jobs run one at a time. The
// holder is the shard's own goroutine, which runs the jobs queued to it in
// order, or a caller of HandleInline running its job itself.
type shard struct {
	p     *Pipeline
	jobs  chan *job
	own   chan struct{} // holds a token while the shard is held
	cache *cache
}

// stepTimeout bounds one step and its commit (a shared deadline: up to
// an eighth more).
const stepTimeout = 30 * time.Second

// serve runs the jobs queued to the shard until the queue is closed.
func (sh *shard) serve() {
	for j := range sh.jobs {
		sh.own <- struct{}{}
		j.res, j.err = sh.process(sh.p.steps.Context(), j)
		<-sh.own
		if j.timer != nil {
			sh.p.inflight.Delete(j.timer.ID)
			if j.err != nil {
				sh.p.cfg.Log.Warn("timer", "timer", j.timer.ID, "contact", j.contact, "err", j.err)
			}
		}
		close(j.done)
	}
}

// runHere waits for the shard, or for ctx to end, then processes j on the
// calling goroutine, holding it. A job whose caller gave up while it waited
// is not run; one that started runs to its end, under the step's own
// limit, as a queued job does: the shard is not released while its commit
// may still land.
func (sh *shard) runHere(ctx context.Context, j *job) (*Result, error) {
	select {
	case sh.own <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-sh.own }()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return sh.process(sh.p.steps.Context(), j)
}

func (sh *shard) process(ctx context.Context, j *job) (*Result, error) {
	switch {
	case j.update != nil:
		return sh.update(ctx, j)
	case j.remove:
		return nil, sh.remove(ctx, j)
	}
	p := sh.p
	now := p.cfg.Now()
	in := j.inbound

	var dedup string
	if in != nil && in.ID != "" {
		dedup = in.Bot + "\x00" + in.Channel + "\x00" + in.ID
		seen, err := p.cfg.Store.Seen(ctx, dedup)
		if err != nil {
			return nil, err
		}
		if seen {
			return &Result{Duplicate: true}, nil
		}
	}

	if j.timer != nil && j.timer.Kind == store.TimerWake {
		// The contact's wake came due with none of its waits due: the
		// store moves it.
		return nil, p.committer.Submit(ctx, &store.Batch{ContactID: j.contact, Fired: j.timer})
	}
	st, err := sh.load(ctx, j.contact)
	if err != nil {
		return nil, err
	}
	newContact := st == nil
	if newContact {
		if j.timer != nil {
			// The contact is gone: its timer has nothing left to do.
			return nil, sh.dropTimer(ctx, j, "its contact no longer exists")
		}
		if in == nil {
			return nil, fmt.Errorf("%w %q", ErrNoContact, j.contact)
		}
		st = &state{contact: &flows.Contact{
			ID: j.contact, Bot: in.Bot, Channel: in.Channel, ExternalID: in.Sender, Name: in.Name,
			CreatedAt: now, UpdatedAt: now,
		}}
	}
	bot := p.Bot(st.contact.Bot)
	if bot == nil && j.do == nil {
		if j.timer != nil {
			return nil, sh.dropTimer(ctx, j, "bot "+st.contact.Bot+" is not running")
		}
		return nil, fmt.Errorf("%w %q", ErrUnknownBot, st.contact.Bot)
	}

	// The Tx, its batch and the message event, with room for a message and
	// two replies (the usual step), in one allocation.
	room := &txRoom{}
	room.batch = store.Batch{ContactID: j.contact, DedupKey: dedup, Fired: j.timer, Messages: room.messages[:0]}
	room.tx = Tx{Contact: st.contact, Now: now, Inbound: in, Timer: j.timer, Batch: &room.batch}
	tx, batch := &room.tx, &room.batch
	switch {
	case in != nil && in.Event != nil:
		tx.Event = in.Event
	case in != nil:
		room.content = in.Content
		room.event = flows.Event{Kind: flows.EventMessage, Message: &room.content}
		tx.Event = &room.event
		batch.Messages = append(batch.Messages, store.Message{
			ID: in.ID, Time: now, Direction: store.DirectionIn, Author: store.AuthorUser,
			Channel: in.Channel, ExternalID: in.ID, Content: in.Content,
		})
		if in.Name != "" && st.contact.Name == "" {
			c := st.contact.Clone()
			c.Name = in.Name
			tx.SetContact(c)
		}
	case j.event != nil:
		tx.Event = j.event
	case j.timer != nil:
		tx.Event = &flows.Event{Kind: flows.EventTimer, Timer: j.timer}
	}
	if newContact {
		batch.Contact = tx.Contact
	}
	hook := p.cfg.Hook
	switch {
	case j.do != nil:
		if err := j.do(ctx, tx); err != nil {
			return nil, err
		}
	case hook != nil:
		if err := hook.Before(ctx, tx); err != nil {
			return nil, err
		}
	}

	status := store.StatusQueued
	if in != nil && in.Replied {
		status = store.StatusSent
	}
	if tx.Event != nil && bot == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownBot, st.contact.Bot)
	}
	// A step, and at most one follow-up a hook asks for (Tx.Then).
	var sp *flows.Sprint
	var sess *flows.Session
	var notes []flows.Notification
	for round := 0; round < 2; round++ {
		// A banned contact's messages are stored and go no further.
		if tx.Event != nil && !tx.Contact.Banned {
			if sp == nil {
				var err error
				if sess, err = st.decodeSession(); err != nil {
					return nil, err
				}
			}
			sp = p.cfg.Engine.Step(engine.Input{
				Bot: bot, Session: sess, Contact: tx.Contact, Event: *tx.Event, Now: now, Seed: p.seed.Add(1),
			})
			sess = sp.Session
			tx.Sprint = sp
			notes = append(notes, sp.Notifications...)
			tx.apply(sp, status)
		}
		if hook != nil {
			if err := hook.After(ctx, tx); err != nil {
				return nil, err
			}
		}
		if tx.Then == nil || sp == nil {
			break
		}
		tx.Event, tx.Then = tx.Then, nil
	}
	res := &Result{Contact: tx.Contact}
	if sp != nil {
		res.Handover = sp.Handover
	}
	if len(batch.Messages) == 0 && batch.Session == nil && batch.Contact == nil && len(batch.Timers) == 0 && len(batch.CancelTimers) == 0 && batch.Fired == nil && len(batch.Handovers) == 0 {
		return res, nil
	}
	if p.cfg.Lease != nil {
		var until time.Time
		asked := false
		for i := range batch.Messages {
			m := &batch.Messages[i]
			if m.Direction == store.DirectionOut && m.Status == store.StatusQueued && m.NextAttempt.IsZero() {
				if !asked {
					until, asked = p.cfg.Lease(now), true
				}
				m.NextAttempt = until
			}
		}
	}
	// The session is encoded once, for the store and for the cache, into
	// the cache's buffer: a failed commit drops the contact from the
	// cache.
	var encoded []byte
	if batch.Session != nil {
		if b, err := flows.AppendSession(st.session[:0], batch.Session); err == nil {
			encoded, batch.SessionEncoded = b, b
		} else {
			st.session = nil // the store refuses the session, with the error
		}
	}
	if err := p.committer.Submit(ctx, batch); err != nil {
		// Nothing of the step is durable: forget what the cache may not
		// reflect, so the next job reads the store.
		sh.cache.drop(j.contact)
		return nil, fmt.Errorf("committing: %w", err)
	}
	if batch.Contact != nil {
		st.contact = batch.Contact
		res.Contact = batch.Contact
	}
	if encoded != nil {
		st.session = encoded // the session stored, the step's
	}
	if newContact {
		sh.cache.put(j.contact, st) // the others are cached since load
	}
	if p.cfg.OnCommit != nil {
		c := Committed{Contact: res.Contact, Messages: batch.Messages, Handovers: batch.Handovers, Latency: time.Since(j.queued), Timer: j.timer, At: now}
		if sp != nil {
			c.HandoverEnd = sp.HandoverEnd
		}
		c.Notifications = notes
		p.cfg.OnCommit(c)
	}
	// The step's replies follow the inbound message, if any.
	for i, m := range batch.Messages {
		if m.Direction == store.DirectionOut {
			res.Replies = batch.Messages[i:]
			break
		}
	}
	res.Handovers = batch.Handovers
	return res, nil
}

// txRoom is a job's Tx with what it points to in the usual step.
type txRoom struct {
	tx       Tx
	batch    store.Batch
	messages [3]store.Message
	event    flows.Event
	content  flows.Content
}

// dropTimer cancels a timer that can no longer do anything, so it does not
// come due again at every poll.
func (sh *shard) dropTimer(ctx context.Context, j *job, why string) error {
	sh.p.cfg.Log.Warn("dropping timer", "timer", j.timer.ID, "contact", j.contact, "reason", why)
	return sh.p.committer.Submit(ctx, &store.Batch{ContactID: j.contact, Fired: j.timer})
}

// state is what a shard keeps of a contact between steps.
type state struct {
	contact *flows.Contact
	// session is the encoded session, nil when there is none.
	session []byte
}

func (s *state) decodeSession() (*flows.Session, error) {
	if s.session == nil {
		return nil, nil
	}
	return flows.UnmarshalSession(s.session)
}

func (s *state) encodeSession(sess *flows.Session) error {
	b, err := flows.AppendSession(s.session[:0], sess)
	if err != nil {
		return err
	}
	s.session = b
	return nil
}

// load returns the contact's state from the cache or the store, where it
// then caches it; nil when the contact does not exist. The shard's job
// changes the state in place once it has committed, and drops it from the
// cache when a commit fails.
func (sh *shard) load(ctx context.Context, id string) (*state, error) {
	if st, ok := sh.cache.get(id); ok {
		return st, nil
	}
	st := sh.p.cfg.Store
	c, err := st.Contact(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s := &state{contact: c}
	sess, err := st.Session(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		if err := s.encodeSession(sess); err != nil {
			return nil, err
		}
	}
	sh.cache.put(id, s)
	return s, nil
}

// cache keeps the most recently used contacts of a shard, bounded.
type cache struct {
	max   int
	items map[string]*state
	order []string // insertion order, for eviction
}

func newCache(max int) *cache { return &cache{max: max, items: map[string]*state{}} }

func (c *cache) get(id string) (*state, bool) {
	s, ok := c.items[id]
	return s, ok
}

func (c *cache) put(id string, s *state) {
	if _, ok := c.items[id]; ok {
		c.items[id] = s
		return
	}
	for len(c.items) >= c.max && len(c.order) > 0 {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	if len(c.order) >= 2*c.max {
		// Dropped ids linger in order; rebuild it from what is cached.
		order := make([]string, 0, len(c.items)+1)
		for _, o := range c.order {
			if _, ok := c.items[o]; ok {
				order = append(order, o)
			}
		}
		c.order = order
	}
	c.order = append(c.order, id)
	c.items[id] = s
}

func (c *cache) drop(id string) { delete(c.items, id) }
