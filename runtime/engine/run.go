package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/switchboard-bots/switchboard/flows"
)

// run is the state of one step; it implements flows.Run for the blocks.
type run struct {
	eng     *Engine
	bot     *flows.Bot
	sess    *flows.Session
	contact *flows.Contact
	now     time.Time
	seed    uint64
	sprint  flows.Sprint
	vm      *vm.VM
	rnd     *rand.Rand

	event  *flows.Event
	queued []flows.Event
	intent string

	env          map[string]any
	contactDirty bool
	errInfo      map[string]any
	inError      bool
	waitResumed  *flows.Wait
	blocks       int
	limit        int
	emitted      int
	// offeredThisStep is set by the step's first message with choices,
	// which replaces the choices offered before.
	offeredThisStep bool
	// overflow is set when a block sent past the message limit.
	overflow error
	// ended is set by END; failed when a block failed: neither returns to
	// an interrupted wait.
	ended, failed bool
	// messages backs the sprint's Messages for the usual step.
	messages [4]flows.Content
	// ran counts the blocks the step ran, traced or not.
	ran int
	// ownContact is set once contact is the step's own copy of the
	// input's, made by the first change (see mutableContact).
	ownContact bool
}

var _ flows.Run = (*run)(nil)

func (r *run) Now() time.Time           { return r.now }
func (r *run) Location() *time.Location { return r.bot.Location }
func (r *run) Contact() *flows.Contact  { return r.contact }
func (r *run) Bot() *flows.Bot          { return r.bot }
func (r *run) Wait() *flows.Wait        { return r.waitResumed }
func (r *run) Event() *flows.Event      { return r.event }

func (r *run) HTTP() flows.HTTPDoer { return r.eng.HTTP }

func (r *run) Actions() flows.ActionInvoker { return r.eng.Actions }

// NextCallID counts the call in the session, which is stored with the
// step: a step run again from the same session counts the same.
func (r *run) NextCallID() string {
	r.sess.Calls++
	return flows.CallID(r.bot.ID, r.contact.ID, strconv.FormatUint(r.sess.Calls, 10))
}

func (r *run) Rand() *rand.Rand {
	if r.rnd == nil {
		r.rnd = rand.New(rand.NewPCG(r.seed, r.sess.Seq))
	}
	return r.rnd
}

// reserved names cannot be variables: they name the environment's parts.
var reserved = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range flows.ReservedNames {
		m[n] = true
	}
	return m
}()

// environment builds the expression environment once per step and keeps it
// current as blocks change variables and the contact.
func (r *run) environment() map[string]any {
	if r.env != nil {
		return r.env
	}
	env := make(map[string]any, len(r.sess.Vars)+8)
	for k, v := range r.sess.Vars {
		env[k] = v
	}
	env["vars"] = r.sess.Vars
	env["contact"] = r.contactView()
	env["now"] = r.now
	env["bot"] = r.bot.View()
	input := ""
	var message map[string]any
	if r.event != nil && r.event.Message != nil {
		m := r.event.Message
		// A tapped button's payload is what the user meant; its title is
		// only what they saw.
		input = m.Payload
		if input == "" {
			input = m.Text
		}
		message = map[string]any{"text": m.Text, "payload": m.Payload, "intent": r.intent}
		if ents := r.bot.ExtractEntities(m.Text); ents != nil {
			message["entities"] = ents
		} else {
			message["entities"] = map[string]any{}
		}
		if len(m.Attachments) > 0 {
			atts := make([]any, len(m.Attachments))
			for i, a := range m.Attachments {
				atts[i] = map[string]any{"url": a.URL, "kind": a.Kind, "name": a.Name, "mime": a.MIME, "size": a.Size}
			}
			message["attachments"] = atts
		}
	}
	env["input"] = input
	env["message"] = message
	if r.event != nil && r.event.Kind == flows.EventNamed {
		env["event"] = map[string]any{"name": r.event.Name, "data": r.event.Data}
	} else {
		env["event"] = nil
	}
	env["error"] = r.errInfo
	r.env = env
	return env
}

func (r *run) contactView() map[string]any {
	c := r.contact
	m := make(map[string]any, len(c.Attributes)+8)
	for k, v := range c.Attributes {
		m[k] = v
	}
	m["id"] = c.ID
	m["channel"] = c.Channel
	// Unknown name and status read as nil, so `contact.name ?? "there"` works.
	m["name"] = orNil(c.Name)
	m["status"] = orNil(c.Status)
	tags := make([]any, len(c.Tags))
	for i, t := range c.Tags {
		tags[i] = t
	}
	m["tags"] = tags
	m["attributes"] = c.Attributes
	return m
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (r *run) Eval(e *flows.Expr) (any, error) {
	if e.IsZero() {
		return nil, nil
	}
	p := e.Program()
	if p == nil {
		return nil, fmt.Errorf("expression %q was not compiled", e.Src)
	}
	v, err := r.vm.Run(p, r.environment())
	if err != nil {
		return nil, fmt.Errorf("line %d: %s: %w", e.Pos.Line, e.Src, unwrapExpr(err))
	}
	return v, nil
}

// unwrapExpr drops expr-lang's source snippet, which repeats the expression.
func unwrapExpr(err error) error {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i > 0 {
		msg = msg[:i]
	}
	// expr-lang ends messages with the (line:column) inside the expression,
	// which the caller already names.
	if i := strings.LastIndex(msg, " ("); i > 0 && strings.HasSuffix(msg, ")") {
		msg = msg[:i]
	}
	return errors.New(msg)
}

func (r *run) Truthy(e *flows.Expr) (bool, error) {
	v, err := r.Eval(e)
	if err != nil {
		return false, err
	}
	return Truthy(v), nil
}

// Truthy is the truth of a value in conditions: true, a non-empty string,
// a non-zero number, a non-empty list or map.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int:
		return x != 0
	case int64:
		return x != 0
	case float64:
		return x != 0 && !math.IsNaN(x)
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

func (r *run) Render(t *flows.Template) (string, error) {
	parts := t.Parts()
	if len(parts) == 1 && parts[0].Expr == nil {
		return parts[0].Lit, nil
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Expr == nil {
			b.WriteString(p.Lit)
			continue
		}
		v, err := r.Eval(p.Expr)
		if err != nil {
			return "", err
		}
		b.WriteString(Format(v))
	}
	return b.String(), nil
}

// Format renders a value inside text: numbers without needless decimals,
// times as date and time, lists and maps as JSON, nothing for nil.
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format("2006-01-02 15:04")
	case time.Duration:
		return x.String()
	case []any, map[string]any:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
	return fmt.Sprint(v)
}

// maxOffers bounds the buttons and quick replies a session remembers.
const maxOffers = 64

// Send queues a message. The offered choices are those of the latest step
// that offered any: its first message with buttons or quick replies
// replaces what earlier steps offered, and its later ones add to them. A
// message without choices leaves them standing ("tap a button above").
// Past the step's message limit the block fails.
func (r *run) Send(c flows.Content, offers []flows.Offer) {
	limit := r.eng.Limits.MaxMessages
	if limit <= 0 {
		limit = DefaultLimits.MaxMessages
	}
	if len(r.sprint.Messages) >= limit {
		r.overflow = fmt.Errorf("the step sent more than %d messages: the flow probably loops", limit)
		return
	}
	r.sprint.Messages = append(r.sprint.Messages, c)
	if len(offers) > 0 && !r.offeredThisStep {
		r.offeredThisStep = true
		r.sess.Offered = r.sess.Offered[:0]
	}
	for _, o := range offers {
		if len(r.sess.Offered) < maxOffers {
			r.sess.Offered = append(r.sess.Offered, o)
		}
	}
}

const contactPrefix = "contact."

func (r *run) Get(name string) any {
	if a, ok := strings.CutPrefix(name, contactPrefix); ok {
		switch a {
		case "name":
			return r.contact.Name
		case "status":
			return r.contact.Status
		case "channel":
			return r.contact.Channel
		case "id":
			return r.contact.ID
		}
		return r.contact.Attributes[a]
	}
	return r.sess.Vars[name]
}

// MaxVars bounds the variables of one session.
const MaxVars = 256

func (r *run) Set(name string, v any) error {
	v, err := normalize(v)
	if err != nil {
		return fmt.Errorf("saving to %s: %w", name, err)
	}
	if a, ok := strings.CutPrefix(name, contactPrefix); ok {
		return r.setAttr(a, v)
	}
	if reserved[name] || name == "" {
		return fmt.Errorf("%q is a reserved name and cannot be a variable: choose another", name)
	}
	if _, exists := r.sess.Vars[name]; !exists && len(r.sess.Vars) >= MaxVars {
		return fmt.Errorf("the conversation has %d variables, the most it may have", MaxVars)
	}
	r.sess.Vars[name] = v
	if r.env != nil {
		r.env[name] = v
	}
	return nil
}

// mutableContact returns the step's own copy of the contact, to change:
// the input's contact is the caller's, and most steps change nothing.
func (r *run) mutableContact() *flows.Contact {
	if !r.ownContact {
		r.contact = r.contact.Clone()
		r.sprint.Contact = r.contact
		r.ownContact = true
	}
	return r.contact
}

func (r *run) setAttr(name string, v any) error {
	switch name {
	case "id", "channel", "tags", "attributes":
		return fmt.Errorf("contact.%s cannot be set", name)
	}
	c := r.mutableContact()
	switch name {
	case "name":
		c.Name = Format(v)
	case "status":
		c.Status = Format(v)
	default:
		if decl, ok := r.bot.Attribute(name); ok {
			cv, err := decl.Convert(v)
			if err != nil {
				return err
			}
			v = cv
		}
		if c.Attributes == nil {
			c.Attributes = map[string]any{}
		}
		c.Attributes[name] = v
	}
	r.touchContact()
	return nil
}

func (r *run) touchContact() {
	r.contactDirty = true
	if r.env != nil {
		r.env["contact"] = r.contactView()
	}
}

func (r *run) Unset(name string) {
	if a, ok := strings.CutPrefix(name, contactPrefix); ok {
		if _, ok := r.contact.Attributes[a]; ok {
			delete(r.mutableContact().Attributes, a)
			r.touchContact()
		}
		return
	}
	delete(r.sess.Vars, name)
	if r.env != nil && !reserved[name] {
		delete(r.env, name)
	}
}

func (r *run) AddTag(tag string) error {
	if tag == "" || r.contact.HasTag(tag) {
		return nil
	}
	if len(tag) > flows.MaxTagLen {
		return fmt.Errorf("tag %q is longer than %d characters", short(tag), flows.MaxTagLen)
	}
	if len(r.contact.Tags) >= flows.MaxTags {
		return fmt.Errorf("the contact already has %d tags, the most it may have", flows.MaxTags)
	}
	c := r.mutableContact()
	c.Tags = append(c.Tags, tag)
	r.touchContact()
	return nil
}

// short cuts long text for error messages.
func short(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

func (r *run) RemoveTag(tag string) {
	for i, t := range r.contact.Tags {
		if t == tag {
			c := r.mutableContact()
			c.Tags = append(c.Tags[:i:i], c.Tags[i+1:]...)
			r.touchContact()
			return
		}
	}
}

func (r *run) SetStatus(status string) {
	if r.contact.Status != status {
		r.mutableContact().Status = status
		r.touchContact()
	}
}

// normalizeMap makes data storable, like variables.
func normalizeMap(data map[string]any) (map[string]any, error) {
	if data == nil {
		return nil, nil
	}
	v, err := normalize(data)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func (r *run) Notify(n flows.Notification) error {
	data, err := normalizeMap(n.Data)
	if err != nil {
		return fmt.Errorf("notification %s: %w", n.Name, err)
	}
	n.Data = data
	n.ID = r.NextCallID()
	r.sprint.Notifications = append(r.sprint.Notifications, n)
	return nil
}

func (r *run) Emit(name string, data map[string]any, delay time.Duration) error {
	data, err := normalizeMap(data)
	if err != nil {
		return fmt.Errorf("event %s: %w", name, err)
	}
	ev := flows.Event{Kind: flows.EventNamed, Name: name, Data: data}
	if delay <= 0 {
		if len(r.queued) >= r.eng.maxEvents() {
			return fmt.Errorf("the step raised more than %d events: events probably trigger each other in a loop", r.eng.maxEvents())
		}
		r.queued = append(r.queued, ev)
		return nil
	}
	due, err := r.due(delay)
	if err != nil {
		return err
	}
	r.emitted++
	r.sprint.Timers = append(r.sprint.Timers, flows.Timer{
		ID:      fmt.Sprintf("%s/e%d.%d", r.contact.ID, r.sess.Seq, r.emitted),
		Contact: r.contact.ID,
		Due:     due,
		Kind:    flows.TimerEvent,
		Event:   &ev,
	})
	return nil
}

func (r *run) Handover(req flows.HandoverRequest) error {
	form, err := normalizeMap(req.Form)
	if err != nil {
		return fmt.Errorf("live chat form: %w", err)
	}
	req.Form = form
	if req.Queue == "" {
		req.Queue = r.bot.Settings.Queue
	}
	r.sprint.Handover = &req
	return nil
}

// due is now + d, refused past flows.MaxDuration: a timer further out
// could not be stored, and nobody waits decades for a bot.
func (r *run) due(d time.Duration) (time.Time, error) {
	if d > flows.MaxDuration {
		return time.Time{}, fmt.Errorf("a wait of %s is longer than the limit of 10 years", d)
	}
	return r.now.Add(d), nil
}
