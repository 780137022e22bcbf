// Package flows is the bot-file model: the types a bot is made of, the
// contract between blocks and the engine, and the loader that turns a YAML or
// JSON file into a validated, compiled Bot with every problem reported at its
// file, line and column.
//
// Block types live in package blocks and register themselves here; the engine
// that runs a Bot lives in runtime/engine.
package flows

import "time"

// Content is what one message carries, inbound or outbound. Channels render
// what they can and degrade the rest (buttons become numbered options).
type Content struct {
	Text         string   `json:"text,omitempty"`
	Buttons      []Button `json:"buttons,omitempty"`
	QuickReplies []Button `json:"quick_replies,omitempty"`
	Image        *Media   `json:"image,omitempty"`
	Media        *Media   `json:"media,omitempty"`
	File         *Media   `json:"file,omitempty"`
	Gallery      []Card   `json:"gallery,omitempty"`
	// Payload is set on inbound messages produced by a button or quick-reply tap.
	Payload string `json:"payload,omitempty"`
	// Attachments are files the user uploaded.
	Attachments []Media `json:"attachments,omitempty"`
}

// Button is a choice shown with a message. Exactly one of Payload and URL is
// set on an outbound button.
type Button struct {
	Title   string `json:"title"`
	Payload string `json:"payload,omitempty"`
	URL     string `json:"url,omitempty"`
}

// Media is an image, audio, video or file, by URL.
type Media struct {
	URL     string `json:"url"`
	Kind    string `json:"kind,omitempty"` // image, audio, video, file
	Name    string `json:"name,omitempty"`
	Caption string `json:"caption,omitempty"`
	MIME    string `json:"mime,omitempty"`
	Size    int64  `json:"size,omitempty"`
}

// Card is one element of a gallery.
type Card struct {
	Image    string   `json:"image,omitempty"`
	Title    string   `json:"title"`
	Subtitle string   `json:"subtitle,omitempty"`
	Buttons  []Button `json:"buttons,omitempty"`
}

// Contact is a person on a channel, as one bot knows them.
type Contact struct {
	ID         string         `json:"id"`
	Bot        string         `json:"bot"`
	Channel    string         `json:"channel"`
	ExternalID string         `json:"external_id,omitempty"`
	Name       string         `json:"name,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
	Tags       []string       `json:"tags,omitempty"`
	// Status is the conversation label agents see (set by the STATUS block).
	Status    string    `json:"status,omitempty"`
	Banned    bool      `json:"banned,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Queue is the live-chat queue (team) of the contact's latest handover.
	// An agent sees the conversations of their bots that went to one of
	// their teams' queues, or to none.
	Queue string `json:"queue,omitempty"`
}

// HasTag reports whether the contact carries tag.
func (c *Contact) HasTag(tag string) bool {
	for _, t := range c.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// Clone returns a deep-enough copy for the engine to change without touching
// the original: attributes and tags are copied, attribute values are treated
// as immutable.
func (c *Contact) Clone() *Contact {
	n := *c
	if c.Attributes != nil {
		n.Attributes = make(map[string]any, len(c.Attributes))
		for k, v := range c.Attributes {
			n.Attributes[k] = v
		}
	}
	n.Tags = append([]string(nil), c.Tags...)
	return &n
}

// EventKind says what woke the engine up.
type EventKind string

const (
	// EventMessage is a message from the user.
	EventMessage EventKind = "message"
	// EventNamed is a named event: from SEND, the API, a page visit.
	EventNamed EventKind = "event"
	// EventTimer is a durable timer that came due.
	EventTimer EventKind = "timer"
	// EventHandover is the end of a live-chat handover.
	EventHandover EventKind = "handover"
	// EventSkill runs the skill Name for the user while a live chat goes
	// on (an agent sends a part of the bot as the answer); the
	// conversation stays with the agent.
	EventSkill EventKind = "skill"
)

// Event is one input to the engine's step function.
type Event struct {
	Kind EventKind `json:"kind"`
	// Message is set for EventMessage.
	Message *Content `json:"message,omitempty"`
	// Name and Data are set for EventNamed; Name for EventSkill.
	Name string         `json:"name,omitempty"`
	Data map[string]any `json:"data,omitempty"`
	// Timer is set for EventTimer.
	Timer *Timer `json:"timer,omitempty"`
	// Outcome is set for EventHandover: one of the Handover* outcomes.
	Outcome string `json:"outcome,omitempty"`
}

// Handover outcomes, delivered with EventHandover.
const (
	HandoverResolved = "resolved"
	HandoverNoAgent  = "no_agent"
	HandoverTimeout  = "timeout"
)

// TimerKind distinguishes timers that end a wait from timers that deliver a
// delayed event.
type TimerKind string

const (
	// TimerWait ends a wait (TIMER, WAITUNTIL, a LISTEN or WAITFOR timeout).
	// It is stale, and ignored, when the session has moved since it was set.
	TimerWait TimerKind = "wait"
	// TimerEvent delivers a delayed named event (SEND with delay). It is never stale.
	TimerEvent TimerKind = "event"
	// TimerSystem is the runtime's own (live chat's idle auto-off and
	// overdue checks): its Event names what to do, and the runtime's hooks
	// handle it; the engine ignores it.
	TimerSystem TimerKind = "system"
)

// Timer is a durable record that turns into an EventTimer when due.
type Timer struct {
	ID      string    `json:"id"`
	Contact string    `json:"contact"`
	Due     time.Time `json:"due"`
	Kind    TimerKind `json:"kind"`
	// Seq is the session position the timer was set for (TimerWait).
	Seq uint64 `json:"seq,omitempty"`
	// Event is delivered when a TimerEvent fires.
	Event *Event `json:"event,omitempty"`
}

// HandoverRequest asks for a human to take the conversation.
type HandoverRequest struct {
	Queue    string         `json:"queue,omitempty"`
	Priority string         `json:"priority,omitempty"`
	Message  string         `json:"message,omitempty"`
	Note     string         `json:"note,omitempty"`
	Form     map[string]any `json:"form,omitempty"`
	// NoAgentBranch is set when the bot has somewhere to go when no agent
	// is available: the runtime then ends a handover that finds nobody
	// online with HandoverNoAgent instead of keeping it waiting.
	NoAgentBranch bool `json:"no_agent_branch,omitempty"`
}

// Notification is raised by a TRIGGER block and handed to the bot's
// notification targets.
type Notification struct {
	Name string         `json:"name"`
	Data map[string]any `json:"data,omitempty"`
	// ID identifies the notification, as Run.NextCallID does a call: its
	// targets' calls derive their ids from it.
	ID string `json:"id,omitempty"`
}

// TraceEntry records one block the engine entered or resumed.
type TraceEntry struct {
	Skill string `json:"skill"`
	Block int    `json:"block"`
	Type  string `json:"type"`
	ID    string `json:"id,omitempty"`
	// Error is the failure of the block, if it failed.
	Error string `json:"error,omitempty"`
}

// Sprint is everything one step of the engine produced. The runtime applies
// it atomically: the new session, the contact, the messages and the timers
// commit together.
type Sprint struct {
	Session      *Session         `json:"session"`
	Contact      *Contact         `json:"contact"`
	ContactDirty bool             `json:"contact_dirty,omitempty"`
	Messages     []Content        `json:"messages,omitempty"`
	Timers       []Timer          `json:"timers,omitempty"`
	CancelTimers []string         `json:"cancel_timers,omitempty"`
	Handover     *HandoverRequest `json:"handover,omitempty"`
	// HandoverEnd is set when the bot stopped waiting for an open handover
	// on its own (the LIVE CHAT block's timeout): the runtime closes the
	// request with this outcome so agents no longer see it waiting.
	HandoverEnd   string         `json:"handover_end,omitempty"`
	Notifications []Notification `json:"notifications,omitempty"`
	Trace         []TraceEntry   `json:"trace,omitempty"`
	// Ignored is set when the event did not move the session (a stale
	// timer, an uninterruptible wait). CancelTimers still apply: a fired
	// timer is always cancelled.
	Ignored bool `json:"ignored,omitempty"`
}
