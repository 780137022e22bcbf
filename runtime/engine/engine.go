// Package engine runs bots: a pure step function from (session, event,
// clock) to a sprint of effects. It does no I/O except through the bounded
// services it is given (the JSON block's HTTP client), so the runtime decides
// when and how effects are committed and sent.
package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/switchboard-bots/switchboard/flows"
)

// Limits bound what one step may do.
type Limits struct {
	// MaxBlocks caps the blocks a step runs; the bot's max_blocks setting
	// applies when it is lower. Past it the step fails into /_error.
	MaxBlocks int
	// MaxEvents caps the events SEND may chain within one step.
	MaxEvents int
	// MemoryBudget caps what one expression may allocate (expr-lang units).
	MemoryBudget uint
	// MaxMessages caps the messages one step may send.
	MaxMessages int
}

// DefaultLimits are safe for untrusted bot files.
var DefaultLimits = Limits{MaxBlocks: 1000, MaxEvents: 10, MemoryBudget: 100_000, MaxMessages: 50}

// Engine steps sessions. It is safe for concurrent use: all per-step state
// lives in the step.
type Engine struct {
	Limits Limits
	// HTTP is the client of the JSON block. Nil disables HTTP requests: the
	// block then fails into /_error.
	HTTP flows.HTTPDoer
	// Actions calls integration plugins for the ACTION block; nil fails
	// it into /_error (or its on_error).
	Actions flows.ActionInvoker

	vms sync.Pool
}

// New returns an engine with default limits and the given HTTP client.
func New(http flows.HTTPDoer) *Engine {
	return &Engine{Limits: DefaultLimits, HTTP: http}
}

// Input is one step's input. Step takes ownership of Session; Contact is
// copied before it is changed.
type Input struct {
	Bot     *flows.Bot
	Session *flows.Session
	Contact *flows.Contact
	Event   flows.Event
	Now     time.Time
	// Seed makes random choices (TEXT variants) reproducible.
	Seed uint64
	// Trace asks for the Sprint's Trace, the blocks the step ran.
	Trace bool
}

// ErrStepLimit is the error /_error sees when a step ran too many blocks.
var ErrStepLimit = errors.New("the step ran too many blocks: the flow probably loops without waiting for the user")

// Step runs the bot from where the session stands with one event and returns
// what happened. It never panics on bot content: a failing block routes to
// /_error, and a failing /_error ends the flow.
func (e *Engine) Step(in Input) *flows.Sprint {
	sess := in.Session
	if sess == nil {
		sess = &flows.Session{}
	}
	if sess.Vars == nil {
		sess.Vars = map[string]any{}
	}
	contact := in.Contact
	r := &run{
		eng:     e,
		bot:     in.Bot,
		sess:    sess,
		contact: contact,
		now:     in.Now.In(in.Bot.Location),
		seed:    in.Seed,
		limit:   e.maxBlocks(in.Bot),
	}
	// The sprint and room for the usual step's messages come in the run's
	// allocation.
	r.sprint = flows.Sprint{Session: sess, Contact: contact, Messages: r.messages[:0]}
	if in.Trace {
		r.sprint.Trace = make([]flows.TraceEntry, 0, 8)
	}
	v, _ := e.vms.Get().(*vm.VM)
	if v == nil {
		v = &vm.VM{}
	}
	v.MemoryBudget = e.Limits.MemoryBudget
	r.vm = v
	defer func() {
		r.vm = nil
		e.vms.Put(v)
	}()

	r.dispatch(in.Event)
	for i := 0; i < len(r.queued) && i < e.maxEvents(); i++ {
		ev := r.queued[i]
		r.dispatch(ev)
	}
	r.sprint.ContactDirty = r.contactDirty
	return &r.sprint
}

func (e *Engine) maxBlocks(b *flows.Bot) int {
	n := e.Limits.MaxBlocks
	if n <= 0 {
		n = DefaultLimits.MaxBlocks
	}
	if b.Settings.MaxBlocks > 0 && b.Settings.MaxBlocks < n {
		n = b.Settings.MaxBlocks
	}
	return n
}

func (e *Engine) maxEvents() int {
	if e.Limits.MaxEvents > 0 {
		return e.Limits.MaxEvents
	}
	return DefaultLimits.MaxEvents
}

// dispatch decides what an event does to the session and runs the flow.
func (r *run) dispatch(ev flows.Event) {
	r.event = &ev
	r.env = nil
	// Error state belongs to one event: an event queued by SEND that fails
	// reaches /_error even when an earlier one in the step did. The block
	// budget is shared by the whole step.
	r.inError, r.errInfo, r.intent = false, nil, ""
	r.ended, r.failed = false, false
	sess := r.sess
	switch ev.Kind {
	case flows.EventTimer:
		t := ev.Timer
		if t == nil {
			r.ignore()
			return
		}
		// A fired timer is done with, whatever it leads to.
		r.cancelTimer(t.ID)
		if t.Kind == flows.TimerEvent {
			if t.Event == nil {
				r.ignore()
				return
			}
			r.dispatch(*t.Event)
			return
		}
		if sess.Wait == nil || t.Seq != sess.Seq || t.ID != sess.Wait.TimerID {
			r.ignore() // stale: the session moved on since the timer was set
			return
		}
		r.advance()
		r.resume(&ev)
	case flows.EventNamed:
		r.namedEvent(&ev)
	case flows.EventHandover:
		if sess.Wait == nil || sess.Wait.Kind != flows.WaitHandover {
			r.ignore()
			return
		}
		r.advance()
		r.resume(&ev)
	case flows.EventMessage:
		r.message(&ev)
	case flows.EventSkill:
		r.aside(ev.Name)
	default:
		r.ignore()
	}
}

func (r *run) ignore() {
	if r.ran == 0 && len(r.sprint.Messages) == 0 {
		r.sprint.Ignored = true
	}
}

// advance marks a change of position: wait timers set before are stale.
func (r *run) advance() {
	r.sess.Seq++
	r.sprint.Ignored = false
}

func (r *run) namedEvent(ev *flows.Event) {
	sess := r.sess
	if w := sess.Wait; w != nil {
		if w.Kind == flows.WaitHandover {
			r.ignore() // a human has the conversation; the bot stays out
			return
		}
		for _, name := range w.Events {
			if name == ev.Name {
				r.advance()
				r.resume(ev)
				return
			}
		}
	}
	skill := ""
	if ev.Name == flows.PageVisitEvent {
		if _, ok := r.bot.Skill(flows.SkillPageVisit); ok {
			skill = flows.SkillPageVisit
		}
	}
	if skill == "" {
		if s, ok := r.bot.CatchSkill(ev.Name); ok {
			skill = s.Name
		}
	}
	if skill == "" {
		r.ignore()
		return
	}
	r.interrupt(skill)
}

// interrupt runs an event's skill in the middle of a conversation. A skill
// that says nothing and simply runs off its end — it sends no message,
// starts no wait, jumps nowhere else, does not END or fail — is transparent:
// the interrupted wait resumes, with its timer, as if the event had not
// come (a page visit during a question does not lose the question). A skill
// that talks starts a new turn, and the interrupted wait is dropped.
func (r *run) interrupt(skill string) {
	sess := r.sess
	oldSeq, oldWait := sess.Seq, sess.Wait
	oldFrames := append([]flows.Frame(nil), sess.Frames...)
	sess.Wait = nil // kept aside, its timer not cancelled yet
	said := len(r.sprint.Messages)
	r.advance()
	r.ended = false
	ref, ok := r.bot.Resolve(skill)
	if !ok {
		sess.Seq, sess.Wait = oldSeq, oldWait
		return
	}
	sess.Frames = sess.Frames[:0]
	r.jump(ref)
	r.loop()
	if oldWait != nil && sess.Wait == nil && len(sess.Frames) == 0 && !r.ended && !r.failed && len(r.sprint.Messages) == said {
		// Back to the interrupted wait: same position, so its timer (set
		// for oldSeq) is current again.
		sess.Seq, sess.Wait, sess.Frames = oldSeq, oldWait, oldFrames
		return
	}
	if oldWait != nil && oldWait.TimerID != "" {
		r.cancelTimer(oldWait.TimerID)
	}
}

// aside runs a skill for the user during a live chat, for an agent who
// sends a part of the bot as the answer. The skill talks, changes the
// contact, and runs until it ends or would wait for the user; then the
// conversation is back with the agent: the handover wait is restored as it
// was, and whatever the skill would have waited for (its timer too) or
// started (another handover, an END) is dropped. Outside a live chat the
// event is ignored.
func (r *run) aside(skill string) {
	sess := r.sess
	ref, ok := r.bot.Resolve(skill)
	if w := sess.Wait; w == nil || w.Kind != flows.WaitHandover || !ok {
		r.ignore()
		return
	}
	oldSeq, oldWait := sess.Seq, sess.Wait
	oldFrames := append([]flows.Frame(nil), sess.Frames...)
	timers := len(r.sprint.Timers)
	sess.Wait = nil
	r.advance()
	sess.Frames = sess.Frames[:0]
	r.jump(ref)
	r.loop()
	// Only delayed events (SEND with a delay) of the skill stay set.
	kept := r.sprint.Timers[:timers]
	for _, t := range r.sprint.Timers[timers:] {
		if t.Kind == flows.TimerEvent {
			kept = append(kept, t)
		}
	}
	r.sprint.Timers = kept
	r.sprint.Handover = nil
	r.ended, r.failed = false, false
	sess.Seq, sess.Wait, sess.Frames = oldSeq, oldWait, oldFrames
}

func (r *run) message(ev *flows.Event) {
	sess := r.sess
	msg := ev.Message
	if msg == nil {
		msg = &flows.Content{}
		ev.Message = msg
	}
	if w := sess.Wait; w != nil && w.Kind == flows.WaitHandover {
		r.ignore()
		return
	}
	if w := sess.Wait; w != nil && w.Kind == flows.WaitTimer && !w.Interruptible {
		r.ignore()
		return
	}
	r.advance()
	// A tap on a button the bot offered goes where the button says, even as
	// a new contact's first message (a page-visit prompt's quick reply).
	if o := r.pickOffer(msg); o != nil {
		sess.Misses = 0
		if o.Target != "" {
			if ref, ok := r.bot.Resolve(o.Target); ok {
				// Like an intent, a goto button starts afresh: the wait
				// and any skills called by RUN are left behind.
				sess.Started = true
				r.endWait()
				sess.Frames = sess.Frames[:0]
				r.jump(ref)
				r.loop()
				return
			}
		} else if msg.Payload == "" {
			msg.Payload = o.Payload
		}
	}
	if w := sess.Wait; w != nil && w.Kind == flows.WaitMessage {
		// A reply the flow asked for is understood by definition, even
		// before /start ran (a question asked by /_page_visit).
		sess.Misses = 0
		r.resume(ev)
		return
	}
	if !sess.Started {
		r.enterSkill(flows.SkillStart)
		return
	}
	r.endWait()
	r.route(msg)
}

// pickOffer finds the offered button or quick reply a message picks: by
// its payload, or by its title or payload typed out.
func (r *run) pickOffer(msg *flows.Content) *flows.Offer {
	offers := r.sess.Offered
	if msg.Payload != "" {
		for i := range offers {
			if offers[i].Payload == msg.Payload {
				return &offers[i]
			}
		}
		return nil
	}
	text := strings.TrimSpace(msg.Text)
	if text == "" {
		return nil
	}
	for i := range offers {
		// A title typed out, or a payload sent back as text (REST clients
		// send a tapped button's payload as the message).
		if strings.EqualFold(offers[i].Title, text) || offers[i].Payload == text {
			return &offers[i]
		}
	}
	return nil
}

// route sends a message nobody waits for to the skill it asks for.
func (r *run) route(msg *flows.Content) {
	sess := r.sess
	if in := r.bot.MatchIntent(msg.Text); in != nil {
		sess.Misses = 0
		r.intent = in.Name
		r.enterSkill(r.bot.SkillAt(in.Skill.Ref().Skill).Name)
		return
	}
	sess.Misses++
	_, hasFallback := r.bot.Skill(flows.SkillFallback)
	_, hasDefault := r.bot.Skill(flows.SkillDefault)
	switch {
	case hasFallback && (sess.Misses >= r.bot.Settings.FallbackAfter || !hasDefault):
		sess.Misses = 0
		r.enterSkill(flows.SkillFallback)
	case hasDefault:
		r.enterSkill(flows.SkillDefault)
	default:
		r.sess.Frames = nil
	}
}

// enterSkill starts a skill afresh: the current flow and any wait are dropped.
func (r *run) enterSkill(name string) {
	ref, ok := r.bot.Resolve(name)
	if !ok {
		r.sess.Frames = nil
		return
	}
	if name == flows.SkillStart {
		r.sess.Started = true
	}
	r.endWait()
	r.sess.Frames = r.sess.Frames[:0]
	r.jump(ref)
	r.loop()
}

// jump moves the current frame to ref (or starts one).
func (r *run) jump(ref flows.Ref) {
	name := r.bot.SkillAt(ref.Skill).Name
	if f := r.sess.Current(); f != nil {
		f.Skill, f.Block = name, ref.Block
		return
	}
	r.sess.Frames = append(r.sess.Frames, flows.Frame{Skill: name, Block: ref.Block})
}

// endWait clears the wait and cancels its timer.
func (r *run) endWait() {
	if w := r.sess.Wait; w != nil {
		if w.TimerID != "" {
			r.cancelTimer(w.TimerID)
		}
		r.sess.Wait = nil
	}
}

// cancelTimer cancels a timer: one set earlier in this step is simply not
// set (the store applies cancels before sets), any other is cancelled.
func (r *run) cancelTimer(id string) {
	for i, t := range r.sprint.Timers {
		if t.ID == id {
			r.sprint.Timers = append(r.sprint.Timers[:i], r.sprint.Timers[i+1:]...)
			return
		}
	}
	for _, c := range r.sprint.CancelTimers {
		if c == id {
			return
		}
	}
	r.sprint.CancelTimers = append(r.sprint.CancelTimers, id)
}

// resume hands the event to the waiting block and continues the flow.
func (r *run) resume(ev *flows.Event) {
	f := r.sess.Current()
	w := r.sess.Wait
	if f == nil || w == nil {
		r.endWait()
		return
	}
	node := r.nodeAt(f)
	r.endWait()
	if w.Kind == flows.WaitHandover && ev.Kind != flows.EventHandover {
		// The bot gave up waiting (LIVE CHAT's timeout): close the request.
		r.sprint.HandoverEnd = flows.HandoverTimeout
	}
	if node == nil {
		// The bot changed under the session and the block is gone.
		r.sess.Frames = nil
		return
	}
	res, ok := node.Block.(flows.Resumer)
	if !ok {
		r.after(node, flows.Next())
		r.loop()
		return
	}
	r.waitResumed = w
	r.trace(node, nil)
	result := r.safely(node, func() flows.Result { return res.Resume(r, ev) })
	r.waitResumed = nil
	if r.after(node, result) {
		r.loop()
	}
}

func (r *run) nodeAt(f *flows.Frame) *flows.Node {
	sk, ok := r.bot.Skill(f.Skill)
	if !ok || f.Block < 0 || f.Block >= len(sk.Blocks) {
		return nil
	}
	return sk.Blocks[f.Block]
}

// loop runs blocks from the current position until the flow waits or ends.
func (r *run) loop() {
	for {
		f := r.sess.Current()
		if f == nil {
			return
		}
		node := r.nodeAt(f)
		if node == nil {
			// End of a skill: return to the caller of RUN, which goes on
			// where its next says or below it; or go idle.
			r.sess.Frames = r.sess.Frames[:len(r.sess.Frames)-1]
			if c := r.sess.Current(); c != nil {
				if caller := r.nodeAt(c); caller != nil && caller.Next != nil && caller.Next.Name != "" {
					r.jump(caller.Next.Ref())
				} else {
					c.Block++
				}
			}
			continue
		}
		r.blocks++
		if r.blocks > r.limit {
			r.fail(node, ErrStepLimit)
			return
		}
		ent, ok := node.Block.(flows.Enterer)
		if !ok {
			f.Block++
			continue
		}
		r.trace(node, nil)
		res := r.safely(node, func() flows.Result { return ent.Enter(r) })
		if r.overflow != nil {
			err := r.overflow
			r.overflow = nil
			res = flows.Fail(err)
		}
		if !r.after(node, res) {
			return
		}
	}
}

// safely runs a block, turning a panic into a failure so one bad block
// cannot take the process down.
func (r *run) safely(node *flows.Node, fn func() flows.Result) (res flows.Result) {
	defer func() {
		if p := recover(); p != nil {
			res = flows.Fail(fmt.Errorf("%s block failed: %v", node.Spec.Title, p))
		}
	}()
	return fn()
}

// after applies a block's result; it reports whether the loop goes on.
func (r *run) after(node *flows.Node, res flows.Result) bool {
	f := r.sess.Current()
	switch res.Kind {
	case flows.ResultNext:
		if node.Next != nil && node.Next.Name != "" {
			r.jump(node.Next.Ref())
		} else if f != nil {
			f.Block++
		}
		return true
	case flows.ResultGoto:
		if res.Target == nil {
			r.fail(node, errors.New("the block went nowhere: its result has no target"))
			return false
		}
		r.jump(res.Target.Ref())
		return true
	case flows.ResultCall:
		if res.Target == nil {
			r.fail(node, errors.New("the block called nothing: its result has no target"))
			return false
		}
		if len(r.sess.Frames) >= 32 {
			r.fail(node, errors.New("RUN nests deeper than 32 skills"))
			return false
		}
		ref := res.Target.Ref()
		r.sess.Frames = append(r.sess.Frames, flows.Frame{Skill: r.bot.SkillAt(ref.Skill).Name, Block: ref.Block})
		return true
	case flows.ResultWait:
		if res.Wait == nil {
			r.fail(node, errors.New("the block waits for nothing: its result has no wait"))
			return false
		}
		if err := r.wait(*res.Wait); err != nil {
			r.fail(node, err)
		}
		return false
	case flows.ResultEnd:
		r.sess.Frames = nil
		r.ended = true
		return false
	case flows.ResultFail:
		err := res.Err
		if err == nil {
			err = errors.New("the block failed")
		}
		r.fail(node, err)
		return false
	}
	return false
}

func (r *run) wait(ws flows.WaitSpec) error {
	w := &flows.Wait{
		Kind:          ws.Kind,
		Events:        ws.Events,
		Interruptible: ws.Interruptible,
		Attempts:      ws.Attempts,
		Step:          ws.Step,
	}
	due := ws.Until
	if ws.Timeout > 0 {
		d, err := r.due(ws.Timeout)
		if err != nil {
			return err
		}
		due = d
	}
	if !due.IsZero() && due.Sub(r.now) > flows.MaxDuration {
		return fmt.Errorf("waiting until %s is further ahead than the limit of 10 years", due.Format(time.RFC3339))
	}
	if !due.IsZero() {
		var id [64]byte
		w.TimerID = string(strconv.AppendUint(append(append(id[:0], r.contact.ID...), "/w"...), r.sess.Seq, 10))
		w.Due = due
		r.sprint.Timers = append(r.sprint.Timers, flows.Timer{
			ID: w.TimerID, Contact: r.contact.ID, Due: due, Kind: flows.TimerWait, Seq: r.sess.Seq,
		})
	}
	r.sess.Wait = w
	return nil
}

// fail routes to /_error with the error, or ends the flow when /_error is
// missing or is what failed.
func (r *run) fail(node *flows.Node, err error) {
	r.failed = true
	r.trace(node, err)
	r.errInfo = map[string]any{
		"message": err.Error(),
		"block":   node.Spec.Type,
		"id":      node.ID,
		"skill":   r.bot.SkillAt(node.Ref.Skill).Name,
	}
	r.env = nil
	r.endWait()
	cur := r.sess.Current()
	_, hasErr := r.bot.Skill(flows.SkillError)
	if !hasErr || r.inError || (cur != nil && cur.Skill == flows.SkillError) {
		r.sess.Frames = nil
		return
	}
	r.inError = true
	r.blocks = 0 // /_error gets its own budget, once
	r.sess.Frames = r.sess.Frames[:0]
	ref, _ := r.bot.Resolve(flows.SkillError)
	r.jump(ref)
	r.loop()
}

func (r *run) trace(node *flows.Node, err error) {
	r.ran++
	if r.sprint.Trace == nil {
		return
	}
	te := flows.TraceEntry{Skill: r.bot.SkillAt(node.Ref.Skill).Name, Block: node.Ref.Block, Type: node.Type, ID: node.ID}
	if err != nil {
		te.Error = err.Error()
	}
	r.sprint.Trace = append(r.sprint.Trace, te)
}
