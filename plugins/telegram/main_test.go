package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

const (
	token  = "123456789:AAF-t0ken_never_logged"
	secret = "wh-secret_never-logged"
)

var setup = sdktest.Setup{
	Config: func(url string) string {
		return `{"token": "` + token + `", "mode": "webhook", "webhook_secret": "` + secret + `", "api_url": "` + url + `"}`
	},
	Secrets: []string{token, secret},
}

var hdr = map[string]string{"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}

// Updates as the Bot API documents them.
const (
	textUpdate = `{"update_id": 10000, "message": {"message_id": 42, "date": 1763712000,
	  "from": {"id": 111, "is_bot": false, "first_name": "Ada", "last_name": "Lovelace", "username": "ada", "language_code": "en"},
	  "chat": {"id": 111, "first_name": "Ada", "last_name": "Lovelace", "username": "ada", "type": "private"},
	  "text": "hello"}}`
	photoUpdate = `{"update_id": 10001, "message": {"message_id": 43, "date": 1763712001,
	  "from": {"id": 111, "is_bot": false, "first_name": "Ada"}, "chat": {"id": 111, "type": "private"},
	  "photo": [
	    {"file_id": "AgAD-small", "file_unique_id": "s", "width": 90, "height": 60, "file_size": 1200},
	    {"file_id": "AgAD-large", "file_unique_id": "l", "width": 1280, "height": 853, "file_size": 98000},
	    {"file_id": "AgAD-medium", "file_unique_id": "m", "width": 320, "height": 213, "file_size": 14000}
	  ],
	  "caption": "my receipt"}}`
	documentUpdate = `{"update_id": 10002, "message": {"message_id": 44, "date": 1763712002,
	  "from": {"id": 111, "is_bot": false, "first_name": "Ada"}, "chat": {"id": 111, "type": "private"},
	  "document": {"file_name": "invoice.pdf", "mime_type": "application/pdf", "file_id": "BQAD-doc", "file_unique_id": "d", "file_size": 51234},
	  "reply_to_message": {"message_id": 40, "date": 1763711000, "chat": {"id": 111, "type": "private"}, "text": "send it"}}}`
	callbackUpdate = `{"update_id": 10003, "callback_query": {"id": "4382bfdwdsb323b2d9", "chat_instance": "-8312",
	  "from": {"id": 111, "is_bot": false, "first_name": "Ada", "last_name": "Lovelace"},
	  "message": {"message_id": 45, "date": 1763712003, "from": {"id": 999, "is_bot": true, "first_name": "Bot"},
	    "chat": {"id": 111, "type": "private"}, "text": "Pick a plan",
	    "reply_markup": {"inline_keyboard": [[{"text": "Basic", "callback_data": "plan_basic"}], [{"text": "Pro", "callback_data": "plan_pro"}]]}},
	  "data": "plan_pro"}}`
	editedUpdate = `{"update_id": 10004, "edited_message": {"message_id": 42, "date": 1763712000, "edit_date": 1763712100,
	  "from": {"id": 111, "is_bot": false, "first_name": "Ada"}, "chat": {"id": 111, "type": "private"}, "text": "hello!"}}`
	stickerUpdate = `{"update_id": 10005, "message": {"message_id": 46, "date": 1763712005,
	  "from": {"id": 111, "is_bot": false, "first_name": "Ada"}, "chat": {"id": 111, "type": "private"},
	  "sticker": {"file_id": "CAAD", "file_unique_id": "x", "width": 512, "height": 512, "is_animated": false, "is_video": false, "type": "regular"}}}`
)

var (
	textMsg = sdk.InboundMessage{
		Sender: "111", ID: "111:42", Name: "Ada Lovelace", Time: time.Unix(1763712000, 0).UTC(),
		Content: sdk.Content{Text: "hello"},
	}
	callbackMsg = sdk.InboundMessage{Sender: "111", ID: "cq:4382bfdwdsb323b2d9", Name: "Ada Lovelace", Content: sdk.Content{Text: "Pro", Payload: "plan_pro"}}
)

func TestIncoming(t *testing.T) {
	sdktest.RunIncoming(t, New(), setup, []sdktest.IncomingCase{
		{Label: "a text message", Header: hdr, Body: textUpdate, WantMessages: []sdk.InboundMessage{textMsg}},
		{
			// Telegram delivers an update again until it gets a 2xx: the
			// same id, which the runtime stores once.
			Label: "the same update delivered again", Header: hdr, Body: textUpdate, WantMessages: []sdk.InboundMessage{textMsg},
		},
		{
			Label: "a photo with a caption: the largest size", Header: hdr, Body: photoUpdate,
			WantMessages: []sdk.InboundMessage{{
				Sender: "111", ID: "111:43", Name: "Ada", Time: time.Unix(1763712001, 0).UTC(),
				Content: sdk.Content{Text: "my receipt", Attachments: []sdk.Media{{URL: "telegram-file:AgAD-large", Kind: "image", Size: 98000}}},
			}},
		},
		{
			Label: "a document, in reply", Header: hdr, Body: documentUpdate,
			WantMessages: []sdk.InboundMessage{{
				Sender: "111", ID: "111:44", Name: "Ada", Time: time.Unix(1763712002, 0).UTC(), ReplyTo: "111:40",
				Content: sdk.Content{Attachments: []sdk.Media{{URL: "telegram-file:BQAD-doc", Kind: "file", Name: "invoice.pdf", MIME: "application/pdf", Size: 51234}}},
			}},
		},
		{
			Label: "a tapped inline button, answered in the webhook's answer", Header: hdr, Body: callbackUpdate,
			WantBody:     `{"method": "answerCallbackQuery", "callback_query_id": "4382bfdwdsb323b2d9"}`,
			WantMessages: []sdk.InboundMessage{callbackMsg},
		},
		{Label: "an edited message is ignored", Header: hdr, Body: editedUpdate},
		{Label: "a sticker is ignored", Header: hdr, Body: stickerUpdate},
		{Label: "no secret token", Body: textUpdate, WantStatus: 401},
		{
			Label:  "a wrong secret token",
			Header: map[string]string{"X-Telegram-Bot-Api-Secret-Token": "wh-secret_never-logge"}, Body: textUpdate,
			WantStatus: 403,
		},
		{Label: "not an update", Header: hdr, Body: `{"hello": "world"}`, WantStatus: 400},
		{Label: "not JSON", Header: hdr, Body: `hello`, WantStatus: 400},
		{Label: "GET", Method: "GET", Header: hdr, WantStatus: 405},
	})
}

const botPath = "/bot" + token + "/"

// result is the Bot API's answer to a send method.
func result(messageID string) string {
	return `{"ok": true, "result": {"message_id": ` + messageID + `, "date": 1763712100,
	  "from": {"id": 999, "is_bot": true, "first_name": "Bot", "username": "sb_bot"},
	  "chat": {"id": 111, "first_name": "Ada", "type": "private"}, "text": "..."}}`
}

func TestOutgoing(t *testing.T) {
	ct := map[string]string{"Content-Type": "application/json"}
	long := strings.Repeat("a", 1025)
	sdktest.RunOutgoing(t, New(), setup, []sdktest.OutgoingCase{
		{
			Label:   "text",
			Message: sdk.OutboundMessage{Recipient: "111", Content: sdk.Content{Text: "hi there"}},
			Mocks: []sdktest.Mock{{
				Path: botPath + "sendMessage", Header: ct,
				JSON: `{"chat_id": "111", "text": "hi there"}`, Response: result("50"),
			}},
			WantExternalID: "111:50",
		},
		{
			Label: "buttons as an inline keyboard",
			Message: sdk.OutboundMessage{Recipient: "111", Content: sdk.Content{Text: "Pick a plan", Buttons: []sdk.Button{
				{Title: "Basic", Payload: "plan_basic"}, {Title: "Pricing", URL: "https://example.com/pricing"}, {Title: "Help"},
			}}},
			Mocks: []sdktest.Mock{{
				Path: botPath + "sendMessage",
				JSON: `{"chat_id": "111", "text": "Pick a plan", "reply_markup": {"inline_keyboard": [
				  [{"text": "Basic", "callback_data": "plan_basic"}],
				  [{"text": "Pricing", "url": "https://example.com/pricing"}],
				  [{"text": "Help", "callback_data": "Help"}]]}}`,
				Response: result("51"),
			}},
			WantExternalID: "111:51",
		},
		{
			Label: "quick replies as a reply keyboard",
			Message: sdk.OutboundMessage{Recipient: "111", Content: sdk.Content{Text: "Happy?", QuickReplies: []sdk.Button{
				{Title: "Yes", Payload: "yes"}, {Title: "No", Payload: "no"},
			}}},
			Mocks: []sdktest.Mock{{
				Path: botPath + "sendMessage",
				JSON: `{"chat_id": "111", "text": "Happy?", "reply_markup": {"keyboard": [[{"text": "Yes"}], [{"text": "No"}]],
				  "one_time_keyboard": true, "resize_keyboard": true}}`,
				Response: result("52"),
			}},
			WantExternalID: "111:52",
		},
		{
			Label:   "an image with a caption",
			Message: sdk.OutboundMessage{Recipient: "111", Content: sdk.Content{Text: "our menu", Image: &sdk.Media{URL: "https://cdn.example/menu.jpg"}}},
			Mocks: []sdktest.Mock{{
				Path: botPath + "sendPhoto",
				JSON: `{"chat_id": "111", "photo": "https://cdn.example/menu.jpg", "caption": "our menu"}`, Response: result("53"),
			}},
			WantExternalID: "111:53",
		},
		{
			Label: "an image, then text too long for a caption with the buttons",
			Message: sdk.OutboundMessage{Recipient: "111", Content: sdk.Content{
				Text: long, Image: &sdk.Media{URL: "https://cdn.example/menu.jpg"}, Buttons: []sdk.Button{{Title: "Order", Payload: "order"}},
			}},
			Mocks: []sdktest.Mock{
				{Path: botPath + "sendPhoto", JSON: `{"chat_id": "111", "photo": "https://cdn.example/menu.jpg"}`, Response: result("54")},
				{
					Path:     botPath + "sendMessage",
					JSON:     `{"chat_id": "111", "text": "` + long + `", "reply_markup": {"inline_keyboard": [[{"text": "Order", "callback_data": "order"}]]}}`,
					Response: result("55"),
				},
			},
			WantExternalID: "111:55",
		},
		{
			Label:   "a file",
			Message: sdk.OutboundMessage{Recipient: "111", Content: sdk.Content{File: &sdk.Media{URL: "https://cdn.example/terms.pdf", Caption: "the terms"}}},
			Mocks: []sdktest.Mock{{
				Path: botPath + "sendDocument",
				JSON: `{"chat_id": "111", "document": "https://cdn.example/terms.pdf", "caption": "the terms"}`, Response: result("56"),
			}},
			WantExternalID: "111:56",
		},
		{
			Label:   "a file Telegram already has, by file_id",
			Message: sdk.OutboundMessage{Recipient: "111", Content: sdk.Content{File: &sdk.Media{URL: "telegram-file:BQAD-doc"}}},
			Mocks: []sdktest.Mock{{
				Path: botPath + "sendDocument", JSON: `{"chat_id": "111", "document": "BQAD-doc"}`, Response: result("57"),
			}},
			WantExternalID: "111:57",
		},
		{
			Label:   "rate limited",
			Message: sdk.OutboundMessage{Recipient: "111", Content: sdk.Content{Text: "hi"}},
			Mocks: []sdktest.Mock{{
				Path: botPath + "sendMessage", Status: 429,
				Response: `{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 17", "parameters": {"retry_after": 17}}`,
			}},
			WantError: "429 Too Many Requests", WantRetryable: true, WantRetryAfter: 17 * time.Second,
		},
		{
			Label:   "Telegram is down",
			Message: sdk.OutboundMessage{Recipient: "111", Content: sdk.Content{Text: "hi"}},
			Mocks: []sdktest.Mock{{
				Path: botPath + "sendMessage", Status: 502, Response: `<html><body>502 Bad Gateway</body></html>`,
			}},
			WantError: "502 Bad Gateway", WantRetryable: true,
		},
		{
			Label:   "blocked by the user",
			Message: sdk.OutboundMessage{Recipient: "111", Content: sdk.Content{Text: "hi"}},
			Mocks: []sdktest.Mock{{
				Path: botPath + "sendMessage", Status: 403,
				Response: `{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}`,
			}},
			WantError: "blocked by the user", WantRetryable: false,
		},
		{
			Label:   "an unknown chat",
			Message: sdk.OutboundMessage{Recipient: "222", Content: sdk.Content{Text: "hi"}},
			Mocks: []sdktest.Mock{{
				Path: botPath + "sendMessage", Status: 400,
				Response: `{"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}`,
			}},
			WantError: "chat not found", WantRetryable: false,
		},
		{
			Label: "a payload longer than callback_data takes",
			Message: sdk.OutboundMessage{Recipient: "111", Content: sdk.Content{Text: "x", Buttons: []sdk.Button{
				{Title: "Go", Payload: strings.Repeat("p", 65)},
			}}},
			WantError: "at most 64 bytes", WantRetryable: false,
		},
		{
			Label:     "nothing to send",
			Message:   sdk.OutboundMessage{Recipient: "111"},
			WantError: "nothing to send", WantRetryable: false,
		},
	})
}

func TestConfigure(t *testing.T) {
	p := sdktest.Start(t, New())
	m, err := p.ChannelManifest()
	caps := m.Capabilities
	if err != nil || m.Name != "telegram" || caps.MaxText != 4096 || !caps.Buttons || !caps.QuickReplies || !caps.Images || !caps.Files {
		t.Fatalf("manifest = %+v, %v", m, err)
	}
	for _, tc := range []struct{ config, field string }{
		{`{"mode": "polling"}`, "/token"},
		{`{"token": "not a token", "mode": "polling"}`, "/token"},
		{`{"token": "` + token + `", "mode": "push"}`, "/mode"},
		{`{"token": "` + token + `"}`, "/webhook_secret"},
		{`{"token": "` + token + `", "webhook_secret": "has spaces"}`, "/webhook_secret"},
		{`{"token": "` + token + `", "mode": "polling", "api_url": "api.telegram.org"}`, "/api_url"},
		{`{"token": "` + token + `", "mode": "polling", "proxy": "x"}`, ""},
	} {
		err := p.Configure("bad", json.RawMessage(tc.config))
		var se *sdk.Error
		if !errors.As(err, &se) || se.Field != tc.field {
			t.Errorf("Configure(%s) = %v, want a config error at %q", tc.config, err, tc.field)
		}
	}
	if err := p.Configure("default-api", json.RawMessage(`{"token": "`+token+`", "webhook_secret": "`+secret+`"}`)); err != nil {
		t.Errorf("defaults: %v", err)
	}

	// A polling instance refuses webhooks: it has no secret to check.
	if err := p.Configure("poller", json.RawMessage(`{"token": "`+token+`", "mode": "polling"}`)); err != nil {
		t.Fatal(err)
	}
	res, err := p.HandleWebhook("poller", &sdk.WebhookRequest{Method: "POST", Header: map[string][]string{}, Body: []byte(textUpdate)})
	if err != nil || res.Status != 403 || len(res.Messages) != 0 {
		t.Errorf("webhook to a polling instance = %+v, %v", res, err)
	}

	// The token is in every Bot API URL: a network failure must not
	// reveal it.
	if err := p.Configure("down", json.RawMessage(`{"token": "`+token+`", "mode": "polling", "api_url": "http://127.0.0.1:1"}`)); err != nil {
		t.Fatal(err)
	}
	_, err = p.Send("down", &sdk.OutboundMessage{Recipient: "111", Content: sdk.Content{Text: "x"}})
	if err == nil || !sdk.IsRetryable(err) {
		t.Errorf("send with the API down = %v, want a retryable error", err)
	}
	var texts []string
	if err != nil {
		texts = append(texts, err.Error())
	}
	_, err = p.Send("missing", &sdk.OutboundMessage{Recipient: "111", Content: sdk.Content{Text: "x"}})
	if err == nil || sdk.IsRetryable(err) {
		t.Errorf("send to an unconfigured instance = %v, want a final error", err)
	}
	p.CheckSecrets(t, []string{token, secret}, texts...)
}
