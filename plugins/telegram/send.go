package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// replyMarkup is an inline keyboard (buttons under the message) or a
// reply keyboard (quick replies in place of the user's keyboard).
type replyMarkup struct {
	InlineKeyboard  [][]inlineButton `json:"inline_keyboard,omitempty"`
	Keyboard        [][]keyButton    `json:"keyboard,omitempty"`
	OneTimeKeyboard bool             `json:"one_time_keyboard,omitempty"`
	ResizeKeyboard  bool             `json:"resize_keyboard,omitempty"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

type keyButton struct {
	Text string `json:"text"`
}

// sent is the part of the Message a send method returns.
type sent struct {
	MessageID int64 `json:"message_id"`
	Chat      chat  `json:"chat"`
}

// apiCall is one Bot API request of a Send.
type apiCall struct {
	method string
	params map[string]any
}

// Send sends the message: sendPhoto for an image, sendDocument for a file,
// sendMessage for text, with the keyboard on the last of them. The text
// becomes the media's caption when there is one medium and the text fits
// (1024 characters); otherwise it follows as its own message. It returns
// "{chat_id}:{message_id}" of the last message sent.
func (t *Telegram) Send(ctx context.Context, instance string, m *sdk.OutboundMessage) (string, error) {
	c, err := t.config(instance)
	if err != nil {
		return "", err
	}
	markup, err := keyboard(m.Content)
	if err != nil {
		return "", sdk.Final(err)
	}
	var calls []apiCall
	text := m.Content.Text
	caption := ""
	if img := m.Content.Image; img != nil {
		calls = append(calls, apiCall{"sendPhoto", map[string]any{"photo": fileRef(img.URL)}})
		caption = img.Caption
	}
	if f := m.Content.File; f != nil {
		calls = append(calls, apiCall{"sendDocument", map[string]any{"document": fileRef(f.URL)}})
		caption = f.Caption
	}
	if text == "" && len(calls) == 1 {
		text = caption
	}
	if len(calls) == 1 && text != "" && utf8.RuneCountInString(text) <= maxCaption {
		calls[0].params["caption"] = text
		text = ""
	}
	if text != "" {
		calls = append(calls, apiCall{"sendMessage", map[string]any{"text": text}})
	}
	if len(calls) == 0 {
		return "", sdk.Final(errors.New("nothing to send: the message has no text, image or file"))
	}
	if markup != nil {
		calls[len(calls)-1].params["reply_markup"] = markup
	}
	// A retry after a failure midway sends the earlier parts again: the
	// Bot API takes no idempotency key.
	var out sent
	for _, call := range calls {
		call.params["chat_id"] = m.Recipient
		if err := t.call(ctx, c, call.method, call.params, &out, callTimeout); err != nil {
			return "", err
		}
	}
	id := msgID(out.Chat.ID, out.MessageID)
	sdk.Logger().Debug("sent", "instance", instance, "id", id)
	return id, nil
}

// keyboard builds the reply markup: buttons as an inline keyboard, one
// per row (callback_data is the payload, or a url button); quick replies
// as a one-time reply keyboard, whose tap comes back as a text message
// with the title. A message can carry one keyboard only, so quick replies
// that come with buttons join the inline keyboard.
func keyboard(c sdk.Content) (*replyMarkup, error) {
	if len(c.Buttons) == 0 && len(c.QuickReplies) == 0 {
		return nil, nil
	}
	if len(c.Buttons) == 0 {
		k := &replyMarkup{OneTimeKeyboard: true, ResizeKeyboard: true}
		for _, q := range c.QuickReplies {
			k.Keyboard = append(k.Keyboard, []keyButton{{Text: q.Title}})
		}
		return k, nil
	}
	k := &replyMarkup{}
	for _, b := range append(append([]sdk.Button(nil), c.Buttons...), c.QuickReplies...) {
		ib := inlineButton{Text: b.Title}
		switch {
		case b.URL != "":
			ib.URL = b.URL
		case b.Payload != "":
			ib.CallbackData = b.Payload
		default:
			ib.CallbackData = b.Title
		}
		if len(ib.CallbackData) > maxCallbackData {
			return nil, fmt.Errorf("button %q: Telegram takes a payload of at most %d bytes, this one has %d", b.Title, maxCallbackData, len(ib.CallbackData))
		}
		k.InlineKeyboard = append(k.InlineKeyboard, []inlineButton{ib})
	}
	return k, nil
}

// fileRef is what sendPhoto and sendDocument take: a URL Telegram fetches,
// or the file_id of a file Telegram has (a "telegram-file:" reference from
// an inbound message).
func fileRef(u string) string {
	if id, ok := strings.CutPrefix(u, fileURLPrefix); ok {
		return id
	}
	return u
}
