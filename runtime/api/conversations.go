package api

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// conversationView is one conversation of the list: a contact with at
// least one message, its latest message and a preview of it.
type conversationView struct {
	Contact       *flows.Contact `json:"contact"`
	LastMessageAt time.Time      `json:"last_message_at"`
	Preview       string         `json:"preview"`
	LastMessage   messageView    `json:"last_message"`
}

// previewLen bounds a preview, in characters.
const previewLen = 140

// listConversations lists the conversations (contacts with at least one
// message) in contact ID order, optionally of one bot and only those whose
// contact has the status, channel and tag asked for (exact matches). A
// page reads at most SearchScan contacts (and the latest message of each
// contact that passes the filters), so it may hold fewer than limit
// conversations and still have a next_cursor; then truncated is true.
func (a *API) listConversations(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	bot, cursor := string(args.Peek("bot")), string(args.Peek("cursor"))
	status, channel, tag := string(args.Peek("status")), string(args.Peek("channel")), string(args.Peek("tag"))
	limit, ok := intArg(ctx, "limit", store.DefaultPage, 1, store.MaxPage)
	if !ok {
		return
	}
	rctx, cancel := a.reqCtx()
	defer cancel()
	out := []conversationView{}
	next, scanned, truncated, err := a.scanContacts(rctx, botsOf(ctx, bot), cursor, limit, func(c *flows.Contact) (bool, error) {
		if (status != "" && c.Status != status) || (channel != "" && c.Channel != channel) || (tag != "" && !c.HasTag(tag)) {
			return false, nil
		}
		ms, _, err := a.cfg.Store.Messages(rctx, c.ID, store.MessageQuery{Limit: 1})
		if err != nil || len(ms) == 0 {
			return false, err
		}
		m := &ms[len(ms)-1]
		out = append(out, conversationView{Contact: c, LastMessageAt: m.Time, Preview: preview(&m.Content), LastMessage: a.viewMessage(c.Bot, m)})
		return true, nil
	})
	if err != nil {
		a.internal(ctx, "listing conversations", err)
		return
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"conversations": out, "next_cursor": next, "truncated": truncated, "scanned": scanned})
}

// preview is a message's text (or, without one, what stands for it) cut to
// previewLen characters.
func preview(c *flows.Content) string {
	s := c.Text
	switch {
	case s != "":
	case c.Payload != "":
		s = c.Payload
	case c.Image != nil:
		s = "[image]"
	case c.File != nil:
		s = "[file]"
	case c.Media != nil:
		s = "[media]"
	case len(c.Gallery) > 0:
		s = "[gallery]"
	case len(c.Attachments) > 0:
		// What the customer sent: "[image]", "[audio]", "[file] invoice.pdf".
		a := c.Attachments[0]
		kind := a.Kind
		if kind == "" {
			kind = "file"
		}
		s = "[" + kind + "]"
		if a.Name != "" {
			s += " " + a.Name
		}
		if n := len(c.Attachments); n > 1 {
			s += fmt.Sprintf(" (+%d)", n-1)
		}
	}
	if utf8.RuneCountInString(s) > previewLen {
		r := []rune(s)
		s = string(r[:previewLen-1]) + "…"
	}
	return s
}
