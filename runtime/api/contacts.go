package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// listContacts lists contacts in ID order, a page at a time, optionally of
// one bot. With q it keeps the contacts whose id, name, external id,
// channel, status, tags or attribute values contain every word of q
// (ignoring case); such a page reads at most SearchScan contacts, so it may
// hold fewer than limit contacts and still have a next_cursor.
func (a *API) listContacts(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	bot, cursor := string(args.Peek("bot")), string(args.Peek("cursor"))
	words := keywords(string(args.Peek("q")))
	limit, ok := intArg(ctx, "limit", store.DefaultPage, 1, store.MaxPage)
	if !ok {
		return
	}
	bots := botsOf(ctx, bot)
	rctx, cancel := a.reqCtx()
	defer cancel()
	if len(words) == 0 {
		cs, next, err := a.contactPage(rctx, bots, cursor, limit)
		if err != nil {
			a.internal(ctx, "listing contacts", err)
			return
		}
		if cs == nil {
			cs = []*flows.Contact{}
		}
		web.JSON(ctx, fasthttp.StatusOK, map[string]any{"contacts": cs, "next_cursor": next})
		return
	}
	out := []*flows.Contact{}
	next, _, truncated, err := a.scanContacts(rctx, bots, cursor, limit, func(c *flows.Contact) (bool, error) {
		if matchContact(c, words) {
			out = append(out, c)
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		a.internal(ctx, "searching contacts", err)
		return
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"contacts": out, "next_cursor": next, "truncated": truncated})
}

// botSet is the bots whose contacts a request reads: every bot (all), or
// the ones listed (none when empty).
type botSet struct {
	all  bool
	bots []string
	// queue, when set, must accept a contact's bot and queue: an agent
	// sees the conversations of its teams' queues (and of none).
	queue func(bot, queue string) bool
}

// sees reports whether the set takes c.
func (bs botSet) sees(c *flows.Contact) bool {
	return bs.queue == nil || bs.queue(c.Bot, c.Queue)
}

// botsOf is the bots a request reads contacts of: the one it asks for
// (bot; "" for any) narrowed to the ones its principal sees. A bot the
// principal does not see gives none: an empty page, as for a bot without
// contacts.
func botsOf(ctx *fasthttp.RequestCtx, bot string) botSet {
	p := PrincipalOf(ctx)
	seen, all := p.BotSet()
	var queue func(bot, queue string) bool
	if p.Restricted() {
		queue = p.SeesQueue
	}
	switch {
	case bot != "" && p.SeesBot(bot):
		return botSet{bots: []string{bot}, queue: queue}
	case bot != "":
		return botSet{}
	}
	return botSet{all: all, bots: seen, queue: queue}
}

// contactPage is Store.Contacts over a set of bots: their contacts in ID
// order after cursor, limit of them, and the cursor of the next page. For
// several bots it merges a page of each. Contacts the set does not see are
// left out, so a page may be short while the cursor goes on.
func (a *API) contactPage(ctx context.Context, bs botSet, cursor string, limit int) ([]*flows.Contact, string, error) {
	page, next, err := a.contactPageAll(ctx, bs, cursor, limit)
	if bs.queue != nil {
		page = slices.DeleteFunc(page, func(c *flows.Contact) bool { return !bs.sees(c) })
	}
	return page, next, err
}

func (a *API) contactPageAll(ctx context.Context, bs botSet, cursor string, limit int) ([]*flows.Contact, string, error) {
	switch {
	case bs.all:
		return a.cfg.Store.Contacts(ctx, "", cursor, limit)
	case len(bs.bots) == 0:
		return nil, "", nil
	case len(bs.bots) == 1:
		return a.cfg.Store.Contacts(ctx, bs.bots[0], cursor, limit)
	}
	var all []*flows.Contact
	more := false
	for _, b := range sortedSet(bs.bots) {
		page, next, err := a.cfg.Store.Contacts(ctx, b, cursor, limit)
		if err != nil {
			return nil, "", err
		}
		all = append(all, page...)
		more = more || next != ""
	}
	slices.SortFunc(all, func(x, y *flows.Contact) int { return strings.Compare(x.ID, y.ID) })
	if len(all) > limit {
		all, more = all[:limit], true
	}
	if !more || len(all) == 0 {
		return all, "", nil
	}
	return all, all[len(all)-1].ID, nil
}

// scanContacts visits the contacts of bots in ID order after cursor,
// handing each to keep, until keep has taken limit of them or SearchScan
// were read. It returns the cursor to go on from (empty at the end) and
// how many it read; truncated says the scan bound, not limit or the end,
// stopped it.
func (a *API) scanContacts(ctx context.Context, bots botSet, cursor string, limit int, keep func(*flows.Contact) (bool, error)) (next string, scanned int, truncated bool, err error) {
	kept, last := 0, cursor
	for {
		page, more, err := a.contactPageAll(ctx, bots, last, store.MaxPage)
		if err != nil {
			return "", scanned, false, err
		}
		for _, c := range page {
			if kept == limit {
				return last, scanned, false, nil
			}
			if scanned == a.cfg.SearchScan {
				return last, scanned, true, nil
			}
			scanned++
			last = c.ID
			if !bots.sees(c) {
				continue
			}
			took, err := keep(c)
			if err != nil {
				return "", scanned, false, err
			}
			if took {
				kept++
			}
		}
		if more == "" {
			return "", scanned, false, nil
		}
	}
}

// keywords splits a search into lower-case words.
func keywords(q string) []string { return strings.Fields(strings.ToLower(q)) }

func containsAll(hay string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

func matchContact(c *flows.Contact, words []string) bool {
	var b strings.Builder
	for _, s := range []string{c.ID, c.Name, c.ExternalID, c.Channel, c.Status} {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	for _, t := range c.Tags {
		b.WriteString(t)
		b.WriteByte('\n')
	}
	for k, v := range c.Attributes {
		fmt.Fprintf(&b, "%s=%v\n", k, v)
	}
	return containsAll(strings.ToLower(b.String()), words)
}

// contact reads the contact of the path, or answers 404: for a contact
// of a bot the caller does not see too, which is not shown to exist.
func (a *API) contact(ctx *fasthttp.RequestCtx, rctx context.Context) *flows.Contact {
	c, err := a.cfg.Store.Contact(rctx, pathID(ctx))
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !PrincipalOf(ctx).SeesQueue(c.Bot, c.Queue)):
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_contact", "no contact "+pathID(ctx), nil)
		return nil
	case err != nil:
		a.internal(ctx, "reading the contact", err)
		return nil
	}
	return c
}

func (a *API) getContact(ctx *fasthttp.RequestCtx) {
	rctx, cancel := a.reqCtx()
	defer cancel()
	if c := a.contact(ctx, rctx); c != nil {
		web.JSON(ctx, fasthttp.StatusOK, c)
	}
}

// deleteContact deletes a contact with its conversation, timers and
// handovers (admins only).
func (a *API) deleteContact(ctx *fasthttp.RequestCtx) {
	rctx, cancel := a.reqCtx()
	defer cancel()
	c := a.contact(ctx, rctx)
	if c == nil {
		return
	}
	if err := a.cfg.Pipeline.DeleteContact(rctx, c.ID); err != nil {
		a.internal(ctx, "deleting a contact", err)
		return
	}
	if a.cfg.LiveChat != nil {
		a.cfg.LiveChat.Forget(c.ID)
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// patchContactRequest changes a contact. Attributes are merged: a null
// value removes one, a declared attribute is converted to its declared
// type. Tags replaces the tags; AddTags and RemoveTags edit them.
type patchContactRequest struct {
	Name       *string        `json:"name"`
	Attributes map[string]any `json:"attributes"`
	Tags       *[]string      `json:"tags"`
	AddTags    []string       `json:"add_tags"`
	RemoveTags []string       `json:"remove_tags"`
}

// apiError is an error with its HTTP answer.
type apiError struct {
	status  int
	code    string
	msg     string
	details any
}

func (e *apiError) Error() string { return e.msg }

const (
	maxTagLen   = 100
	maxTags     = 100
	maxAttrName = 100
)

// apply changes c as the request says, converting attributes with bot's
// declarations (bot may be nil: a bot that is not running).
func (req *patchContactRequest) apply(bot *flows.Bot, c *flows.Contact) error {
	if req.Name != nil {
		if len(*req.Name) > 200 {
			return &apiError{400, "invalid_name", `"name" may be at most 200 bytes`, nil}
		}
		c.Name = *req.Name
	}
	if len(req.Attributes) > 0 && c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	names := make([]string, 0, len(req.Attributes))
	for k := range req.Attributes {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := req.Attributes[k]
		if k == "" || len(k) > maxAttrName {
			return &apiError{422, "invalid_attribute", fmt.Sprintf("attribute names are 1 to %d bytes", maxAttrName), map[string]any{"attribute": k}}
		}
		if v == nil {
			delete(c.Attributes, k)
			continue
		}
		var decl *flows.Attribute
		if bot != nil {
			decl, _ = bot.Attribute(k)
		}
		if decl != nil {
			cv, err := decl.Convert(v)
			if err != nil {
				return &apiError{422, "invalid_attribute", err.Error(), map[string]any{"attribute": k, "type": decl.Type}}
			}
			c.Attributes[k] = cv
			continue
		}
		switch v.(type) {
		case string, float64, bool:
			c.Attributes[k] = v
		default:
			return &apiError{422, "invalid_attribute", fmt.Sprintf("attribute %s is not declared by the bot, so it may only be a string, a number or a boolean", k), map[string]any{"attribute": k}}
		}
	}
	if len(c.Attributes) == 0 {
		c.Attributes = nil
	}
	if req.Tags != nil {
		c.Tags = nil
	}
	add := req.AddTags
	if req.Tags != nil {
		add = append(slices.Clone(*req.Tags), add...)
	}
	for _, t := range add {
		t = strings.TrimSpace(t)
		if t == "" || len(t) > maxTagLen {
			return &apiError{422, "invalid_tag", fmt.Sprintf("tags are 1 to %d bytes", maxTagLen), map[string]any{"tag": t}}
		}
		if !c.HasTag(t) {
			c.Tags = append(c.Tags, t)
		}
	}
	for _, t := range req.RemoveTags {
		c.Tags = slices.DeleteFunc(c.Tags, func(x string) bool { return x == strings.TrimSpace(t) })
	}
	if len(c.Tags) > maxTags {
		return &apiError{422, "too_many_tags", fmt.Sprintf("a contact may have at most %d tags", maxTags), nil}
	}
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	return nil
}

func (a *API) patchContact(ctx *fasthttp.RequestCtx) {
	var req patchContactRequest
	if !a.decode(ctx, &req) {
		return
	}
	a.updateContact(ctx, func(bot *flows.Bot, c *flows.Contact) error { return req.apply(bot, c) })
}

func (a *API) banContact(ban bool) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		a.updateContact(ctx, func(_ *flows.Bot, c *flows.Contact) error {
			c.Banned = ban
			return nil
		})
	}
}

// updateContact applies fn to the contact of the path and answers the
// changed contact.
func (a *API) updateContact(ctx *fasthttp.RequestCtx, fn func(bot *flows.Bot, c *flows.Contact) error) {
	rctx, cancel := a.reqCtx()
	defer cancel()
	id := pathID(ctx)
	var c *flows.Contact
	var err error
	p := PrincipalOf(ctx)
	// Through the contact's shard, so the change is ordered with the
	// conversation's steps and the shard's copy stays current.
	c, err = a.cfg.Pipeline.UpdateContact(rctx, id, func(c *flows.Contact) error {
		if !p.SeesQueue(c.Bot, c.Queue) {
			return store.ErrNotFound
		}
		return fn(a.bot(c.Bot), c)
	})
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		web.Error(ctx, ae.status, ae.code, ae.msg, ae.details)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, pipeline.ErrNoContact):
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_contact", "no contact "+id, nil)
	case err != nil:
		a.internal(ctx, "updating the contact", err)
	default:
		web.JSON(ctx, fasthttp.StatusOK, c)
	}
}

type eventRequest struct {
	Name string         `json:"name"`
	Data map[string]any `json:"data"`
}

const maxEventName = 100

// postEvent sends a named event to a contact: a CATCH skill for it takes
// over the conversation (a WAITFOR waiting for it resumes instead).
func (a *API) postEvent(ctx *fasthttp.RequestCtx) {
	var req eventRequest
	if !a.decode(ctx, &req) {
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > maxEventName {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_event_name", fmt.Sprintf(`"name" is required: the event's name, 1 to %d bytes`, maxEventName), nil)
		return
	}
	rctx, cancel := a.reqCtx()
	defer cancel()
	c := a.contact(ctx, rctx)
	if c == nil {
		return
	}
	bot := a.bot(c.Bot)
	if bot == nil {
		web.Error(ctx, fasthttp.StatusConflict, "bot_not_running", "the contact's bot "+c.Bot+" is not running", nil)
		return
	}
	_, caught := bot.CatchSkill(req.Name)
	res, err := a.cfg.Pipeline.Event(rctx, c.ID, req.Name, req.Data)
	switch {
	case errors.Is(err, pipeline.ErrNoContact):
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_contact", "no contact "+c.ID, nil)
		return
	case errors.Is(err, pipeline.ErrUnknownBot):
		web.Error(ctx, fasthttp.StatusConflict, "bot_not_running", "the contact's bot "+c.Bot+" is not running", nil)
		return
	case err != nil:
		a.internal(ctx, "sending the event", err)
		return
	}
	replies := make([]messageView, 0, len(res.Replies))
	for i := range res.Replies {
		replies = append(replies, a.viewMessage(c.Bot, &res.Replies[i]))
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"contact": res.Contact, "caught": caught, "replies": replies})
}

// has reports whether bot is in the set.
func (bs botSet) has(bot string) bool { return bs.all || slices.Contains(bs.bots, bot) }
