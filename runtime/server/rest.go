package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/channel"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// restCapabilities are what the REST channel's JSON can carry, following
// Rasa's REST input channel: text, buttons and images; quick replies
// become buttons and the rest becomes text.
var restCapabilities = channel.Capabilities{Buttons: true, Images: true}

// restRequest is Rasa's REST input: the sender's id, the message, and
// free-form metadata.
type restRequest struct {
	Sender   string         `json:"sender"`
	Message  *string        `json:"message"`
	Metadata map[string]any `json:"metadata"`
}

// decodeRestRequest decodes a REST request body: the usual one,
// {"sender": "…", "message": "…"}, in one pass, and anything else (metadata,
// escapes, null, errors) with encoding/json.
func decodeRestRequest(b []byte) (restRequest, error) {
	var req restRequest
	if scanRestRequest(b, &req) {
		return req, nil
	}
	req = restRequest{}
	err := json.Unmarshal(b, &req)
	return req, err
}

// scanRestRequest reads an object of string sender and message with
// web.Scanner; false: decode with encoding/json. Metadata, which the
// channel only checks is an object, goes to encoding/json too.
func scanRestRequest(b []byte, req *restRequest) bool {
	s := web.NewScanner(b)
	if s.Peek() != '{' {
		return false
	}
	ok := s.Object(func(key string) bool {
		switch key {
		case "sender":
			return s.Peek() == '"' && s.Str(&req.Sender)
		case "message":
			var m string
			if s.Peek() != '"' || !s.Str(&m) {
				return false
			}
			req.Message = &m
			return true
		}
		return s.Other(key, "sender", "message", "metadata")
	})
	return ok && s.End()
}

// maxSenderLen and maxMessageLen bound what one REST call may carry.
const (
	maxSenderLen  = 256
	maxMessageLen = 16 << 10
)

// restWebhook answers POST /webhooks/rest/webhook (the default bot) and
// /webhooks/rest/{bot}/webhook synchronously with the bot's replies, once
// the message and the replies are stored.
func (s *Server) restWebhook(ctx *fasthttp.RequestCtx) {
	bot, _ := ctx.UserValue("bot").(string)
	if bot == "" {
		bot = s.defaultBot()
	}
	if s.cfg.Pipeline.Bot(bot) == nil {
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_bot", fmt.Sprintf("no bot %q is running", bot), map[string]any{"bots": s.bots()})
		return
	}
	req, err := decodeRestRequest(ctx.PostBody())
	if err != nil {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_json", "the body must be JSON like {\"sender\": \"u1\", \"message\": \"hi\"}: "+err.Error(), nil)
		return
	}
	switch {
	case req.Sender == "":
		web.Error(ctx, fasthttp.StatusBadRequest, "missing_sender", `"sender" is required: the id of the user on your side`, nil)
		return
	case len(req.Sender) > maxSenderLen:
		web.Error(ctx, fasthttp.StatusBadRequest, "sender_too_long", fmt.Sprintf(`"sender" may be at most %d bytes`, maxSenderLen), nil)
		return
	case req.Message == nil:
		web.Error(ctx, fasthttp.StatusBadRequest, "missing_message", `"message" is required: the user's text, or a button's payload`, nil)
		return
	case len(*req.Message) > maxMessageLen:
		web.Error(ctx, fasthttp.StatusBadRequest, "message_too_long", fmt.Sprintf(`"message" may be at most %d bytes`, maxMessageLen), nil)
		return
	}
	if s.contactLimit != nil {
		var room [64]byte
		key := append(append(append(room[:0], bot...), 0), req.Sender...)
		if ok, wait := s.contactLimit.allow(key); !ok {
			s.tooMany(ctx, "contact", wait)
			return
		}
	}
	// A connection waits for its answer anyway, and connections are few:
	// the step runs on this goroutine instead of being handed to a shard's.
	res, err := s.cfg.Pipeline.HandleInline(s.requests.Context(), pipeline.Inbound{
		Bot: bot, Channel: "rest", Sender: req.Sender, Content: flows.Content{Text: *req.Message}, Replied: true,
	})
	if err != nil {
		s.handleError(ctx, err)
		return
	}
	var scratch [1024]byte // the usual answer, built without an allocation
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("application/json")
	ctx.Response.AppendBody(appendRestReplies(scratch[:0], req.Sender, res.Replies))
}

// appendRestReplies appends the replies in Rasa's REST output format,
// [{"recipient_id": "u1", "text": "...", "buttons": [{"title": "...",
// "payload": "..."}], "image": "..."}], as encoding/json would write it,
// after degrading each to what the REST channel shows.
func appendRestReplies(b []byte, sender string, replies []store.Message) []byte {
	b = append(b, '[')
	first := true
	var room [2]flows.Content
	for _, r := range replies {
		for _, c := range channel.AppendDegraded(room[:0], r.Content, restCapabilities) {
			if !first {
				b = append(b, ',')
			}
			first = false
			text, image := c.Text, ""
			if c.Image != nil {
				image = c.Image.URL
				if text == "" {
					text = c.Image.Caption
				}
			}
			b = append(b, `{"recipient_id":`...)
			b = web.AppendJSONString(b, sender)
			if text != "" {
				b = append(b, `,"text":`...)
				b = web.AppendJSONString(b, text)
			}
			if len(c.Buttons) > 0 {
				b = append(b, `,"buttons":[`...)
				for i, bt := range c.Buttons {
					if i > 0 {
						b = append(b, ',')
					}
					b = append(b, `{"title":`...)
					b = web.AppendJSONString(b, bt.Title)
					if bt.Payload != "" {
						b = append(b, `,"payload":`...)
						b = web.AppendJSONString(b, bt.Payload)
					}
					if bt.URL != "" {
						b = append(b, `,"url":`...)
						b = web.AppendJSONString(b, bt.URL)
					}
					b = append(b, '}')
				}
				b = append(b, ']')
			}
			if image != "" {
				b = append(b, `,"image":`...)
				b = web.AppendJSONString(b, image)
			}
			b = append(b, '}')
		}
	}
	return append(b, ']')
}

func (s *Server) handleError(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, pipeline.ErrClosed):
		ctx.Response.Header.Set("Retry-After", "5")
		web.Error(ctx, fasthttp.StatusServiceUnavailable, "shutting_down", "the server is shutting down: retry shortly", nil)
	case errors.Is(err, context.DeadlineExceeded):
		web.Error(ctx, fasthttp.StatusGatewayTimeout, "timeout", "the message was not handled in time (it may have been stored all the same)", nil)
	default:
		s.cfg.Log.Error("handling message", "err", err, "request_id", RequestID(ctx))
		web.Error(ctx, fasthttp.StatusInternalServerError, "internal", "the message could not be handled", nil)
	}
}
