// Package pipeline carries inbound messages, named events and due timers
// through the engine and the store. One goroutine owns a contact at a time
// (its shard's, or a caller's running its job itself), so each conversation
// is processed in order while conversations run in parallel; the effects
// of every step — the inbound message, the session, the contact, the
// replies and the timers — commit in one transaction, batched across
// conversations, before the caller hears back. A caller that has its
// answer may acknowledge its channel: nothing it was told about can be
// lost.
package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/deadline"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// Errors the pipeline answers with.
var (
	ErrClosed     = errors.New("pipeline: closed")
	ErrUnknownBot = errors.New("pipeline: unknown bot")
	ErrNoContact  = errors.New("pipeline: no such contact")
)

// Config configures a Pipeline. Store and Engine are required.
type Config struct {
	Store  store.Store
	Engine *engine.Engine
	// Shards is the number of shards (each with a goroutine) contacts are
	// spread over; 0 means 256. A shard runs one job at a time, commit
	// included, so more shards let more conversations wait for their
	// commits at once.
	Shards int
	// CommitBatch and CommitDelay shape the group commit: up to CommitBatch
	// steps share a transaction, gathered for at most CommitDelay. The
	// default delay, 0, commits at once what is waiting: steps then group
	// while the previous commit runs, without a floor on every step's
	// latency (a 1 ms delay cut REST throughput by a fifth).
	CommitBatch int
	CommitDelay time.Duration
	// TimerPoll is how often due timers are looked for; 0 means 100ms.
	TimerPoll time.Duration
	// CacheSize bounds the contacts (with their sessions) each shard keeps
	// in memory; 0 means 4096.
	CacheSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
	// Hook, when set, takes part in every job (live chat keeps its
	// handovers in step with the conversation this way).
	Hook Hook
	// OnCommit, when set, is called after every committed step, while the
	// contact's shard is held: it must not block (hand the work to a
	// goroutine of its own). Live views and the outbox dispatcher use it.
	OnCommit func(Committed)
	// Lease, when set, gives the time until which a step's queued
	// outbound messages are stored leased to the outbox dispatcher that
	// takes them from OnCommit (outbox.Dispatcher.Lease and Offer), so
	// that no read of the outbox hands them out meanwhile; the zero time
	// stores them due at once.
	Lease func(now time.Time) time.Time
}

// Committed describes a step that is durable.
type Committed struct {
	Contact *flows.Contact
	// Messages are the step's inbound and outbound messages, as stored.
	Messages []store.Message
	// Handovers are the live-chat handovers the step created or changed.
	Handovers []*store.Handover
	// HandoverEnd is set when the bot stopped waiting for a handover.
	HandoverEnd string
	// Notifications are what the step's TRIGGER blocks raised.
	Notifications []flows.Notification
	// Latency is the time from the job's arrival at the pipeline to its
	// commit: what a channel waits for an answer.
	Latency time.Duration
	// Timer is the timer that started the step, if one did.
	Timer *flows.Timer
	// At is when the step ran, on the pipeline's clock.
	At time.Time
}

// Pipeline runs conversations. Start it, send it work, Close it.
type Pipeline struct {
	cfg       Config
	bots      atomic.Pointer[map[string]*flows.Bot]
	committer *store.Committer
	shards    []*shard

	mu     sync.RWMutex // held for reading while a job is let in, for writing by Close
	closed bool
	// loops counts the shards' goroutines and the timer loop; inline, the
	// HandleInline jobs let in and not done.
	loops  sync.WaitGroup
	inline sync.WaitGroup
	stop   chan struct{}
	// drained is closed once Close's jobs are done and the committer
	// closed, with closeErr set.
	closeOnce sync.Once
	drained   chan struct{}
	closeErr  error

	inflight sync.Map // timer id → struct{}: timers handed to a shard, not yet done
	seed     atomic.Uint64
	// steps gives each step its stepTimeout context.
	steps *deadline.Shared
}

// New returns a pipeline; Start runs it.
func New(cfg Config) *Pipeline {
	if cfg.Shards <= 0 {
		cfg.Shards = 256
	}
	if cfg.CommitBatch <= 0 {
		cfg.CommitBatch = 512
	}
	cfg.CommitDelay = max(cfg.CommitDelay, 0)
	if cfg.TimerPoll <= 0 {
		cfg.TimerPoll = 100 * time.Millisecond
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	p := &Pipeline{cfg: cfg, stop: make(chan struct{}), drained: make(chan struct{}), steps: deadline.New(stepTimeout)}
	empty := map[string]*flows.Bot{}
	p.bots.Store(&empty)
	p.seed.Store(uint64(cfg.Now().UnixNano()))
	return p
}

// SetBots replaces the bots the pipeline runs. Conversations of a bot that
// changed go on from where they stand in the new version.
func (p *Pipeline) SetBots(bots map[string]*flows.Bot) {
	m := make(map[string]*flows.Bot, len(bots))
	for id, b := range bots {
		m[id] = b
	}
	p.bots.Store(&m)
}

// Bot returns a running bot.
func (p *Pipeline) Bot(id string) *flows.Bot { return (*p.bots.Load())[id] }

// BotIDs lists the running bots' ids, sorted.
func (p *Pipeline) BotIDs() []string {
	m := *p.bots.Load()
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// queueCap is how many jobs a shard's queue holds; a caller waits for
// room beyond that.
const queueCap = 64

// Start starts the shards, the group committer and the timer loop.
func (p *Pipeline) Start() {
	p.committer = store.NewCommitter(p.cfg.Store, p.cfg.CommitBatch, p.cfg.CommitDelay)
	shards := make([]*shard, p.cfg.Shards)
	for i := range shards {
		sh := &shard{p: p, jobs: make(chan *job, queueCap), own: make(chan struct{}, 1), cache: newCache(p.cfg.CacheSize)}
		shards[i] = sh
		p.loops.Add(1)
		go func() {
			defer p.loops.Done()
			sh.serve()
		}()
	}
	p.mu.Lock()
	p.shards = shards
	p.mu.Unlock()
	p.loops.Add(1)
	go func() {
		defer p.loops.Done()
		p.timerLoop()
	}()
}

// Close stops taking work, finishes the jobs already taken, closes the
// group committer, and stops every goroutine it started. If ctx ends first,
// Close returns its error and the rest goes on in the background: the
// shards still do their queued jobs and answer their callers, and a later
// Close waits for it all again.
func (p *Pipeline) Close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		// stop first: a caller waiting for room in a full shard queue,
		// holding mu's read lock, gives up with ErrClosed, so the lock is
		// not held up by a queue that drains only as fast as its shard.
		close(p.stop)
		p.mu.Lock()
		p.closed = true
		for _, sh := range p.shards {
			close(sh.jobs)
		}
		p.mu.Unlock()
		go func() {
			defer close(p.drained)
			p.loops.Wait()
			p.inline.Wait()
			if p.committer != nil {
				p.closeErr = p.committer.Close()
			}
		}()
	})
	select {
	case <-p.drained:
		return p.closeErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ContactID is the id of the contact a channel knows as sender on a bot. It
// is derived, not stored, so that a message can be routed to its shard
// before the contact is looked up.
func ContactID(bot, channel, sender string) string {
	var in [256]byte // on the stack unless the names are long
	b := append(append(append(append(append(in[:0], bot...), 0), channel...), 0), sender...)
	h := sum256(b)
	var id [1 + 24]byte // "c" and 15 bytes in base32, one allocation in all
	id[0] = 'c'
	contactIDEncoding.Encode(id[1:], h[:15])
	return string(id[:])
}

var contactIDEncoding = base32.HexEncoding.WithPadding(base32.NoPadding)

// sum256 is sha256.Sum256 kept out of line: inlined by the server's
// profile-guided build, its digest and ContactID's buffer went to the heap
// (4 allocations a message instead of 1).
//
//go:noinline
func sum256(b []byte) [sha256.Size]byte { return sha256.Sum256(b) }

// Inbound is a message a channel received.
type Inbound struct {
	Bot     string
	Channel string
	// Sender is the channel's id of the user.
	Sender string
	// ID is the channel's id of the message; messages with the same channel
	// and ID are handled once. Empty: no de-duplication.
	ID string
	// Name is the user's name, when the channel knows it.
	Name    string
	Content flows.Content
	// Replied marks channels that deliver the replies in their answer (the
	// REST channel): the replies are stored as sent rather than queued for
	// the outbox.
	Replied bool
	// Event, when set, makes this a named event from the channel (the web
	// chat's page_visit) instead of a message: nothing is stored as the
	// user's message, and a new visitor becomes a contact all the same.
	Event *flows.Event
}

// Result is what handling a message or an event produced, once committed.
type Result struct {
	Contact *flows.Contact
	// Replies are the outbound messages of the step, as stored (with Seq).
	Replies []store.Message
	// Duplicate is set when the message had been handled before; nothing
	// was done.
	Duplicate bool
	// Handover is the live-chat request the step made, if any.
	Handover *flows.HandoverRequest
	// Handovers are the handovers the job created or changed.
	Handovers []*store.Handover
}

// Handle runs an inbound message on its contact's shard and returns once
// its effects are durable. If ctx ends first, Handle returns ctx's error
// and the shard still finishes the job.
func (p *Pipeline) Handle(ctx context.Context, in Inbound) (*Result, error) {
	if p.Bot(in.Bot) == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownBot, in.Bot)
	}
	id := ContactID(in.Bot, in.Channel, in.Sender)
	return p.do(ctx, &job{contact: id, inbound: &in})
}

// HandleInline is Handle run on the calling goroutine, once the contact's
// shard is free: it spares a message two handoffs between goroutines, for
// callers with a bounded set of goroutines (the REST channel's
// connections). A caller with thousands (web chat's sockets) should call
// Handle, or each of its goroutines grows a stack deep enough for a step.
// ctx bounds the wait for the shard: a message whose caller gave up
// waiting is not run. Once it runs, HandleInline returns when it is done,
// as a queued job would be.
func (p *Pipeline) HandleInline(ctx context.Context, in Inbound) (*Result, error) {
	if p.Bot(in.Bot) == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownBot, in.Bot)
	}
	j := &job{contact: ContactID(in.Bot, in.Channel, in.Sender), inbound: &in, queued: time.Now()}
	p.mu.RLock()
	if p.closed || p.shards == nil {
		p.mu.RUnlock()
		return nil, ErrClosed
	}
	p.inline.Add(1)
	sh := p.shards[shardOf(j.contact, len(p.shards))]
	p.mu.RUnlock()
	defer p.inline.Done()
	return sh.runHere(ctx, j)
}

// Event sends a named event to a contact (entering CATCH skills).
func (p *Pipeline) Event(ctx context.Context, contactID, name string, data map[string]any) (*Result, error) {
	return p.do(ctx, &job{contact: contactID, event: &flows.Event{Kind: flows.EventNamed, Name: name, Data: data}})
}

func (p *Pipeline) do(ctx context.Context, j *job) (*Result, error) {
	j.queued = time.Now()
	j.done = make(chan struct{})
	if err := p.enqueue(ctx, j); err != nil {
		return nil, err
	}
	select {
	case <-j.done:
		return j.res, j.err
	case <-ctx.Done():
		// The shard still finishes the job; its caller stops waiting.
		return nil, ctx.Err()
	}
}

func (p *Pipeline) enqueue(ctx context.Context, j *job) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed || p.shards == nil {
		return ErrClosed
	}
	sh := p.shards[shardOf(j.contact, len(p.shards))]
	select {
	case sh.jobs <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-p.stop:
		return ErrClosed
	}
}

func shardOf(contact string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(contact))
	return int(h.Sum32() % uint32(n))
}

// timerLoop hands due timers to their contacts' shards. A timer stays in
// the store until the step it starts commits its cancellation, so a crash
// in between fires it again after a restart.
func (p *Pipeline) timerLoop() {
	t := time.NewTicker(p.cfg.TimerPoll)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		timers, err := p.cfg.Store.DueTimers(ctx, p.cfg.Now(), store.MaxDueTimers)
		cancel()
		if err != nil {
			if !errors.Is(err, store.ErrClosed) {
				p.cfg.Log.Warn("due timers", "err", err)
			}
			continue
		}
		for i := range timers {
			tm := timers[i]
			if _, busy := p.inflight.LoadOrStore(tm.ID, struct{}{}); busy {
				continue
			}
			j := &job{contact: tm.Contact, timer: &tm, done: make(chan struct{}), queued: time.Now()}
			if err := p.enqueue(context.Background(), j); err != nil {
				p.inflight.Delete(tm.ID)
				return
			}
		}
	}
}
