package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/plugins/internal/meta"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// WhatsApp's limits on interactive messages.
const (
	maxReplyButtons = 3  // reply buttons in a button message
	maxListRows     = 10 // rows of a list message
	maxButtonTitle  = 20
	maxRowTitle     = 24
	maxReplyID      = 200
	// prompt is the body of an interactive message whose content has
	// buttons but no text: WhatsApp requires one.
	prompt     = "Please choose:"
	listButton = "Choose"
)

// Send sends one message: a template when the reply window has closed
// (template.go), else an interactive message when it has buttons, a media
// message when it has an image, a file or other media (with the text as
// caption), a text otherwise. It returns the message's wamid, the id that
// delivery receipts name.
func (w *WhatsApp) Send(ctx context.Context, instance string, m *sdk.OutboundMessage) (string, error) {
	c, err := w.config(instance)
	if err != nil {
		return "", err
	}
	body := map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": m.Recipient}
	if m.ReplyTo != "" {
		body["context"] = map[string]string{"message_id": m.ReplyTo}
	}
	tpl, err := w.template(c, m)
	if err != nil {
		return "", err
	}
	if tpl != nil {
		body["type"], body["template"] = "template", tpl
	} else if err := build(body, m.Content); err != nil {
		return "", err
	}
	out, err := meta.Post(ctx, w.client, c.GraphURL+"/"+c.PhoneNumberID+"/messages", c.AccessToken, body)
	if err != nil {
		return "", err
	}
	var ans struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(out, &ans); err != nil || len(ans.Messages) == 0 || ans.Messages[0].ID == "" {
		// Accepted, but without an id: trying again could send it twice.
		return "", sdk.Final(fmt.Errorf("the graph API accepted the message but gave no message id: %.200s", out))
	}
	sdk.Logger().Debug("sent", "instance", instance, "type", body["type"], "id", ans.Messages[0].ID)
	return ans.Messages[0].ID, nil
}

// build fills in the content of a message sent within the window.
func build(body map[string]any, ct sdk.Content) error {
	text := ct.Text
	// WhatsApp has no quick replies and no URL reply buttons: quick
	// replies are reply buttons too, and URL buttons become lines of
	// the text.
	var replies []sdk.Button
	for _, b := range append(append([]sdk.Button(nil), ct.Buttons...), ct.QuickReplies...) {
		if b.URL != "" {
			text = strings.TrimSpace(text + "\n" + b.Title + ": " + b.URL)
		} else {
			replies = append(replies, b)
		}
	}
	kind, md := pickMedia(ct)
	switch {
	case len(replies) > maxListRows:
		// More options than a list holds: numbered options in the text,
		// as the runtime writes them for channels without buttons.
		for i, b := range replies {
			text += fmt.Sprintf("\n%d) %s", i+1, b.Title)
		}
		replies = nil
	case len(replies) > 0:
		text = strings.TrimSpace(text)
		body["type"], body["interactive"] = "interactive", interactive(text, replies, kind, md)
		return nil
	}
	text = strings.TrimSpace(text)
	switch {
	case md != nil:
		if kind == "audio" && text != "" {
			kind = "document" // audio messages take no caption
		}
		obj := map[string]any{"link": md.URL}
		if text != "" {
			obj["caption"] = text
		}
		if kind == "document" && md.Name != "" {
			obj["filename"] = md.Name
		}
		body["type"], body[kind] = kind, obj
	case text != "":
		body["type"], body["text"] = "text", map[string]any{"body": text, "preview_url": false}
	default:
		return sdk.Final(errors.New("the message has nothing WhatsApp can send"))
	}
	return nil
}

// pickMedia returns the message's media and the WhatsApp message type for
// it: image, document, audio or video.
func pickMedia(ct sdk.Content) (string, *sdk.Media) {
	switch {
	case ct.Image != nil:
		return "image", ct.Image
	case ct.File != nil:
		return "document", ct.File
	case ct.Media != nil:
		switch ct.Media.Kind {
		case "image", "audio", "video":
			return ct.Media.Kind, ct.Media
		}
		return "document", ct.Media
	}
	return "", nil
}

// interactive is a reply-button message (up to 3 buttons, with the media
// as header) or a list message (up to 10 rows; a list's header can only
// be text, so the media's link goes into the body).
func interactive(text string, replies []sdk.Button, kind string, md *sdk.Media) map[string]any {
	if len(replies) > maxReplyButtons && md != nil {
		text = strings.TrimSpace(text + "\n" + md.URL)
	}
	if strings.TrimSpace(text) == "" {
		text = prompt
	}
	it := map[string]any{"body": map[string]string{"text": text}}
	if len(replies) <= maxReplyButtons {
		var buttons []any
		for _, b := range replies {
			buttons = append(buttons, map[string]any{
				"type": "reply", "reply": map[string]string{"id": replyID(b), "title": meta.Cut(b.Title, maxButtonTitle)},
			})
		}
		it["type"], it["action"] = "button", map[string]any{"buttons": buttons}
		if md != nil && kind != "audio" {
			h := map[string]string{"link": md.URL}
			if kind == "document" && md.Name != "" {
				h["filename"] = md.Name
			}
			it["header"] = map[string]any{"type": kind, kind: h}
		}
		return it
	}
	var rows []any
	for _, b := range replies {
		rows = append(rows, map[string]string{"id": replyID(b), "title": meta.Cut(b.Title, maxRowTitle)})
	}
	it["type"], it["action"] = "list", map[string]any{"button": listButton, "sections": []any{map[string]any{"rows": rows}}}
	return it
}

// replyID is what comes back as the payload when the user taps a reply:
// the button's payload, or its title when it has none.
func replyID(b sdk.Button) string {
	if b.Payload != "" {
		return meta.Cut(b.Payload, maxReplyID)
	}
	return meta.Cut(b.Title, maxReplyID)
}
