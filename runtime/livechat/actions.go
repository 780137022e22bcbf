package livechat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/access"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// Bounds of what agents write.
const (
	MaxText     = 4096
	MaxNote     = 2000
	MaxTags     = 30
	MaxTagLen   = 64
	MaxButtons  = 3
	maxURL      = 2048
	noteColours = "yellow green blue pink purple orange grey"
)

// Get returns a handover the principal may see.
func (s *Service) Get(ctx context.Context, by *access.Principal, id string) (*store.Handover, error) {
	h, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !by.SeesQueue(h.Bot, h.Queue) {
		return nil, ErrNotFound // never tell that it exists
	}
	return h, nil
}

// change runs fn on the handover's contact shard, with the handover as it
// stands there, and commits what fn did with the conversation's own steps
// in order. It returns the handover as committed.
func (s *Service) change(ctx context.Context, by *access.Principal, id string, fn func(tx *pipeline.Tx, h *store.Handover) error) (*store.Handover, *pipeline.Result, error) {
	h, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, nil, err
	}
	if !by.Can(access.ScopeWrite) {
		return nil, nil, ErrForbidden
	}
	var out *store.Handover
	res, err := s.cfg.Pipeline.Do(ctx, h.Contact, func(ctx context.Context, tx *pipeline.Tx) error {
		cur, err := s.pending(ctx, tx, id)
		if err != nil {
			return err
		}
		if !by.SeesQueue(cur.Bot, cur.Queue) {
			return ErrNotFound
		}
		out = cur
		return fn(tx, cur)
	})
	if err != nil {
		return nil, nil, err
	}
	return out, res, nil
}

// Assign gives the handover to agent ("" for the principal itself).
func (s *Service) Assign(ctx context.Context, by *access.Principal, id, agent string) (*store.Handover, error) {
	if agent == "" {
		agent = by.Account
	}
	if agent == "" {
		return nil, fmt.Errorf("%w: a program must name the agent", ErrInvalid)
	}
	if agent != by.Account && !by.CanAssignOthers() {
		return nil, fmt.Errorf("%w: only managers and admins assign handovers to others", ErrForbidden)
	}
	acct, err := s.agent(ctx, agent)
	if err != nil {
		return nil, err
	}
	h, _, err := s.change(ctx, by, id, func(tx *pipeline.Tx, h *store.Handover) error {
		if !store.HandoverOpen(h.Status) {
			return fmt.Errorf("%w: it is %s", ErrConflict, h.Status)
		}
		if !canWork(acct, h) {
			return fmt.Errorf("%w: %s does not work on this bot and queue", ErrInvalid, acct.Email)
		}
		if h.Assignee == agent {
			return nil
		}
		s.assign(tx, h, acct, by.Account)
		return nil
	})
	return h, err
}

// assign gives h to acct, telling the customer.
func (s *Service) assign(tx *pipeline.Tx, h *store.Handover, acct *store.Account, by string) {
	first := h.Assignee == ""
	h.Assignee = acct.ID
	if h.AssignedAt.IsZero() {
		h.AssignedAt = tx.Now
	}
	to := store.HandoverAssigned
	if !h.FirstReplyAt.IsZero() && h.Status != store.HandoverNew {
		to = h.Status
	}
	record(h, by, to, "assigned to "+displayName(acct), tx.Now)
	if first {
		tx.Batch.Messages = append(tx.Batch.Messages, systemMessage(tx.Now, h.Channel, flows.Content{Text: displayName(acct) + " joined the conversation."}))
	}
}

func displayName(a *store.Account) string {
	if a.Name != "" {
		return a.Name
	}
	return strings.SplitN(a.Email, "@", 2)[0]
}

// agent reads an account that can take handovers.
func (s *Service) agent(ctx context.Context, id string) (*store.Account, error) {
	a, err := s.cfg.Store.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: no agent %q", ErrInvalid, id)
	}
	if err != nil {
		return nil, err
	}
	if a.Disabled {
		return nil, fmt.Errorf("%w: the account of %s is disabled", ErrInvalid, a.Email)
	}
	return a, nil
}

// canWork reports whether an account may take h: what its principal would
// see.
func canWork(a *store.Account, h *store.Handover) bool {
	p := access.Principal{Account: a.ID, Role: a.Role, Bots: a.Bots, Teams: a.Teams, Scopes: access.RoleScopes(a.Role)}
	return p.SeesQueue(h.Bot, h.Queue)
}

// Unassign puts the handover back in its queue.
func (s *Service) Unassign(ctx context.Context, by *access.Principal, id string) (*store.Handover, error) {
	h, _, err := s.change(ctx, by, id, func(tx *pipeline.Tx, h *store.Handover) error {
		if !store.HandoverOpen(h.Status) {
			return fmt.Errorf("%w: it is %s", ErrConflict, h.Status)
		}
		if h.Assignee == "" {
			return nil
		}
		if h.Assignee != by.Account && !by.CanAssignOthers() {
			return fmt.Errorf("%w: it is assigned to someone else", ErrForbidden)
		}
		h.Assignee = ""
		record(h, by.Account, store.HandoverNew, "back to the queue", tx.Now)
		return nil
	})
	if err == nil {
		s.wake()
	}
	return h, err
}

// Transfer moves the handover to another agent, or team, or both, with a
// note for whoever takes it.
type Transfer struct {
	Agent string `json:"agent,omitempty"`
	Team  string `json:"team,omitempty"`
	Note  string `json:"note,omitempty"`
}

// Transfer hands the handover on.
func (s *Service) Transfer(ctx context.Context, by *access.Principal, id string, t Transfer) (*store.Handover, error) {
	if t.Agent == "" && t.Team == "" {
		return nil, fmt.Errorf("%w: name an agent or a team to transfer to", ErrInvalid)
	}
	if len(t.Note) > MaxNote {
		return nil, fmt.Errorf("%w: the note is longer than %d bytes", ErrInvalid, MaxNote)
	}
	var acct *store.Account
	if t.Agent != "" {
		var err error
		if acct, err = s.agent(ctx, t.Agent); err != nil {
			return nil, err
		}
	}
	if t.Team != "" {
		if _, err := s.cfg.Store.Team(ctx, t.Team); errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: no team %q", ErrInvalid, t.Team)
		} else if err != nil {
			return nil, err
		}
	}
	h, _, err := s.change(ctx, by, id, func(tx *pipeline.Tx, h *store.Handover) error {
		if !store.HandoverOpen(h.Status) {
			return fmt.Errorf("%w: it is %s", ErrConflict, h.Status)
		}
		if h.Assignee != by.Account && !by.CanAssignOthers() {
			return fmt.Errorf("%w: only its agent, managers and admins transfer a handover", ErrForbidden)
		}
		if t.Team != "" {
			h.Queue = t.Team
			setQueue(tx, t.Team)
		}
		what := "transferred"
		if acct != nil {
			if !canWork(acct, h) {
				return fmt.Errorf("%w: %s does not work on this bot and queue", ErrInvalid, acct.Email)
			}
			h.Assignee = acct.ID
			what += " to " + displayName(acct)
		} else {
			h.Assignee = ""
			what += " to the " + t.Team + " queue"
		}
		to := store.HandoverNew
		if h.Assignee != "" {
			to = store.HandoverAssigned
		}
		record(h, by.Account, to, what, tx.Now)
		if t.Note != "" {
			return addNote(h, by.Account, t.Note, "", tx.Now)
		}
		return nil
	})
	if err == nil && h.Assignee == "" {
		s.wake() // the new queue may hand it out
	}
	return h, err
}

// Reply is an agent's message to the customer.
type Reply struct {
	Text string `json:"text,omitempty"`
	// Canned sends a canned reply (its text, button and image) instead.
	Canned   string         `json:"canned,omitempty"`
	ImageURL string         `json:"image_url,omitempty"`
	Buttons  []flows.Button `json:"buttons,omitempty"`
}

func (r *Reply) content(ctx context.Context, s *Service, bot string) (flows.Content, *store.CannedReply, error) {
	var c flows.Content
	var canned *store.CannedReply
	if r.Canned != "" {
		cr, err := s.cfg.Store.CannedReply(ctx, r.Canned)
		if errors.Is(err, store.ErrNotFound) || (err == nil && cr.Bot != bot) {
			return c, nil, fmt.Errorf("%w: no canned reply %q for this bot", ErrInvalid, r.Canned)
		}
		if err != nil {
			return c, nil, err
		}
		canned = cr
		c.Text = cr.Text
		if cr.ButtonURL != "" {
			c.Buttons = []flows.Button{{Title: cr.ButtonTitle, URL: cr.ButtonURL}}
		}
		if cr.ImageURL != "" {
			c.Image = &flows.Media{URL: cr.ImageURL}
		}
	}
	if r.Text != "" {
		c.Text = r.Text
	}
	if r.ImageURL != "" {
		c.Image = &flows.Media{URL: r.ImageURL}
	}
	c.Buttons = append(c.Buttons, r.Buttons...)
	switch {
	case c.Text == "" && c.Image == nil:
		return c, nil, fmt.Errorf("%w: a reply needs a text or an image", ErrInvalid)
	case len(c.Text) > MaxText:
		return c, nil, fmt.Errorf("%w: the text is longer than %d bytes", ErrInvalid, MaxText)
	case len(c.Buttons) > MaxButtons:
		return c, nil, fmt.Errorf("%w: at most %d link buttons", ErrInvalid, MaxButtons)
	case c.Image != nil && !webURL(c.Image.URL) && !localFile(c.Image.URL):
		return c, nil, fmt.Errorf("%w: the image must be an http(s) URL or a file uploaded with POST /api/v1/uploads", ErrInvalid)
	}
	for _, b := range c.Buttons {
		if b.Title == "" || !webURL(b.URL) {
			return c, nil, fmt.Errorf("%w: a link button needs a title and an http(s) URL", ErrInvalid)
		}
	}
	return c, canned, nil
}

func webURL(u string) bool {
	return len(u) <= maxURL && (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://"))
}

// localFile reports whether u is a file uploaded to this server.
func localFile(u string) bool {
	return len(u) <= maxURL && strings.HasPrefix(u, UploadsPath) && !strings.Contains(u, "..")
}

// UploadsPath is where this server serves uploaded files (the web chat's
// /webchat/files/); replies may carry them by that path.
const UploadsPath = "/webchat/files/"

// Reply sends an agent's message. Replying to a handover nobody has takes
// it (takeover & send); a handover of another agent is theirs (managers and
// admins may still write). It returns the message as stored.
func (s *Service) Reply(ctx context.Context, by *access.Principal, id string, r Reply) (*store.Message, *store.Handover, error) {
	h0, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, nil, err
	}
	content, canned, err := r.content(ctx, s, h0.Bot)
	if err != nil {
		return nil, nil, err
	}
	set, err := s.Settings(ctx, h0.Bot)
	if err != nil {
		return nil, nil, err
	}
	var me *store.Account
	if by.Account != "" {
		if me, err = s.agent(ctx, by.Account); err != nil {
			return nil, nil, err
		}
	}
	h, res, err := s.change(ctx, by, id, func(tx *pipeline.Tx, h *store.Handover) error {
		if !store.HandoverOpen(h.Status) {
			return fmt.Errorf("%w: it is %s", ErrConflict, h.Status)
		}
		if w := s.replyWindow(h.Channel); w > 0 && !h.LastCustomerAt.IsZero() && !tx.Now.Before(h.LastCustomerAt.Add(w)) {
			return fmt.Errorf("%w: %s lets a business write only within %s of the customer's last message (%s)", ErrReplyWindow, h.Channel, w, h.LastCustomerAt.Format(time.RFC3339))
		}
		switch {
		case h.Assignee == "" && me != nil:
			s.assign(tx, h, me, by.Account)
		case h.Assignee != by.Account && !by.CanAssignOthers():
			return fmt.Errorf("%w: another agent has this conversation", ErrConflict)
		}
		if h.FirstReplyAt.IsZero() {
			h.FirstReplyAt = tx.Now
		}
		h.LastAgentAt = tx.Now
		if h.Status != store.HandoverChatting {
			record(h, by.Account, store.HandoverChatting, "", tx.Now)
		}
		tx.Batch.Messages = append(tx.Batch.Messages, store.Message{
			Time: tx.Now, Direction: store.DirectionOut, Author: store.AuthorAgent, Agent: by.Account,
			Channel: h.Channel, Status: store.StatusQueued, Content: content,
		})
		tx.Batch.CancelTimers = append(tx.Batch.CancelTimers, h.ID+"/"+timerOverdue, h.ID+"/"+timerNotify)
		if set.IdleOff > 0 {
			tx.Batch.Timers = append(tx.Batch.Timers, systemTimer(h, timerIdle, tx.Now.Add(set.IdleOff)))
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if canned != nil {
		s.countCanned(ctx, canned.ID)
	}
	var msg *store.Message
	for i := range res.Replies {
		if res.Replies[i].Author == store.AuthorAgent {
			msg = &res.Replies[i]
		}
	}
	return msg, h, nil
}

// AddNote adds an internal note.
func (s *Service) AddNote(ctx context.Context, by *access.Principal, id, text, colour string) (*store.Handover, error) {
	h, _, err := s.change(ctx, by, id, func(tx *pipeline.Tx, h *store.Handover) error {
		return addNote(h, by.Account, text, colour, tx.Now)
	})
	return h, err
}

func addNote(h *store.Handover, by, text, colour string, now time.Time) error {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return fmt.Errorf("%w: a note needs a text", ErrInvalid)
	case len(text) > MaxNote:
		return fmt.Errorf("%w: a note is at most %d bytes", ErrInvalid, MaxNote)
	case colour != "" && !slices.Contains(strings.Fields(noteColours), colour):
		return fmt.Errorf("%w: the colour is one of %s", ErrInvalid, noteColours)
	case len(h.Notes) >= store.MaxHandoverNotes:
		return fmt.Errorf("%w: a handover holds at most %d notes", ErrConflict, store.MaxHandoverNotes)
	}
	h.Notes = append(h.Notes, store.Note{ID: fmt.Sprintf("n%d", len(h.Notes)+1), Author: by, Text: text, Color: colour, Time: now})
	return nil
}

// Resolve ends the live chat: the customer is told, asked for a rating if
// the bot's settings say so, and the bot takes over at the LIVE CHAT
// block's resolved branch.
func (s *Service) Resolve(ctx context.Context, by *access.Principal, id, note string) (*store.Handover, error) {
	if len(note) > MaxNote {
		return nil, fmt.Errorf("%w: the note is longer than %d bytes", ErrInvalid, MaxNote)
	}
	h, _, err := s.change(ctx, by, id, func(tx *pipeline.Tx, h *store.Handover) error {
		if !store.HandoverOpen(h.Status) {
			return fmt.Errorf("%w: it is %s", ErrConflict, h.Status)
		}
		if h.Assignee != "" && h.Assignee != by.Account && !by.CanAssignOthers() {
			return fmt.Errorf("%w: another agent has this conversation", ErrForbidden)
		}
		return s.resolve(ctx, tx, h, by.Account, note)
	})
	return h, err
}

// resolve ends the open handover h as resolved.
func (s *Service) resolve(ctx context.Context, tx *pipeline.Tx, h *store.Handover, by, note string) error {
	set, err := s.Settings(ctx, h.Bot)
	if err != nil {
		return err
	}
	h.ResolvedAt, h.ResolveNote, h.Outcome = tx.Now, note, flows.HandoverResolved
	record(h, by, store.HandoverResolved, note, tx.Now)
	s.cancelTimers(tx, h)
	tx.Batch.Messages = append(tx.Batch.Messages, systemMessage(tx.Now, h.Channel, flows.Content{Text: set.ResolveMessage}))
	if set.Rating {
		h.RatingAsked = true
		var qr []flows.Button
		for n := 1; n <= 5; n++ {
			qr = append(qr, flows.Button{Title: fmt.Sprint(n), Payload: fmt.Sprint(ratingPayload, n)})
		}
		tx.Batch.Messages = append(tx.Batch.Messages, systemMessage(tx.Now, h.Channel, flows.Content{Text: ratingPrompt, QuickReplies: qr}))
	}
	// The bot goes on from the LIVE CHAT block's resolved branch.
	tx.Event = &flows.Event{Kind: flows.EventHandover, Outcome: flows.HandoverResolved}
	return nil
}

// Close archives a resolved handover; an open one is resolved first.
func (s *Service) Close(ctx context.Context, by *access.Principal, id string) (*store.Handover, error) {
	h, _, err := s.change(ctx, by, id, func(tx *pipeline.Tx, h *store.Handover) error {
		if h.Status == store.HandoverClosed {
			return nil
		}
		if h.Assignee != "" && h.Assignee != by.Account && !by.CanAssignOthers() {
			return fmt.Errorf("%w: another agent has this conversation", ErrForbidden)
		}
		if store.HandoverOpen(h.Status) {
			if err := s.resolve(ctx, tx, h, by.Account, ""); err != nil {
				return err
			}
		}
		h.ClosedAt = tx.Now
		record(h, by.Account, store.HandoverClosed, "", tx.Now)
		return nil
	})
	return h, err
}

// Patch changes a handover's tags, or marks it pending (waiting on the
// customer) or chatting again.
type Patch struct {
	Tags       *[]string `json:"tags,omitempty"`
	AddTags    []string  `json:"add_tags,omitempty"`
	RemoveTags []string  `json:"remove_tags,omitempty"`
	Status     string    `json:"status,omitempty"`
}

// Update applies a Patch.
func (s *Service) Update(ctx context.Context, by *access.Principal, id string, p Patch) (*store.Handover, error) {
	for _, list := range [][]string{deref(p.Tags), p.AddTags, p.RemoveTags} {
		for _, t := range list {
			if t == "" || len(t) > MaxTagLen {
				return nil, fmt.Errorf("%w: a tag is 1 to %d bytes", ErrInvalid, MaxTagLen)
			}
		}
	}
	if p.Status != "" && p.Status != store.HandoverPending && p.Status != store.HandoverChatting {
		return nil, fmt.Errorf("%w: status can be set to pending or chatting; resolve and close have their own calls", ErrInvalid)
	}
	h, _, err := s.change(ctx, by, id, func(tx *pipeline.Tx, h *store.Handover) error {
		if p.Tags != nil {
			h.Tags = slices.Clone(*p.Tags)
		}
		for _, t := range p.AddTags {
			if !slices.Contains(h.Tags, t) {
				h.Tags = append(h.Tags, t)
			}
		}
		h.Tags = slices.DeleteFunc(h.Tags, func(t string) bool { return slices.Contains(p.RemoveTags, t) })
		if len(h.Tags) > MaxTags {
			return fmt.Errorf("%w: at most %d tags", ErrInvalid, MaxTags)
		}
		if p.Status != "" && p.Status != h.Status {
			if !store.HandoverOpen(h.Status) || h.FirstReplyAt.IsZero() {
				return fmt.Errorf("%w: only a conversation an agent answered can wait on the customer", ErrConflict)
			}
			record(h, by.Account, p.Status, "", tx.Now)
		}
		return nil
	})
	return h, err
}

func deref(p *[]string) []string {
	if p == nil {
		return nil
	}
	return *p
}

// SendSkill has the bot run one of its skills for the customer while the
// live chat goes on: an agent answers with a part of the bot. It returns
// the messages the skill sent.
func (s *Service) SendSkill(ctx context.Context, by *access.Principal, id, skill string) ([]store.Message, *store.Handover, error) {
	h0, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, nil, err
	}
	bot := s.cfg.Pipeline.Bot(h0.Bot)
	if bot == nil {
		return nil, nil, pipeline.ErrUnknownBot
	}
	if _, ok := bot.Skill(skill); !ok {
		return nil, nil, fmt.Errorf("%w: the bot has no skill %q", ErrInvalid, skill)
	}
	h, res, err := s.change(ctx, by, id, func(tx *pipeline.Tx, h *store.Handover) error {
		if !store.HandoverOpen(h.Status) {
			return fmt.Errorf("%w: it is %s", ErrConflict, h.Status)
		}
		if h.Assignee != "" && h.Assignee != by.Account && !by.CanAssignOthers() {
			return fmt.Errorf("%w: another agent has this conversation", ErrConflict)
		}
		h.History = append(h.History, store.Transition{From: h.Status, To: h.Status, By: by.Account, Assignee: h.Assignee, Queue: h.Queue, Note: "sent the bot's " + skill, At: tx.Now})
		tx.Event = &flows.Event{Kind: flows.EventSkill, Name: skill}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return res.Replies, h, nil
}
