package livechat

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/access"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// StatusOpen and StatusAll are the Query statuses beyond the handover
// statuses themselves.
const (
	StatusOpen = "open"
	StatusAll  = "all"
)

// Query selects handovers. Empty fields select everything; Status ""
// means StatusOpen.
type Query struct {
	Status   string
	Queue    string
	Assignee string // an account id, or "none" for the unassigned
	Bot      string
	Tag      string
	Channel  string
	Contact  string
	// Q holds words that the contact's name or id, the handover's message,
	// note, tags or notes must all contain (any case).
	Q      string
	Cursor string
	Limit  int
	// Scan bounds the handovers read; 0 means 20,000.
	Scan int
}

// Page is a page of handovers, newest first.
type Page struct {
	Handovers  []*store.Handover
	NextCursor string
	// Truncated: the scan bound was reached before the page filled.
	Truncated bool
}

// ValidStatus reports whether a Query may ask for status.
func ValidStatus(status string) bool {
	switch status {
	case "", StatusOpen, StatusAll, store.HandoverNew, store.HandoverAssigned, store.HandoverChatting,
		store.HandoverPending, store.HandoverOverdue, store.HandoverResolved, store.HandoverClosed:
		return true
	}
	return false
}

// List returns the handovers the principal may see that match q.
func (s *Service) List(ctx context.Context, by *access.Principal, q Query) (Page, error) {
	if !ValidStatus(q.Status) {
		return Page{}, fmt.Errorf("%w: unknown status %q", ErrInvalid, q.Status)
	}
	if q.Status == "" {
		q.Status = StatusOpen
	}
	if q.Limit <= 0 || q.Limit > store.MaxPage {
		q.Limit = store.DefaultPage
	}
	if q.Scan <= 0 {
		q.Scan = 20000
	}
	words := strings.Fields(strings.ToLower(q.Q))
	openOnly := q.Status != StatusAll && store.HandoverOpen(q.Status)
	var page Page
	last, more, err := s.cfg.Store.ScanHandovers(ctx, openOnly, q.Cursor, q.Scan, func(h *store.Handover) bool {
		if !by.SeesQueue(h.Bot, h.Queue) || !q.match(h, words) {
			return true
		}
		page.Handovers = append(page.Handovers, h)
		return len(page.Handovers) < q.Limit
	})
	if err != nil {
		return Page{}, err
	}
	if more {
		page.NextCursor = last
		page.Truncated = len(page.Handovers) < q.Limit
	}
	return page, nil
}

func (q *Query) match(h *store.Handover, words []string) bool {
	switch q.Status {
	case StatusAll:
	case StatusOpen:
		if !store.HandoverOpen(h.Status) {
			return false
		}
	default:
		if h.Status != q.Status {
			return false
		}
	}
	switch {
	case q.Queue != "" && h.Queue != q.Queue,
		q.Assignee == "none" && h.Assignee != "",
		q.Assignee != "" && q.Assignee != "none" && h.Assignee != q.Assignee,
		q.Bot != "" && h.Bot != q.Bot,
		q.Channel != "" && h.Channel != q.Channel,
		q.Contact != "" && h.Contact != q.Contact,
		q.Tag != "" && !slices.Contains(h.Tags, q.Tag):
		return false
	}
	if len(words) == 0 {
		return true
	}
	var b strings.Builder
	for _, f := range []string{h.Contact, h.Message, h.Note, h.ResolveNote, strings.Join(h.Tags, " ")} {
		b.WriteString(f)
		b.WriteByte(' ')
	}
	for _, n := range h.Notes {
		b.WriteString(n.Text)
		b.WriteByte(' ')
	}
	for k, v := range h.Form {
		fmt.Fprint(&b, k, " ", v, " ")
	}
	text := strings.ToLower(b.String())
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// View is a handover as the API and the console show it: the stored record
// with the names of the people in it and its deadlines.
type View struct {
	*store.Handover
	// Contact is the whole contact (the record holds its id).
	Contact      *flows.Contact `json:"contact"`
	AssigneeName string         `json:"assignee_name,omitempty"`
	// ReplyWindowEndsAt is when the channel stops taking free text (for
	// channels with a reply window).
	ReplyWindowEndsAt *time.Time `json:"reply_window_ends_at,omitempty"`
	// IdleOffAt is when the live chat turns itself off if no agent
	// writes.
	IdleOffAt *time.Time `json:"idle_off_at,omitempty"`
	// OverdueAt is when the handover becomes overdue without a reply.
	OverdueAt *time.Time       `json:"overdue_at,omitempty"`
	Notes     []NoteView       `json:"notes,omitempty"`
	History   []TransitionView `json:"history,omitempty"`
}

// TransitionView is a transition with the names of who made it and of the
// assignee.
type TransitionView struct {
	store.Transition
	ByName       string `json:"by_name,omitempty"`
	AssigneeName string `json:"assignee_name,omitempty"`
}

// NoteView is a note with its author's name.
type NoteView struct {
	store.Note
	AuthorName string `json:"author_name,omitempty"`
}

// View shows h. It reads the contact, the names and the settings it needs;
// what it cannot read it leaves out.
func (s *Service) View(ctx context.Context, h *store.Handover) *View {
	names := map[string]string{}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		n := s.nameOf(ctx, id)
		names[id] = n
		return n
	}
	v := &View{Handover: h, AssigneeName: name(h.Assignee), Contact: &flows.Contact{ID: h.Contact, Bot: h.Bot, Channel: h.Channel}}
	if c, err := s.cfg.Store.Contact(ctx, h.Contact); err == nil {
		v.Contact = c
	}
	if store.HandoverOpen(h.Status) {
		if w := s.replyWindow(h.Channel); w > 0 && !h.LastCustomerAt.IsZero() {
			t := h.LastCustomerAt.Add(w)
			v.ReplyWindowEndsAt = &t
		}
		if set, err := s.Settings(ctx, h.Bot); err == nil && set.IdleOff > 0 && !h.LastAgentAt.IsZero() {
			t := h.LastAgentAt.Add(set.IdleOff)
			v.IdleOffAt = &t
		}
		if h.FirstReplyAt.IsZero() {
			if team, err := s.team(ctx, h.Queue); err == nil {
				t := h.CreatedAt.Add(team.Target())
				v.OverdueAt = &t
			}
		}
	}
	for _, n := range h.Notes {
		v.Notes = append(v.Notes, NoteView{Note: n, AuthorName: name(n.Author)})
	}
	for _, t := range h.History {
		v.History = append(v.History, TransitionView{Transition: t, ByName: name(t.By), AssigneeName: name(t.Assignee)})
	}
	return v
}

// ViewAny is View for the live hub (live.Hub.SetHandoverView), bounded in
// time.
func (s *Service) ViewAny(h *store.Handover) any {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.View(ctx, h)
}

// nameOf is an account's display name, "" for none.
func (s *Service) nameOf(ctx context.Context, account string) string {
	if account == "" {
		return ""
	}
	a, err := s.cfg.Store.Account(ctx, account)
	if err != nil {
		return ""
	}
	return displayName(a)
}
