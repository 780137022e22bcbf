package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/plugins/host"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// Media fetches the attachments customers send through channels whose
// plugin can (runtime/plugins.Channels): Telegram's file references,
// WhatsApp's media ids, which only the plugin, holding the token, can
// download.
type Media interface {
	// FetchesMedia reports whether bot's channel ch fetches its
	// attachments.
	FetchesMedia(bot, ch string) bool
	// FetchMedia downloads an attachment bot's channel ch received, by
	// its URL as stored (host.ChannelClient.FetchMedia's bounds and
	// errors).
	FetchMedia(ctx context.Context, bot, ch, url string) (io.ReadCloser, sdk.MediaInfo, error)
}

// AttachmentPath is where the API serves attachment n (from 0) of the
// message seq of contact.
func AttachmentPath(contact string, seq uint64, n int) string {
	return Prefix + "/contacts/" + url.PathEscape(contact) + "/messages/" + strconv.FormatUint(seq, 10) + "/attachments/" + strconv.Itoa(n)
}

// contentView is a message's content as the API shows it: the attachments
// of a customer's message whose channel fetches them carry the path the
// API serves them at (proxy_url), so that a client needs to know nothing
// of the channel to show them.
type contentView struct {
	flows.Content
	Attachments []attachmentView `json:"attachments,omitempty"`
}

type attachmentView struct {
	flows.Media
	ProxyURL string `json:"proxy_url,omitempty"`
}

// ViewContent is m's content as the API (and /ws) shows it: with a
// proxy_url on each attachment of a customer's message whose channel,
// bot's, fetches media (media nil: none does).
func ViewContent(media Media, bot string, m *store.Message) any {
	c := m.Content
	if len(c.Attachments) == 0 || m.Direction != store.DirectionIn || media == nil || !media.FetchesMedia(bot, m.Channel) {
		return c
	}
	v := contentView{Content: c, Attachments: make([]attachmentView, len(c.Attachments))}
	for i, a := range c.Attachments {
		v.Attachments[i] = attachmentView{Media: a, ProxyURL: AttachmentPath(m.Contact, m.Seq, i)}
	}
	return v
}

// getAttachment serves an attachment of a customer's message, fetched
// through the channel's plugin: only to those who may see the
// conversation, and so that no file can run as a page of this origin
// (serveMedia).
func (a *API) getAttachment(ctx *fasthttp.RequestCtx) {
	seq, err1 := strconv.ParseUint(userValue(ctx, "seq"), 10, 64)
	n, err2 := strconv.Atoi(userValue(ctx, "n"))
	rctx, cancel := a.reqCtx()
	defer cancel()
	c := a.contact(ctx, rctx)
	if c == nil {
		return
	}
	if err1 != nil || seq == 0 {
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_message", "no message "+userValue(ctx, "seq")+" in this conversation", nil)
		return
	}
	ms, _, err := a.cfg.Store.Messages(rctx, c.ID, store.MessageQuery{After: strconv.FormatUint(seq-1, 10), Before: strconv.FormatUint(seq+1, 10), Limit: 1})
	if err != nil {
		a.internal(ctx, "reading the message", err)
		return
	}
	if len(ms) == 0 || ms[0].Seq != seq {
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_message", "no message "+userValue(ctx, "seq")+" in this conversation", nil)
		return
	}
	m := &ms[0]
	// Only what customers sent: the bot's and agents' files are the
	// runtime's own, or links.
	if err2 != nil || n < 0 || n >= len(m.Content.Attachments) || m.Direction != store.DirectionIn {
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_attachment", fmt.Sprintf("message %d has no attachment %s from the customer", seq, userValue(ctx, "n")), nil)
		return
	}
	att := m.Content.Attachments[n]
	if a.cfg.Media == nil || !a.cfg.Media.FetchesMedia(c.Bot, m.Channel) {
		a.mediaError(ctx, m.Channel, host.ErrNoMedia)
		return
	}
	// The host bounds the download (host.Config.MediaTimeout), reading
	// included: the body is streamed to the client after this returns.
	body, info, err := a.cfg.Media.FetchMedia(context.Background(), c.Bot, m.Channel, att.URL)
	if err != nil {
		a.mediaError(ctx, m.Channel, err)
		return
	}
	if info.ContentType == "" {
		info.ContentType = att.MIME
	}
	if info.Name == "" {
		info.Name = att.Name
	}
	serveMedia(ctx, body, info)
}

func userValue(ctx *fasthttp.RequestCtx, key string) string {
	s, _ := ctx.UserValue(key).(string)
	return s
}

// mediaError answers a failed fetch: 409 when the channel fetches no
// media, 422 when its plugin refuses the attachment's URL as not its own,
// 504 when the provider took too long, 502 when it failed (or the file is
// over the limit).
func (a *API) mediaError(ctx *fasthttp.RequestCtx, ch string, err error) {
	switch {
	case errors.Is(err, host.ErrNoMedia):
		web.Error(ctx, fasthttp.StatusConflict, "media_unavailable", fmt.Sprintf("the channel %s cannot fetch its attachments: open the attachment's url instead", ch), nil)
	case errors.Is(err, sdk.ErrUnknownMedia):
		web.Error(ctx, fasthttp.StatusUnprocessableEntity, "attachment_not_fetchable", fmt.Sprintf("the channel %s does not fetch this attachment: %v", ch, err), nil)
	case host.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		web.Error(ctx, fasthttp.StatusGatewayTimeout, "timeout", "the channel's provider did not deliver the attachment in time", nil)
	case errors.Is(err, host.ErrMediaTooLarge):
		web.Error(ctx, fasthttp.StatusBadGateway, "media_too_large", err.Error(), nil)
	default:
		a.cfg.Log.Warn("api: fetching an attachment", "channel", ch, "err", err)
		web.Error(ctx, fasthttp.StatusBadGateway, "provider_error", fmt.Sprintf("the channel %s could not fetch the attachment: %v", ch, err), nil)
	}
}

// serveMedia streams a fetched file with a safe answer: images, audio,
// video, PDF and plain text by their type, shown inline; anything else
// as application/octet-stream, to download. nosniff and a sandbox keep
// whatever it is from running as a page of this origin.
func serveMedia(ctx *fasthttp.RequestCtx, body io.ReadCloser, info sdk.MediaInfo) {
	typ, inline := safeType(info.ContentType)
	disp := "attachment"
	if inline {
		disp = "inline"
	}
	if name := fileName(info.Name); name != "" {
		if d := mime.FormatMediaType(disp, map[string]string{"filename": name}); d != "" {
			disp = d
		}
	}
	h := &ctx.Response.Header
	h.Set("Content-Disposition", disp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	// The file of a message never changes; only this browser may keep it.
	h.Set("Cache-Control", "private, max-age=3600")
	ctx.SetContentType(typ)
	ctx.SetStatusCode(fasthttp.StatusOK)
	size := -1
	if info.Size > 0 {
		size = int(info.Size)
	}
	// fasthttp reads the body after the handler returns, and closes it.
	ctx.SetBodyStream(body, size)
}

// safeType is the type a fetched file is served as, and whether it may be
// shown inline: images (not SVG, which is a document that may script),
// audio, video, PDF and plain text; anything else is
// application/octet-stream, to download.
func safeType(ct string) (string, bool) {
	t, params, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
	case (strings.HasPrefix(t, "image/") || strings.HasPrefix(t, "audio/") || strings.HasPrefix(t, "video/")) && !strings.Contains(t, "xml"),
		t == "application/pdf":
		return t, true
	case t == "text/plain":
		if cs := params["charset"]; cs != "" {
			if s := mime.FormatMediaType(t, map[string]string{"charset": cs}); s != "" {
				return s, true
			}
		}
		return t, true
	}
	return "application/octet-stream", false
}

// fileName is a file's name fit for Content-Disposition: no path, no
// control characters, bounded.
func fileName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120])
	}
	return s
}
