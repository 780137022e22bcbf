package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/meta"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// notification is the body of a webhook POST: the "messages" field of a
// WhatsApp Business Account (Meta's "messages webhook reference").
type notification struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string `json:"field"`
			Value value  `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type value struct {
	Metadata struct {
		PhoneNumberID string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	} `json:"contacts"`
	Messages []message `json:"messages"`
	Statuses []status  `json:"statuses"`
}

type message struct {
	From      string `json:"from"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Context   *struct {
		ID string `json:"id"`
	} `json:"context"`
	Text *struct {
		Body string `json:"body"`
	} `json:"text"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *reply `json:"button_reply"`
		ListReply   *reply `json:"list_reply"`
	} `json:"interactive"`
	// Button is a tap on a template's quick reply button.
	Button *struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"button"`
	Image    *media `json:"image"`
	Document *media `json:"document"`
	Audio    *media `json:"audio"`
	Video    *media `json:"video"`
	Sticker  *media `json:"sticker"`
}

type reply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type media struct {
	ID       string `json:"id"`
	MIMEType string `json:"mime_type"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

type status struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Timestamp string `json:"timestamp"`
	Errors    []struct {
		Code      int    `json:"code"`
		Title     string `json:"title"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"errors"`
}

// HandleWebhook answers the GET verification handshake, and turns a
// signed POST into messages and delivery receipts. A bad signature is
// refused with 403 and nothing of the body is read.
func (w *WhatsApp) HandleWebhook(ctx context.Context, instance string, r *sdk.WebhookRequest) (*sdk.WebhookResult, error) {
	c, err := w.config(instance)
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
	res := meta.Answer(http.StatusOK, "text/plain", "ok")
	seen := map[string]bool{}
	for _, e := range n.Entry {
		for _, ch := range e.Changes {
			v := ch.Value
			// One app may serve several numbers; this instance is one.
			if ch.Field != "messages" || (v.Metadata.PhoneNumberID != "" && v.Metadata.PhoneNumberID != c.PhoneNumberID) {
				continue
			}
			names := map[string]string{}
			for _, ct := range v.Contacts {
				names[ct.WaID] = ct.Profile.Name
			}
			for _, m := range v.Messages {
				in, ok := w.inbound(c, m)
				if !ok || seen[m.ID] {
					continue
				}
				seen[m.ID] = true
				in.Name = names[m.From]
				res.Messages = append(res.Messages, in)
			}
			for _, s := range v.Statuses {
				if u, ok := statusUpdate(s); ok {
					res.Statuses = append(res.Statuses, u)
				}
			}
		}
	}
	return res, nil
}

// inbound normalizes one message. Media come as attachments whose URL is
// the Graph API's URL of the media id ({graph_url}/{media-id}): a GET of
// it with the access token answers the short-lived download URL. The
// webhook downloads nothing, so it stays fast and no token ends up in a
// stored URL; FetchMedia (media.go) downloads a file when an agent opens
// it.
func (w *WhatsApp) inbound(c config, m message) (sdk.InboundMessage, bool) {
	in := sdk.InboundMessage{Sender: m.From, ID: m.ID, Time: unixTime(m.Timestamp)}
	if m.Context != nil {
		in.ReplyTo = m.Context.ID
	}
	attach := func(md *media, kind string) {
		in.Content.Text = md.Caption
		in.Content.Attachments = append(in.Content.Attachments, sdk.Media{
			URL: c.GraphURL + "/" + md.ID, Kind: kind, Name: md.Filename, MIME: md.MIMEType,
		})
	}
	switch {
	case m.Type == "text" && m.Text != nil:
		in.Content.Text = m.Text.Body
	case m.Type == "interactive" && m.Interactive != nil:
		r := m.Interactive.ButtonReply
		if r == nil {
			r = m.Interactive.ListReply
		}
		if r == nil {
			return in, false
		}
		in.Content.Text, in.Content.Payload = r.Title, r.ID
	case m.Type == "button" && m.Button != nil:
		in.Content.Text, in.Content.Payload = m.Button.Text, m.Button.Payload
	case m.Type == "image" && m.Image != nil:
		attach(m.Image, "image")
	case m.Type == "sticker" && m.Sticker != nil:
		attach(m.Sticker, "image")
	case m.Type == "document" && m.Document != nil:
		attach(m.Document, "file")
	case m.Type == "audio" && m.Audio != nil:
		attach(m.Audio, "audio")
	case m.Type == "video" && m.Video != nil:
		attach(m.Video, "video")
	default:
		// Locations, contacts, reactions, system and unsupported
		// messages: nothing a flow can use yet.
		sdk.Logger().Debug("message type ignored", "type", m.Type, "id", m.ID)
		return in, false
	}
	return in, true
}

var statuses = map[string]sdk.DeliveryStatus{
	"sent": sdk.StatusSent, "delivered": sdk.StatusDelivered, "read": sdk.StatusRead, "failed": sdk.StatusFailed,
}

func statusUpdate(s status) (sdk.StatusUpdate, bool) {
	st, ok := statuses[s.Status]
	if !ok || s.ID == "" {
		return sdk.StatusUpdate{}, false
	}
	u := sdk.StatusUpdate{ExternalID: s.ID, Status: st, Time: unixTime(s.Timestamp)}
	var reasons []string
	for _, e := range s.Errors {
		r := strconv.Itoa(e.Code) + " " + e.Title
		if e.ErrorData.Details != "" {
			r += ": " + e.ErrorData.Details
		}
		reasons = append(reasons, r)
	}
	u.Error = strings.Join(reasons, "; ")
	return u, true
}

// unixTime reads Meta's timestamps, Unix seconds as a string.
func unixTime(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}
