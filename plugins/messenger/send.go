package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/meta"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// The Send API's limits.
const (
	maxButtons      = 3  // buttons of a button template, and of a card
	maxCards        = 10 // elements of a generic template
	maxQuickReplies = 13
	maxTitle        = 20 // a quick reply's or a button's title
	maxCardTitle    = 80
	maxPayload      = 1000
	// prompt is the text of a button template or of quick replies whose
	// content has no text: Messenger requires one.
	prompt = "Please choose:"
)

// MetaTag is the OutboundMessage.Metadata key of a message tag
// (HUMAN_AGENT, ACCOUNT_UPDATE …): a message with one is sent as a
// MESSAGE_TAG whether or not the window is open.
const MetaTag = "tag"

// Send sends one message through the Send API. Messenger has no message
// that carries both an attachment and text, so a message may go out in
// several parts, in order: attachments, gallery cards (10 per generic
// template), then the text (a button template when it has up to 3
// buttons); quick replies ride on the last part. It returns the last
// part's mid. A retry (the same OutboundMessage.ID) sends only the parts
// that did not go out (sent.go).
func (ms *Messenger) Send(ctx context.Context, instance string, m *sdk.OutboundMessage) (string, error) {
	c, err := ms.config(instance)
	if err != nil {
		return "", err
	}
	head, err := ms.envelope(c, m)
	if err != nil {
		return "", err
	}
	ps, err := parts(m.Content)
	if err != nil {
		return "", err
	}
	page := c.PageID
	if page == "" {
		page = "me"
	}
	var mid string
	for i, p := range ps {
		key := instance + "\x00" + m.ID + "\x00" + strconv.Itoa(i)
		if done := ms.sent.part(key); done != "" {
			mid = done
			continue
		}
		body := map[string]any{"message": p}
		for k, v := range head {
			body[k] = v
		}
		out, err := meta.Post(ctx, ms.client, c.GraphURL+"/"+page+"/messages", c.PageAccessToken, body)
		if err != nil {
			if i > 0 {
				err = fmt.Errorf("part %d of %d: %w", i+1, len(ps), err)
			}
			return "", err
		}
		var ans struct {
			MessageID string `json:"message_id"`
		}
		if err := json.Unmarshal(out, &ans); err != nil || ans.MessageID == "" {
			// Accepted, but without an id: trying again could send it twice.
			return "", sdk.Final(fmt.Errorf("the Send API accepted the message but gave no message_id: %.200s", out))
		}
		mid = ans.MessageID
		ms.sent.sent(key, instance+"\x00"+m.Recipient, mid, ms.now())
	}
	sdk.Logger().Debug("sent", "instance", instance, "parts", len(ps), "mid", mid)
	return mid, nil
}

// envelope is what every part of a message carries: the recipient and
// the messaging type. Within 24 hours of the user's last message it is a
// RESPONSE; after, or when the message names a tag, a MESSAGE_TAG with
// the message's tag or the configured default_tag. With neither, the
// message fails finally rather than being refused by Messenger (error 10)
// over and over.
func (ms *Messenger) envelope(c config, m *sdk.OutboundMessage) (map[string]any, error) {
	head := map[string]any{"recipient": map[string]string{"id": m.Recipient}, "messaging_type": "RESPONSE"}
	tag := m.Metadata[MetaTag]
	closed := !m.LastInbound.IsZero() && ms.now().Sub(m.LastInbound) >= Window
	if tag == "" && closed {
		tag = c.DefaultTag
		if tag == "" {
			return nil, sdk.Final(fmt.Errorf("the 24-hour window closed at %s and no message tag is configured (default_tag)",
				m.LastInbound.Add(Window).UTC().Format(time.RFC3339)))
		}
	}
	if tag != "" {
		head["messaging_type"], head["tag"] = "MESSAGE_TAG", tag
	}
	return head, nil
}

// parts are the message objects to send for content, in order.
func parts(ct sdk.Content) ([]map[string]any, error) {
	var out []map[string]any
	for _, a := range []struct {
		kind string
		m    *sdk.Media
	}{{"image", ct.Image}, {mediaKind(ct.Media), ct.Media}, {"file", ct.File}} {
		if a.m != nil {
			out = append(out, attachment(a.kind, map[string]any{"url": a.m.URL, "is_reusable": true}))
		}
	}
	for cards := ct.Gallery; len(cards) > 0; {
		n := min(len(cards), maxCards)
		out = append(out, attachment("template", map[string]any{"template_type": "generic", "elements": elements(cards[:n])}))
		cards = cards[n:]
	}

	text, buttons := ct.Text, ct.Buttons
	quick := append([]sdk.Button(nil), ct.QuickReplies...)
	if len(buttons) > maxButtons {
		// More than a button template holds: payload buttons become quick
		// replies, URL buttons lines of the text.
		var rest []sdk.Button
		for _, b := range buttons {
			if b.URL != "" {
				text = strings.TrimSpace(text + "\n" + b.Title + ": " + b.URL)
			} else {
				rest = append(rest, b)
			}
		}
		quick, buttons = append(rest, quick...), nil
	}
	if len(quick) > maxQuickReplies {
		for i, b := range quick {
			text += fmt.Sprintf("\n%d) %s", i+1, b.Title)
		}
		quick = nil
	}
	switch {
	case len(buttons) > 0:
		if strings.TrimSpace(text) == "" {
			text = prompt
		}
		out = append(out, attachment("template", map[string]any{"template_type": "button", "text": strings.TrimSpace(text), "buttons": templateButtons(buttons)}))
	case strings.TrimSpace(text) != "":
		out = append(out, map[string]any{"text": strings.TrimSpace(text)})
	case len(quick) > 0 && len(out) == 0:
		out = append(out, map[string]any{"text": prompt})
	}
	if len(out) == 0 {
		return nil, sdk.Final(errors.New("the message has nothing Messenger can send"))
	}
	if len(quick) > 0 {
		var qs []any
		for _, b := range quick {
			qs = append(qs, map[string]string{"content_type": "text", "title": meta.Cut(b.Title, maxTitle), "payload": payload(b)})
		}
		out[len(out)-1]["quick_replies"] = qs
	}
	return out, nil
}

func attachment(kind string, payload map[string]any) map[string]any {
	return map[string]any{"attachment": map[string]any{"type": kind, "payload": payload}}
}

// mediaKind is the attachment type of media: image, video, audio or file.
func mediaKind(m *sdk.Media) string {
	if m != nil {
		switch m.Kind {
		case "image", "video", "audio":
			return m.Kind
		}
	}
	return "file"
}

func elements(cards []sdk.Card) []any {
	var els []any
	for _, c := range cards {
		el := map[string]any{"title": meta.Cut(c.Title, maxCardTitle)}
		if c.Subtitle != "" {
			el["subtitle"] = meta.Cut(c.Subtitle, maxCardTitle)
		}
		if c.Image != "" {
			el["image_url"] = c.Image
		}
		if len(c.Buttons) > 0 {
			el["buttons"] = templateButtons(c.Buttons[:min(len(c.Buttons), maxButtons)])
		}
		els = append(els, el)
	}
	return els
}

// templateButtons are postback buttons, or web_url buttons for links.
func templateButtons(bs []sdk.Button) []any {
	var out []any
	for _, b := range bs {
		if b.URL != "" {
			out = append(out, map[string]string{"type": "web_url", "url": b.URL, "title": meta.Cut(b.Title, maxTitle)})
		} else {
			out = append(out, map[string]string{"type": "postback", "title": meta.Cut(b.Title, maxTitle), "payload": payload(b)})
		}
	}
	return out
}

// payload is what comes back when the user taps: the button's payload, or
// its title when it has none.
func payload(b sdk.Button) string {
	if b.Payload != "" {
		return meta.Cut(b.Payload, maxPayload)
	}
	return meta.Cut(b.Title, maxPayload)
}
