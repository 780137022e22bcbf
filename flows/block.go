package flows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Block is the decoded configuration of one block: a pointer to a struct
// whose yaml-tagged fields are the block's fields. Its behaviour comes from
// the optional interfaces below.
type Block any

// Enterer is implemented by every block the engine can run. Enter is called
// when the flow reaches the block.
type Enterer interface {
	Enter(r Run) Result
}

// Resumer is implemented by blocks that wait. Resume is called with the event
// that ended the wait: a message, a named event, a due timer (the timeout) or
// the end of a handover.
type Resumer interface {
	Resume(r Run, ev *Event) Result
}

// Checker is implemented by blocks with rules the schema cannot express
// (exactly one of two fields, a range). It runs at load time.
type Checker interface {
	Check(c *Check)
}

// Run is what a block may do while the engine runs it. Everything a block
// does goes through it, which keeps blocks free of I/O and the engine's step
// deterministic for a given clock and seed.
type Run interface {
	// Now is the engine's clock; Location is the bot's time zone.
	Now() time.Time
	Location() *time.Location
	// Rand is seeded per step, so random variants are reproducible.
	Rand() *rand.Rand

	// Eval runs a compiled expression against the conversation's environment.
	Eval(e *Expr) (any, error)
	// Truthy runs an expression and reports whether its result is true,
	// a non-empty string, a non-zero number or a non-empty collection.
	Truthy(e *Expr) (bool, error)
	// Render expands a template's {{ … }} parts.
	Render(t *Template) (string, error)

	// Send queues an outbound message. Goto and postback buttons it carries
	// become the session's offered choices.
	Send(c Content, offers []Offer)

	// Get reads a variable ("order") or a contact field ("contact.email").
	Get(name string) any
	// Set writes a variable, or a contact attribute when name starts with
	// "contact.": the value is converted to the attribute's declared type and
	// an error says why when it cannot be.
	Set(name string, v any) error
	// Unset removes a variable or a contact attribute.
	Unset(name string)
	// AddTag tags the contact; it fails past MaxTags or for a tag longer
	// than MaxTagLen.
	AddTag(tag string) error
	RemoveTag(tag string)
	SetStatus(status string)
	// Contact is the contact as the step leaves it so far: read it, and
	// change it only through the methods above.
	Contact() *Contact
	Bot() *Bot

	// Notify raises a notification (TRIGGER).
	Notify(n Notification) error
	// Emit raises a named event for this contact, now or after delay
	// (SEND). It fails past the engine's limit of events per step.
	Emit(name string, data map[string]any, delay time.Duration) error
	// Handover asks for a human (LIVE CHAT).
	Handover(req HandoverRequest) error
	// HTTP is the client for the JSON block; it is bounded by the engine's
	// limits and may be nil when the engine runs without network access.
	HTTP() HTTPDoer
	// Actions calls integration plugins' actions (the ACTION block); nil
	// when the engine runs without plugins.
	Actions() ActionInvoker
	// NextCallID returns the ActionCaller.ID of the block's next action call.
	// It derives from the bot, the contact and the session's count of
	// calls (Session.Calls): a step run again from the same stored session
	// calls with the same ids, and every other call gets a new one.
	NextCallID() string

	// Wait is the state of the wait being resumed (attempt counter), or nil.
	Wait() *Wait
	// Event is the event being handled: the message, the named event (CATCH
	// reads its data), the timer, or the end of a handover.
	Event() *Event
}

// Bounds on a contact's tags, which user input can drive.
const (
	MaxTags   = 100
	MaxTagLen = 64
)

// ActionInvoker calls an integration's action: name is
// "integration.action" ("smtp.email.send"), params its parameters. The
// result is JSON-like (maps, lists, strings, float64s, bools, nil).
type ActionInvoker interface {
	Invoke(ctx context.Context, name string, params map[string]any, from ActionCaller) (any, error)
}

// ActionCaller is the conversation an action is called from, and which
// call it is.
type ActionCaller struct {
	Bot, Contact, Channel string
	Attributes            map[string]any
	// ID identifies the call: the same when the same call is made again (a
	// step run again from the same session after a crash, a notification
	// retried), different for every other call. Integrations take it as
	// an idempotency key (sdk.Conversation.InvocationID). See CallID.
	ID string
}

// CallID derives an ActionCaller.ID from what identifies a call: equal
// parts give equal ids. It is 32 hex digits, fit for any provider's
// idempotency key, an HTTP header or a Message-ID.
func CallID(parts ...string) string {
	h := sha256.New()
	h.Write([]byte("switchboard-call"))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// HTTPDoer performs an HTTP request. *http.Client satisfies it.
type HTTPDoer interface {
	Do(req *http.Request) (*http.Response, error)
}

// Result tells the engine where the flow goes after a block.
type Result struct {
	Kind   ResultKind
	Target *Target
	Wait   *WaitSpec
	Err    error
}

// ResultKind enumerates the ways a block hands control back.
type ResultKind uint8

const (
	// ResultNext continues with the block's next, or the following block.
	ResultNext ResultKind = iota
	// ResultGoto jumps to Target (a skill or a block id).
	ResultGoto
	// ResultCall enters Target's skill and comes back after it ends (RUN).
	ResultCall
	// ResultWait suspends the session until an event resumes the block.
	ResultWait
	// ResultEnd ends the conversation flow: the session becomes idle.
	ResultEnd
	// ResultFail routes to /_error with Err.
	ResultFail
)

// WaitSpec describes a wait a block starts.
type WaitSpec struct {
	Kind WaitKind
	// Timeout, when positive, sets a timer that resumes the block with an
	// EventTimer after this long. Until does the same at a fixed time.
	Timeout time.Duration
	Until   time.Time
	// Events also resume the wait (WAITFOR).
	Events        []string
	Interruptible bool
	// Attempts is carried over when a block waits again after bad input.
	Attempts int
	// Step is the block's own progress, handed back through Run.Wait.
	Step int
}

// Next continues with the block's next block.
func Next() Result { return Result{Kind: ResultNext} }

// Goto jumps to t. A nil or empty target means Next.
func Goto(t *Target) Result {
	if t == nil || t.Name == "" {
		return Next()
	}
	return Result{Kind: ResultGoto, Target: t}
}

// Call enters t's skill and returns after it ends.
func Call(t *Target) Result { return Result{Kind: ResultCall, Target: t} }

// Suspend waits as w says.
func Suspend(w WaitSpec) Result { return Result{Kind: ResultWait, Wait: &w} }

// End ends the flow.
func End() Result { return Result{Kind: ResultEnd} }

// Fail routes to /_error.
func Fail(err error) Result { return Result{Kind: ResultFail, Err: err} }

// Failf routes to /_error with a formatted error.
func Failf(format string, args ...any) Result { return Fail(fmt.Errorf(format, args...)) }

// Spec describes a block type once; the JSON Schema, validation messages,
// the editor's palette and forms and the block reference are derived from it.
type Spec struct {
	// Type is the key that names the block in bot files ("text", "live_chat").
	Type string `json:"type"`
	// Title is the name designers see ("TEXT", "LIVE CHAT").
	Title    string `json:"title"`
	Category string `json:"category"`
	// Description is one or two sentences for the palette and the docs.
	Description string `json:"description"`
	// Primary names the field that the type key's value fills, so that
	// `text: Hello` sets the TEXT block's text. Empty when the type key takes
	// no value (`end: true`).
	Primary string `json:"primary,omitempty"`
	// Example is a bot-file fragment (a list of blocks) using the block; the
	// block reference shows it and a test runs it.
	Example string `json:"example"`
	// New returns a zero configuration. It must return a pointer to a struct.
	New func() Block `json:"-"`

	// Fields are derived from the configuration struct at registration.
	Fields []Field `json:"fields"`
}

// Categories in palette order.
var Categories = []string{"Messages", "Input", "Logic", "Data", "Events", "Time", "Live chat", "Actions"}

var registry = struct {
	sync.RWMutex
	specs map[string]*Spec
	// version changes with every change of the registry, so the compiled
	// schema knows when to compile again.
	version int
}{specs: map[string]*Spec{}}

func registryVersion() int {
	registry.RLock()
	defer registry.RUnlock()
	return registry.version
}

// RegisterBlock adds a block type. Built-in blocks call it from init with a
// configuration struct whose tags describe the fields; it panics on their
// programming errors (a duplicate type, a configuration that is not a
// struct pointer), which surface at start-up in every test.
//
// A block described at run time — an integration plugin's action, whose
// parameters come from its manifest — sets Fields itself and may return any
// YAML-decodable configuration from New (a *map[string]any); it registers
// with AddBlock, which returns errors instead and can replace the block
// when the plugin is reloaded.
func RegisterBlock(s Spec) {
	if err := addBlock(s, false); err != nil {
		panic(err)
	}
}

// AddBlock registers or replaces a block type described at run time. The
// loader validates the next bot files against it at once.
func AddBlock(s Spec) error { return addBlock(s, true) }

// RemoveBlock removes a block type added with AddBlock (a plugin that went
// away). Bots that use it no longer load.
func RemoveBlock(typ string) {
	registry.Lock()
	defer registry.Unlock()
	delete(registry.specs, typ)
	registry.version++
}

func addBlock(s Spec, replace bool) error {
	if s.Type == "" || s.New == nil || s.Title == "" {
		return fmt.Errorf("flows: block spec needs Type, Title and New")
	}
	if s.Fields == nil {
		fields, err := deriveFields(s.New())
		if err != nil {
			return fmt.Errorf("flows: block %s: %v", s.Type, err)
		}
		s.Fields = fields
	}
	if s.Primary != "" && fieldByName(s.Fields, s.Primary) == nil {
		return fmt.Errorf("flows: block %s: primary field %q is not a field", s.Type, s.Primary)
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.specs[s.Type]; dup && !replace {
		return fmt.Errorf("flows: duplicate block type %s", s.Type)
	}
	registry.specs[s.Type] = &s
	registry.version++
	return nil
}

// LookupBlock returns the spec of a block type.
func LookupBlock(typ string) (*Spec, bool) {
	registry.RLock()
	defer registry.RUnlock()
	s, ok := registry.specs[typ]
	return s, ok
}

// BlockSpecs returns every registered spec, ordered by category then type.
func BlockSpecs() []*Spec {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]*Spec, 0, len(registry.specs))
	for _, s := range registry.specs {
		out = append(out, s)
	}
	rank := map[string]int{}
	for i, c := range Categories {
		rank[c] = i
	}
	sort.Slice(out, func(i, j int) bool {
		if rank[out[i].Category] != rank[out[j].Category] {
			return rank[out[i].Category] < rank[out[j].Category]
		}
		return out[i].Type < out[j].Type
	})
	return out
}

// BlockTypes returns the registered type keys, sorted.
func BlockTypes() []string {
	specs := BlockSpecs()
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Type
	}
	sort.Strings(out)
	return out
}
