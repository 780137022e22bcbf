package flows

import "time"

// Session is where the engine stands in a bot for one contact. It is small,
// serialized at every step (see codec.go) and owned by exactly
// one goroutine at a time.
type Session struct {
	// Seq increases every time the session's position changes. Wait timers
	// carry the Seq they were set for, so a timer for a position the session
	// has left is recognised as stale.
	Seq uint64
	// Frames is the call stack: the last frame is the current position; RUN
	// pushes a frame and the end of the called skill pops it.
	Frames []Frame
	// Wait is set while the session waits for a message, an event, a timer
	// or the end of a handover.
	Wait *Wait
	// Vars are the conversation variables.
	Vars map[string]any
	// Offered are the buttons and quick replies of the latest bot messages:
	// a tap (payload) or a typed title picks one.
	Offered []Offer
	// Misses counts consecutive messages that matched nothing (/default);
	// past the bot's fallback_after setting, /_default_fallback is entered.
	Misses int
	// Started is false until /start has run once.
	Started bool
	// Calls counts the ids the session's steps handed out to action calls
	// and notifications (Run.NextCallID). Unlike Seq it never goes back (an
	// interruption that leaves no trace restores Seq), so no two calls of
	// a contact share an id; and a step run again from the same stored
	// session hands out the same ones.
	Calls uint64
}

// Frame is a position: a block index within a named skill.
type Frame struct {
	Skill string
	Block int
}

// WaitKind says what a waiting block waits for.
type WaitKind uint8

const (
	// WaitMessage waits for the next user message (LISTEN, WAITFOR).
	WaitMessage WaitKind = iota + 1
	// WaitTimer waits for a timer only (TIMER, WAITUNTIL).
	WaitTimer
	// WaitHandover waits for a live-chat handover to end (LIVE CHAT).
	WaitHandover
)

// Wait is the state of a waiting block.
type Wait struct {
	Kind WaitKind
	// Events are the named events that also resume the wait (WAITFOR).
	Events []string
	// TimerID is the timeout or due timer, if any.
	TimerID string
	Due     time.Time
	// Interruptible waits (a TIMER that a message may interrupt) give way to
	// an incoming message, which is then routed as if nothing waited.
	Interruptible bool
	// Attempts counts failed inputs (LISTEN validation retries).
	Attempts int
	// Step is a waiting block's own progress (which LEAD question is open).
	Step int
}

// Offer is a button or quick reply the user may pick next.
type Offer struct {
	Title   string
	Payload string
	// Target is where a goto button leads; empty for a postback button,
	// whose payload is delivered to the flow as the message.
	Target string
}

// Current returns the current frame, or nil when the session is idle.
func (s *Session) Current() *Frame {
	if len(s.Frames) == 0 {
		return nil
	}
	return &s.Frames[len(s.Frames)-1]
}
