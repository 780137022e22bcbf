package api

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// messageView is a stored message as the API shows it.
type messageView struct {
	Contact   string    `json:"contact"`
	Seq       uint64    `json:"seq"`
	ID        string    `json:"id,omitempty"`
	Time      time.Time `json:"time"`
	Direction string    `json:"direction"`
	Author    string    `json:"author"`
	Agent     string    `json:"agent,omitempty"`
	Channel   string    `json:"channel,omitempty"`
	Status    string    `json:"status,omitempty"`
	Attempts  int       `json:"attempts,omitempty"`
	Error     string    `json:"error,omitempty"`
	// Content is the message's flows.Content, with proxy_url on the
	// attachments the API serves (ViewContent).
	Content any `json:"content"`
}

// viewMessage is a message of a contact of bot as the API shows it.
func (a *API) viewMessage(bot string, m *store.Message) messageView {
	id := m.ID
	if id == "" {
		id = m.ExternalID
	}
	return messageView{
		Contact: m.Contact, Seq: m.Seq, ID: id, Time: m.Time, Direction: m.Direction, Author: m.Author, Agent: m.Agent,
		Channel: m.Channel, Status: m.Status, Attempts: m.Attempts, Error: m.Error, Content: ViewContent(a.cfg.Media, bot, m),
	}
}

// listMessages pages through a conversation, in ascending order on every
// page. No cursor: the latest messages; before=C: older than C; after=C:
// newer than C (after=0 is the start). next_cursor continues in the same
// direction (pass it as before= or after= again) and is empty at the end.
func (a *API) listMessages(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	limit, ok := intArg(ctx, "limit", store.DefaultPage, 1, store.MaxPage)
	if !ok {
		return
	}
	rctx, cancel := a.reqCtx()
	defer cancel()
	c := a.contact(ctx, rctx)
	if c == nil {
		return
	}
	q := store.MessageQuery{Before: string(args.Peek("before")), After: string(args.Peek("after")), Limit: limit}
	ms, next, err := a.cfg.Store.Messages(rctx, c.ID, q)
	if errors.Is(err, store.ErrBadCursor) {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_cursor", "before and after take the cursors this endpoint returns", map[string]any{"before": q.Before, "after": q.After})
		return
	}
	if err != nil {
		a.internal(ctx, "reading messages", err)
		return
	}
	out := make([]messageView, 0, len(ms))
	for i := range ms {
		out = append(out, a.viewMessage(c.Bot, &ms[i]))
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"messages": out, "next_cursor": next})
}

// messageText is what a search looks in: the text, captions, button and
// card titles, and payloads.
func messageText(c *flows.Content) string {
	var b strings.Builder
	add := func(s string) {
		if s != "" {
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	add(c.Text)
	add(c.Payload)
	for _, bs := range [][]flows.Button{c.Buttons, c.QuickReplies} {
		for _, x := range bs {
			add(x.Title)
		}
	}
	for _, m := range []*flows.Media{c.Image, c.Media, c.File} {
		if m != nil {
			add(m.Caption)
			add(m.Name)
		}
	}
	for _, card := range c.Gallery {
		add(card.Title)
		add(card.Subtitle)
	}
	return strings.ToLower(b.String())
}

// searchCursor is where a search stops and the next one goes on: inside
// Contact, before the message Before; or, with Before empty, at the
// contact after Contact.
type searchCursor struct {
	Contact string
	Before  string
}

func (c searchCursor) String() string {
	if c.Contact == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(c.Contact + "\n" + c.Before))
}

func parseSearchCursor(s string) (searchCursor, bool) {
	if s == "" {
		return searchCursor{}, true
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return searchCursor{}, false
	}
	c, before, ok := strings.Cut(string(b), "\n")
	if !ok || c == "" {
		return searchCursor{}, false
	}
	if before != "" {
		if _, err := strconv.ParseUint(before, 10, 64); err != nil {
			return searchCursor{}, false
		}
	}
	return searchCursor{Contact: c, Before: before}, true
}

// maxSearchLimit bounds the matches of one search page.
const maxSearchLimit = 200

// searcher runs one search page.
type searcher struct {
	a       *API
	ctx     context.Context
	words   []string
	limit   int
	scanned int
	out     []messageView
	// next is set when the page stops before the end.
	next      searchCursor
	truncated bool
}

// scanContact looks through one conversation, of bot's, newest first,
// starting before the message before (the latest when empty). It returns
// false when the page is full or the scan budget is spent; next says where
// to go on.
func (s *searcher) scanContact(bot, cid, before string) (bool, error) {
	for {
		budget := s.a.cfg.SearchScan - s.scanned
		if budget <= 0 {
			s.next, s.truncated = searchCursor{Contact: cid, Before: before}, true
			if before == "" {
				// Nothing of this contact was read yet: start at it.
				s.next = searchCursor{Contact: cid, Before: strconv.FormatUint(1<<64-1, 10)}
			}
			return false, nil
		}
		ms, more, err := s.a.cfg.Store.Messages(s.ctx, cid, store.MessageQuery{Before: before, Limit: min(budget, store.MaxPage)})
		if err != nil {
			return false, err
		}
		for i := len(ms) - 1; i >= 0; i-- {
			m := &ms[i]
			if len(s.out) == s.limit {
				s.next = searchCursor{Contact: cid, Before: strconv.FormatUint(m.Seq+1, 10)}
				return false, nil
			}
			s.scanned++
			if containsAll(messageText(&m.Content), s.words) {
				s.out = append(s.out, s.a.viewMessage(bot, m))
			}
		}
		if more == "" || len(ms) == 0 {
			return true, nil
		}
		before = more
	}
}

// searchMessages finds the messages whose text (with captions, button
// titles and payloads) holds every word of q, ignoring case: in one
// conversation (contact=), newest first, or across the conversations of
// one bot (bot=) or all, contact by contact in ID order. One page reads at
// most SearchScan messages: it then answers "truncated": true and a
// next_cursor to go on, even with fewer than limit matches. The scan is
// linear; there is no index yet.
func (a *API) searchMessages(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	words := keywords(string(args.Peek("q")))
	if len(words) == 0 {
		web.Error(ctx, fasthttp.StatusBadRequest, "missing_query", "q is required: the words to look for", nil)
		return
	}
	limit, ok := intArg(ctx, "limit", store.DefaultPage, 1, maxSearchLimit)
	if !ok {
		return
	}
	cur, ok := parseSearchCursor(string(args.Peek("cursor")))
	if !ok {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_cursor", "cursor takes the next_cursor of a previous search", nil)
		return
	}
	contact, bot := string(args.Peek("contact")), string(args.Peek("bot"))
	rctx, cancel := a.reqCtx()
	defer cancel()
	s := &searcher{a: a, ctx: rctx, words: words, limit: limit, out: []messageView{}}
	fail := func(err error) {
		if errors.Is(err, store.ErrBadCursor) {
			web.Error(ctx, fasthttp.StatusBadRequest, "invalid_cursor", "cursor takes the next_cursor of a previous search", nil)
			return
		}
		a.internal(ctx, "searching messages", err)
	}
	if contact != "" {
		if cur.Contact != "" && cur.Contact != contact {
			web.Error(ctx, fasthttp.StatusBadRequest, "invalid_cursor", "the cursor belongs to a search of another conversation", nil)
			return
		}
		c, err := a.cfg.Store.Contact(rctx, contact)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !PrincipalOf(ctx).SeesQueue(c.Bot, c.Queue)) {
			web.Error(ctx, fasthttp.StatusNotFound, "unknown_contact", "no contact "+contact, nil)
			return
		} else if err != nil {
			a.internal(ctx, "searching messages", err)
			return
		}
		if cur.Contact == "" || cur.Before != "" {
			if _, err := s.scanContact(c.Bot, contact, cur.Before); err != nil {
				fail(err)
				return
			}
		}
	} else if err := s.scanAll(botsOf(ctx, bot), cur); err != nil {
		fail(err)
		return
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"messages": s.out, "next_cursor": s.next.String(), "truncated": s.truncated, "scanned": s.scanned})
}

// scanAll scans every contact of bots from cur on.
func (s *searcher) scanAll(bots botSet, cur searchCursor) error {
	last := cur.Contact
	if cur.Contact != "" && cur.Before != "" {
		// A cursor is the client's to change: it must not open a
		// conversation outside bots. A contact deleted since is nothing
		// to scan.
		var bot string
		c, err := s.a.cfg.Store.Contact(s.ctx, cur.Contact)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if !bots.all {
				return store.ErrBadCursor
			}
		case err != nil:
			return err
		case !bots.all && (!bots.has(c.Bot) || !bots.sees(c)):
			return store.ErrBadCursor
		default:
			bot = c.Bot
		}
		goOn, err := s.scanContact(bot, cur.Contact, cur.Before)
		if err != nil || !goOn {
			return err
		}
	}
	for {
		page, more, err := s.a.contactPageAll(s.ctx, bots, last, 100)
		if err != nil {
			return err
		}
		for _, c := range page {
			if !bots.sees(c) {
				last = c.ID
				continue
			}
			goOn, err := s.scanContact(c.Bot, c.ID, "")
			if err != nil || !goOn {
				return err
			}
			last = c.ID
			if len(s.out) == s.limit {
				s.next = searchCursor{Contact: last}
				return nil
			}
		}
		if more == "" {
			return nil
		}
	}
}
