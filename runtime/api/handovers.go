package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/access"
	"github.com/switchboard-bots/switchboard/runtime/livechat"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// mountLiveChat adds the live-chat routes: handovers and what agents do
// with them, canned replies, presence, the bots' live-chat settings.
func (a *API) mountLiveChat(g *router.Group) {
	// An API without the live chat service (tests of other parts) answers
	// its routes with 501.
	auth := func(scope string, h fasthttp.RequestHandler) fasthttp.RequestHandler {
		return a.auth(scope, func(ctx *fasthttp.RequestCtx) {
			if a.cfg.LiveChat == nil {
				web.Error(ctx, fasthttp.StatusNotImplemented, "no_live_chat", "live chat is not running on this server", nil)
				return
			}
			h(ctx)
		})
	}
	g.GET("/handovers", auth(scopeRead, a.listHandovers))
	g.GET("/handovers/analytics", auth(scopeRead, a.handoverAnalytics))
	g.GET("/handovers/{id}", auth(scopeRead, a.getHandover))
	g.PATCH("/handovers/{id}", auth(scopeWrite, a.handoverAction(a.patchHandover)))
	g.GET("/handovers/{id}/export", auth(scopeRead, a.exportHandover))
	g.POST("/handovers/{id}/assign", auth(scopeWrite, a.handoverAction(a.assignHandover)))
	g.POST("/handovers/{id}/unassign", auth(scopeWrite, a.handoverAction(a.unassignHandover)))
	g.POST("/handovers/{id}/transfer", auth(scopeWrite, a.handoverAction(a.transferHandover)))
	g.POST("/handovers/{id}/messages", auth(scopeWrite, a.replyHandover))
	g.POST("/handovers/{id}/skill", auth(scopeWrite, a.skillHandover))
	g.POST("/handovers/{id}/notes", auth(scopeWrite, a.handoverAction(a.noteHandover)))
	g.POST("/handovers/{id}/resolve", auth(scopeWrite, a.handoverAction(a.resolveHandover)))
	g.POST("/handovers/{id}/close", auth(scopeWrite, a.handoverAction(a.closeHandover)))

	g.POST("/uploads", auth(scopeWrite, a.upload))
	g.GET("/canned-replies", auth(scopeRead, a.listCanned))
	g.POST("/canned-replies", auth(scopeWrite, a.saveCanned(false)))
	g.PATCH("/canned-replies/{id}", auth(scopeWrite, a.saveCanned(true)))
	g.DELETE("/canned-replies/{id}", auth(scopeWrite, a.deleteCanned))

	g.GET("/presence", auth(scopeRead, a.listPresence))
	g.POST("/me/presence", auth(scopeRead, a.setPresence))
	g.GET("/bots/{id}/live-chat", auth(scopeRead, a.getLiveChatSettings))
	g.PUT("/bots/{id}/live-chat", auth(scopeWrite, a.putLiveChatSettings))
}

// liveChatError answers an error of the live chat service.
func (a *API) liveChatError(ctx *fasthttp.RequestCtx, what string, err error) {
	switch {
	case errors.Is(err, livechat.ErrNotFound):
		web.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such handover", nil)
	case errors.Is(err, livechat.ErrForbidden):
		web.Error(ctx, fasthttp.StatusForbidden, "forbidden", err.Error(), nil)
	case errors.Is(err, livechat.ErrReplyWindow):
		web.Error(ctx, fasthttp.StatusConflict, "reply_window_closed", err.Error(), nil)
	case errors.Is(err, livechat.ErrConflict):
		web.Error(ctx, fasthttp.StatusConflict, "conflict", err.Error(), nil)
	case errors.Is(err, livechat.ErrInvalid):
		web.Error(ctx, fasthttp.StatusUnprocessableEntity, "invalid", err.Error(), nil)
	case errors.Is(err, pipeline.ErrUnknownBot):
		web.Error(ctx, fasthttp.StatusConflict, "bot_not_running", "the conversation's bot is not running: publish it to go on", nil)
	default:
		a.internal(ctx, what, err)
	}
}

func (a *API) listHandovers(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	q := livechat.Query{
		Status: string(args.Peek("status")), Queue: string(args.Peek("queue")), Assignee: string(args.Peek("assignee")),
		Bot: string(args.Peek("bot")), Tag: string(args.Peek("tag")), Channel: string(args.Peek("channel")),
		Contact: string(args.Peek("contact")), Q: string(args.Peek("q")), Cursor: string(args.Peek("cursor")),
	}
	if !livechat.ValidStatus(q.Status) {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_status", fmt.Sprintf("unknown status %q: use open, all, or one of new, assigned, chatting, pending, overdue, resolved, closed", q.Status), nil)
		return
	}
	if q.Assignee == "me" {
		q.Assignee = PrincipalOf(ctx).Account
	}
	limit, ok := intArg(ctx, "limit", store.DefaultPage, 1, store.MaxPage)
	if !ok {
		return
	}
	q.Limit, q.Scan = limit, a.cfg.SearchScan
	rctx, cancel := a.reqCtx()
	defer cancel()
	page, err := a.cfg.LiveChat.List(rctx, PrincipalOf(ctx), q)
	if err != nil {
		a.liveChatError(ctx, "listing handovers", err)
		return
	}
	views := make([]*livechat.View, 0, len(page.Handovers))
	for _, h := range page.Handovers {
		views = append(views, a.cfg.LiveChat.View(rctx, h))
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"handovers": views, "next_cursor": page.NextCursor, "truncated": page.Truncated})
}

func (a *API) getHandover(ctx *fasthttp.RequestCtx) {
	rctx, cancel := a.reqCtx()
	defer cancel()
	h, err := a.cfg.LiveChat.Get(rctx, PrincipalOf(ctx), pathID(ctx))
	if err != nil {
		a.liveChatError(ctx, "reading a handover", err)
		return
	}
	web.JSON(ctx, fasthttp.StatusOK, a.cfg.LiveChat.View(rctx, h))
}

// handoverAction wraps an action that changes a handover: it answers the
// handover as the action left it.
func (a *API) handoverAction(act func(ctx *fasthttp.RequestCtx, rctx context.Context, by *access.Principal, id string) (*store.Handover, bool)) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		rctx, cancel := a.reqCtx()
		defer cancel()
		h, ok := act(ctx, rctx, PrincipalOf(ctx), pathID(ctx))
		if ok {
			web.JSON(ctx, fasthttp.StatusOK, a.cfg.LiveChat.View(rctx, h))
		}
	}
}

// done answers err, if any, and reports whether there was none.
func (a *API) done(ctx *fasthttp.RequestCtx, what string, h *store.Handover, err error) (*store.Handover, bool) {
	if err != nil {
		a.liveChatError(ctx, what, err)
		return nil, false
	}
	return h, true
}

// optionalBody decodes a body into v when there is one.
func (a *API) optionalBody(ctx *fasthttp.RequestCtx, v any) bool {
	if len(ctx.PostBody()) == 0 {
		return true
	}
	return a.decode(ctx, v)
}

func (a *API) assignHandover(ctx *fasthttp.RequestCtx, rctx context.Context, by *access.Principal, id string) (*store.Handover, bool) {
	var req struct {
		Agent string `json:"agent"`
	}
	if !a.optionalBody(ctx, &req) {
		return nil, false
	}
	h, err := a.cfg.LiveChat.Assign(rctx, by, id, req.Agent)
	return a.done(ctx, "assigning a handover", h, err)
}

func (a *API) unassignHandover(ctx *fasthttp.RequestCtx, rctx context.Context, by *access.Principal, id string) (*store.Handover, bool) {
	var req struct{}
	if !a.optionalBody(ctx, &req) {
		return nil, false
	}
	h, err := a.cfg.LiveChat.Unassign(rctx, by, id)
	return a.done(ctx, "unassigning a handover", h, err)
}

func (a *API) transferHandover(ctx *fasthttp.RequestCtx, rctx context.Context, by *access.Principal, id string) (*store.Handover, bool) {
	var req livechat.Transfer
	if !a.decode(ctx, &req) {
		return nil, false
	}
	h, err := a.cfg.LiveChat.Transfer(rctx, by, id, req)
	return a.done(ctx, "transferring a handover", h, err)
}

func (a *API) noteHandover(ctx *fasthttp.RequestCtx, rctx context.Context, by *access.Principal, id string) (*store.Handover, bool) {
	var req struct {
		Text  string `json:"text"`
		Color string `json:"color"`
	}
	if !a.decode(ctx, &req) {
		return nil, false
	}
	h, err := a.cfg.LiveChat.AddNote(rctx, by, id, req.Text, req.Color)
	return a.done(ctx, "adding a note", h, err)
}

func (a *API) resolveHandover(ctx *fasthttp.RequestCtx, rctx context.Context, by *access.Principal, id string) (*store.Handover, bool) {
	var req struct {
		Note string `json:"note"`
	}
	if !a.optionalBody(ctx, &req) {
		return nil, false
	}
	h, err := a.cfg.LiveChat.Resolve(rctx, by, id, req.Note)
	return a.done(ctx, "resolving a handover", h, err)
}

func (a *API) closeHandover(ctx *fasthttp.RequestCtx, rctx context.Context, by *access.Principal, id string) (*store.Handover, bool) {
	var req struct{}
	if !a.optionalBody(ctx, &req) {
		return nil, false
	}
	h, err := a.cfg.LiveChat.Close(rctx, by, id)
	return a.done(ctx, "closing a handover", h, err)
}

func (a *API) patchHandover(ctx *fasthttp.RequestCtx, rctx context.Context, by *access.Principal, id string) (*store.Handover, bool) {
	var req livechat.Patch
	if !a.decode(ctx, &req) {
		return nil, false
	}
	h, err := a.cfg.LiveChat.Update(rctx, by, id, req)
	return a.done(ctx, "changing a handover", h, err)
}

// replyHandover sends an agent's message; it answers the message and the
// handover.
func (a *API) replyHandover(ctx *fasthttp.RequestCtx) {
	var req livechat.Reply
	if !a.decode(ctx, &req) {
		return
	}
	rctx, cancel := a.reqCtx()
	defer cancel()
	m, h, err := a.cfg.LiveChat.Reply(rctx, PrincipalOf(ctx), pathID(ctx), req)
	if err != nil {
		a.liveChatError(ctx, "sending a reply", err)
		return
	}
	web.JSON(ctx, fasthttp.StatusCreated, map[string]any{"message": a.viewMessage(h.Bot, m), "handover": a.cfg.LiveChat.View(rctx, h)})
}

// upload keeps a file an agent sends with a reply (multipart form, field
// "file") and answers the attachment to send: its url goes in a reply's
// image_url, or in a link button.
func (a *API) upload(ctx *fasthttp.RequestCtx) {
	if a.cfg.Upload == nil {
		web.Error(ctx, fasthttp.StatusNotImplemented, "uploads_disabled", "this server does not take file uploads", nil)
		return
	}
	fh, err := ctx.FormFile("file")
	if err != nil {
		web.Error(ctx, fasthttp.StatusBadRequest, "missing_file", `send the file as multipart form data in the field "file"`, nil)
		return
	}
	f, err := fh.Open()
	if err != nil {
		web.Error(ctx, fasthttp.StatusBadRequest, "bad_file", "the file could not be read", nil)
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	if err != nil {
		web.Error(ctx, fasthttp.StatusBadRequest, "bad_file", "the file could not be read", nil)
		return
	}
	m, err := a.cfg.Upload(fh.Filename, data)
	if err != nil {
		a.cfg.UploadError(ctx, err)
		return
	}
	web.JSON(ctx, fasthttp.StatusCreated, m)
}

// maxUpload bounds what upload reads; the store's own limit applies first.
const maxUpload = 10 << 20

// skillHandover has the bot run one of its skills for the customer during
// the live chat.
func (a *API) skillHandover(ctx *fasthttp.RequestCtx) {
	var req struct {
		Skill string `json:"skill"`
	}
	if !a.decode(ctx, &req) {
		return
	}
	rctx, cancel := a.reqCtx()
	defer cancel()
	ms, h, err := a.cfg.LiveChat.SendSkill(rctx, PrincipalOf(ctx), pathID(ctx), req.Skill)
	if err != nil {
		a.liveChatError(ctx, "sending a skill", err)
		return
	}
	views := make([]messageView, 0, len(ms))
	for i := range ms {
		views = append(views, a.viewMessage(h.Bot, &ms[i]))
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"messages": views, "handover": a.cfg.LiveChat.View(rctx, h)})
}

// exportHandover answers the handover's conversation as JSON or CSV
// (format=csv), at most MaxPage messages around it, for download.
func (a *API) exportHandover(ctx *fasthttp.RequestCtx) {
	format := string(ctx.QueryArgs().Peek("format"))
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_format", "format is json or csv", nil)
		return
	}
	rctx, cancel := a.reqCtx()
	defer cancel()
	h, err := a.cfg.LiveChat.Get(rctx, PrincipalOf(ctx), pathID(ctx))
	if err != nil {
		a.liveChatError(ctx, "exporting a handover", err)
		return
	}
	ms, _, err := a.cfg.Store.Messages(rctx, h.Contact, store.MessageQuery{Limit: store.MaxPage})
	if err != nil {
		a.internal(ctx, "exporting a handover", err)
		return
	}
	ctx.Response.Header.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, h.ID, format))
	if format == "json" {
		views := make([]messageView, 0, len(ms))
		for i := range ms {
			views = append(views, a.viewMessage(h.Bot, &ms[i]))
		}
		web.JSON(ctx, fasthttp.StatusOK, map[string]any{"handover": a.cfg.LiveChat.View(rctx, h), "messages": views})
		return
	}
	ctx.SetContentType("text/csv; charset=utf-8")
	w := csv.NewWriter(ctx)
	_ = w.Write([]string{"seq", "time", "direction", "author", "agent", "channel", "status", "text", "content"})
	for _, m := range ms {
		content, _ := json.Marshal(m.Content)
		_ = w.Write([]string{strconv.FormatUint(m.Seq, 10), m.Time.Format(time.RFC3339Nano), m.Direction, m.Author, m.Agent, m.Channel, m.Status, m.Content.Text, string(content)})
	}
	w.Flush()
}

func (a *API) handoverAnalytics(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	q := livechat.AnalyticsQuery{Bot: string(args.Peek("bot")), Queue: string(args.Peek("queue"))}
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		v := string(args.Peek(f.name))
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				web.Error(ctx, fasthttp.StatusBadRequest, "invalid_"+f.name, f.name+" is a date (2026-11-21) or an RFC 3339 time", nil)
				return
			}
		}
		*f.to = t
	}
	rctx, cancel := a.reqCtx()
	defer cancel()
	an, err := a.cfg.LiveChat.Analytics(rctx, PrincipalOf(ctx), q)
	if err != nil {
		a.liveChatError(ctx, "computing analytics", err)
		return
	}
	web.JSON(ctx, fasthttp.StatusOK, an)
}

func (a *API) listCanned(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	rctx, cancel := a.reqCtx()
	defer cancel()
	rs, err := a.cfg.LiveChat.CannedReplies(rctx, PrincipalOf(ctx), string(args.Peek("bot")), string(args.Peek("q")))
	if err != nil {
		a.liveChatError(ctx, "listing canned replies", err)
		return
	}
	if rs == nil {
		rs = []*store.CannedReply{}
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"canned_replies": rs})
}

// cannedRequest is a canned reply as clients write it.
type cannedRequest struct {
	Bot         *string `json:"bot"`
	Title       *string `json:"title"`
	Shortcut    *string `json:"shortcut"`
	Text        *string `json:"text"`
	ButtonTitle *string `json:"button_title"`
	ButtonURL   *string `json:"button_url"`
	ImageURL    *string `json:"image_url"`
}

func (a *API) saveCanned(existing bool) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		var req cannedRequest
		if !a.decode(ctx, &req) {
			return
		}
		rctx, cancel := a.reqCtx()
		defer cancel()
		r := &store.CannedReply{}
		status := fasthttp.StatusCreated
		if existing {
			old, err := a.cfg.Store.CannedReply(rctx, pathID(ctx))
			if errors.Is(err, store.ErrNotFound) || (err == nil && !PrincipalOf(ctx).SeesBot(old.Bot)) {
				web.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such canned reply", nil)
				return
			}
			if err != nil {
				a.internal(ctx, "reading a canned reply", err)
				return
			}
			r, status = old, fasthttp.StatusOK
		}
		for _, f := range []struct {
			from *string
			to   *string
		}{{req.Bot, &r.Bot}, {req.Title, &r.Title}, {req.Shortcut, &r.Shortcut}, {req.Text, &r.Text},
			{req.ButtonTitle, &r.ButtonTitle}, {req.ButtonURL, &r.ButtonURL}, {req.ImageURL, &r.ImageURL}} {
			if f.from != nil {
				*f.to = *f.from
			}
		}
		saved, err := a.cfg.LiveChat.SaveCannedReply(rctx, PrincipalOf(ctx), r)
		if err != nil {
			a.liveChatError(ctx, "saving a canned reply", err)
			return
		}
		web.JSON(ctx, status, saved)
	}
}

func (a *API) deleteCanned(ctx *fasthttp.RequestCtx) {
	rctx, cancel := a.reqCtx()
	defer cancel()
	if err := a.cfg.LiveChat.DeleteCannedReply(rctx, PrincipalOf(ctx), pathID(ctx)); err != nil {
		if errors.Is(err, livechat.ErrNotFound) {
			web.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such canned reply", nil)
			return
		}
		a.liveChatError(ctx, "deleting a canned reply", err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func (a *API) listPresence(ctx *fasthttp.RequestCtx) {
	rctx, cancel := a.reqCtx()
	defer cancel()
	agents, err := a.cfg.LiveChat.Agents(rctx, PrincipalOf(ctx))
	if err != nil {
		a.internal(ctx, "listing agents", err)
		return
	}
	if agents == nil {
		agents = []livechat.Agent{}
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"agents": agents})
}

func (a *API) setPresence(ctx *fasthttp.RequestCtx) {
	var req struct {
		Presence string `json:"presence"`
	}
	if !a.decode(ctx, &req) {
		return
	}
	p := PrincipalOf(ctx)
	if p.Account == "" {
		web.Error(ctx, fasthttp.StatusForbidden, "forbidden", "only people signed in with an account have a presence", nil)
		return
	}
	rctx, cancel := a.reqCtx()
	defer cancel()
	agent, err := a.cfg.LiveChat.SetPresence(rctx, p, req.Presence)
	if err != nil {
		if errors.Is(err, livechat.ErrForbidden) || errors.Is(err, livechat.ErrInvalid) {
			a.liveChatError(ctx, "setting presence", err)
			return
		}
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_presence", err.Error(), nil)
		return
	}
	web.JSON(ctx, fasthttp.StatusOK, agent)
}

// liveChatSettingsView is a bot's live-chat settings on the wire, with
// durations as Go duration strings ("1h", "5m"; "0" or "-1s" for never).
type liveChatSettingsView struct {
	IdleOff        string `json:"idle_off"`
	ResolveMessage string `json:"resolve_message"`
	Rating         bool   `json:"rating"`
	OfflineMessage string `json:"offline_message"`
	NotifyWebhook  string `json:"notify_webhook"`
	NotifyAfter    string `json:"notify_after"`
}

func (a *API) getLiveChatSettings(ctx *fasthttp.RequestCtx) {
	bot := pathID(ctx)
	if !PrincipalOf(ctx).SeesBot(bot) || a.bot(bot) == nil {
		web.Error(ctx, fasthttp.StatusNotFound, "not_found", fmt.Sprintf("no running bot %q", bot), nil)
		return
	}
	rctx, cancel := a.reqCtx()
	defer cancel()
	set, err := a.cfg.LiveChat.Settings(rctx, bot)
	if err != nil {
		a.internal(ctx, "reading live-chat settings", err)
		return
	}
	web.JSON(ctx, fasthttp.StatusOK, liveChatSettingsView{
		IdleOff: set.IdleOff.String(), ResolveMessage: set.ResolveMessage, Rating: set.Rating, OfflineMessage: set.OfflineMessage,
		NotifyWebhook: set.NotifyWebhook, NotifyAfter: set.NotifyAfter.String(),
	})
}

func (a *API) putLiveChatSettings(ctx *fasthttp.RequestCtx) {
	bot := pathID(ctx)
	p := PrincipalOf(ctx)
	if !p.SeesBot(bot) || a.bot(bot) == nil {
		web.Error(ctx, fasthttp.StatusNotFound, "not_found", fmt.Sprintf("no running bot %q", bot), nil)
		return
	}
	if !p.CanAssignOthers() {
		web.Error(ctx, fasthttp.StatusForbidden, "forbidden", "managers of the bot and admins change its live-chat settings", nil)
		return
	}
	var req liveChatSettingsView
	if !a.decode(ctx, &req) {
		return
	}
	set := &store.LiveChatSettings{ResolveMessage: req.ResolveMessage, Rating: req.Rating, OfflineMessage: req.OfflineMessage, NotifyWebhook: req.NotifyWebhook}
	for _, f := range []struct {
		name, v string
		to      *time.Duration
	}{{"idle_off", req.IdleOff, &set.IdleOff}, {"notify_after", req.NotifyAfter, &set.NotifyAfter}} {
		if f.v == "" {
			continue
		}
		d, err := time.ParseDuration(f.v)
		if err != nil || d > flows.MaxDuration {
			web.Error(ctx, fasthttp.StatusUnprocessableEntity, "invalid_"+f.name, f.name+` is a duration like "30m" or "2h" (negative: never)`, map[string]any{f.name: f.v})
			return
		}
		*f.to = d
	}
	if set.NotifyWebhook != "" && !validWebhook(set.NotifyWebhook) {
		web.Error(ctx, fasthttp.StatusUnprocessableEntity, "invalid_notify_webhook", "notify_webhook is an http(s) URL", nil)
		return
	}
	for _, s := range []string{set.ResolveMessage, set.OfflineMessage} {
		if len(s) > livechat.MaxText {
			web.Error(ctx, fasthttp.StatusUnprocessableEntity, "invalid_message", fmt.Sprintf("messages are at most %d bytes", livechat.MaxText), nil)
			return
		}
	}
	set.UpdatedAt = a.cfg.Now()
	rctx, cancel := a.reqCtx()
	defer cancel()
	if err := a.cfg.Store.PutLiveChatSettings(rctx, bot, set); err != nil {
		a.internal(ctx, "saving live-chat settings", err)
		return
	}
	a.getLiveChatSettings(ctx)
}

func validWebhook(u string) bool {
	return len(u) <= 2048 && (len(u) > 8 && (u[:8] == "https://" || u[:7] == "http://"))
}
