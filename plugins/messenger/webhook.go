package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/meta"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// notification is the body of a webhook POST for a Page (Meta's
// "Webhook Events" reference: messages, messaging_postbacks,
// message_deliveries, message_reads).
type notification struct {
	Object string `json:"object"`
	Entry  []struct {
		ID        string  `json:"id"`
		Messaging []event `json:"messaging"`
	} `json:"entry"`
}

type event struct {
	Sender struct {
		ID string `json:"id"`
	} `json:"sender"`
	Timestamp int64 `json:"timestamp"`
	Message   *struct {
		Mid        string `json:"mid"`
		Text       string `json:"text"`
		IsEcho     bool   `json:"is_echo"`
		QuickReply *struct {
			Payload string `json:"payload"`
		} `json:"quick_reply"`
		ReplyTo *struct {
			Mid string `json:"mid"`
		} `json:"reply_to"`
		Attachments []struct {
			Type    string `json:"type"`
			Payload struct {
				URL string `json:"url"`
			} `json:"payload"`
		} `json:"attachments"`
	} `json:"message"`
	Postback *struct {
		Mid     string `json:"mid"`
		Title   string `json:"title"`
		Payload string `json:"payload"`
	} `json:"postback"`
	Delivery *struct {
		Mids      []string `json:"mids"`
		Watermark int64    `json:"watermark"`
	} `json:"delivery"`
	Read *struct {
		Watermark int64 `json:"watermark"`
	} `json:"read"`
}

// kinds maps Messenger's attachment types to the runtime's media kinds;
// other types (location, fallback, template) are left out.
var kinds = map[string]string{"image": "image", "video": "video", "audio": "audio", "file": "file"}

// HandleWebhook answers the GET verification handshake, and turns a
// signed POST into messages and delivery receipts. A bad signature is
// refused with 403 and nothing of the body is read.
func (ms *Messenger) HandleWebhook(ctx context.Context, instance string, r *sdk.WebhookRequest) (*sdk.WebhookResult, error) {
	c, err := ms.config(instance)
	if err != nil {
		return nil, err
	}
	if r.Method == http.MethodGet {
		return meta.Verify(r, c.VerifyToken), nil
	}
	if res := meta.CheckPost(r, c.AppSecret); res != nil {
		sdk.Logger().Warn("webhook refused", "instance", instance, "status", res.Status, "remote", r.RemoteAddr)
		return res, nil
	}
	var n notification
	if err := json.Unmarshal(r.Body, &n); err != nil {
		return meta.Answer(http.StatusBadRequest, "text/plain", "the body is not JSON"), nil
	}
	res := meta.Answer(http.StatusOK, "text/plain", "EVENT_RECEIVED")
	if n.Object != "page" {
		return res, nil
	}
	seen := map[string]bool{}
	for _, e := range n.Entry {
		// One app may serve several pages; this instance is one.
		if c.PageID != "" && e.ID != c.PageID {
			continue
		}
		for _, ev := range e.Messaging {
			user := instance + "\x00" + ev.Sender.ID
			switch {
			case ev.Message != nil || ev.Postback != nil:
				in, ok := inbound(ev)
				if ok && !seen[in.ID] {
					seen[in.ID] = true
					res.Messages = append(res.Messages, in)
				}
			case ev.Delivery != nil:
				for _, mid := range ev.Delivery.Mids {
					res.Statuses = append(res.Statuses, sdk.StatusUpdate{ExternalID: mid, Status: sdk.StatusDelivered, Time: millis(ev.Timestamp)})
				}
			case ev.Read != nil:
				for _, mid := range ms.sent.read(user, millis(ev.Read.Watermark)) {
					res.Statuses = append(res.Statuses, sdk.StatusUpdate{ExternalID: mid, Status: sdk.StatusRead, Time: millis(ev.Timestamp)})
				}
			}
		}
	}
	return res, nil
}

// inbound normalizes a message or a postback (a tap on a button of a
// template). A postback without a mid gets an id of its sender and time,
// so that a redelivery is still recognised.
func inbound(ev event) (sdk.InboundMessage, bool) {
	in := sdk.InboundMessage{Sender: ev.Sender.ID, Time: millis(ev.Timestamp)}
	if p := ev.Postback; p != nil {
		in.ID = p.Mid
		if in.ID == "" {
			in.ID = "postback:" + ev.Sender.ID + ":" + strconv.FormatInt(ev.Timestamp, 10)
		}
		in.Content = sdk.Content{Text: p.Title, Payload: p.Payload}
		return in, true
	}
	m := ev.Message
	if m.IsEcho {
		// A copy of what the page sent.
		return in, false
	}
	in.ID, in.Content.Text = m.Mid, m.Text
	if m.QuickReply != nil {
		in.Content.Payload = m.QuickReply.Payload
	}
	if m.ReplyTo != nil {
		in.ReplyTo = m.ReplyTo.Mid
	}
	for _, a := range m.Attachments {
		if k, ok := kinds[a.Type]; ok && a.Payload.URL != "" {
			in.Content.Attachments = append(in.Content.Attachments, sdk.Media{URL: a.Payload.URL, Kind: k})
		}
	}
	return in, in.Content.Text != "" || len(in.Content.Attachments) > 0
}

// millis reads Messenger's timestamps, Unix milliseconds.
func millis(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
