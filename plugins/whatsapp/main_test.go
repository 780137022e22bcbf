package main

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/meta"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

const (
	accessToken = "EAAG-access-t0ken-never-logged"
	appSecret   = "app-s3cret-never-logged"
	verifyToken = "verify-t0ken-never-logged"
	phoneID     = "106540352242922"
)

var secrets = []string{accessToken, appSecret, verifyToken}

func configJSON(graphURL, extra string) string {
	return `{"phone_number_id": "` + phoneID + `", "access_token": "` + accessToken + `", "app_secret": "` + appSecret +
		`", "verify_token": "` + verifyToken + `", "graph_url": "` + graphURL + `"` + extra + `}`
}

// setupWith points the Graph API at the fake provider.
func setupWith(extra string) sdktest.Setup {
	return sdktest.Setup{Config: func(url string) string { return configJSON(url+"/v21.0", extra) }, Secrets: secrets}
}

var setup = setupWith(`, "default_template": {"name": "new_message", "language": "en_US", "text_param": true}`)

// incoming: webhooks make no provider requests; media URLs name the
// configured Graph API.
var incoming = sdktest.Setup{Config: func(string) string { return configJSON(graph, "") }, Secrets: secrets}

const graph = "https://graph.facebook.com/v21.0"

// signed signs each POST case's body as Meta does, unless the case sets
// its own headers.
func signed(cases []sdktest.IncomingCase) []sdktest.IncomingCase {
	for i, c := range cases {
		if c.Header == nil && (c.Method == "" || c.Method == "POST") {
			cases[i].Header = map[string]string{"X-Hub-Signature-256": meta.Sign([]byte(c.Body), appSecret)}
		}
	}
	return cases
}

// change wraps a change value in a notification, as Meta sends it.
func change(v string) string {
	return `{"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
	  "messaging_product": "whatsapp",
	  "metadata": {"display_phone_number": "15550783881", "phone_number_id": "` + phoneID + `"}, ` + v + `}}]}]}`
}

const contact = `"contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}]`

var (
	textBody = change(contact + `, "messages": [{"from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
	  "timestamp": "1749416383", "type": "text", "text": {"body": "Does it come in another color?"}}]`)
	textMessage = sdk.InboundMessage{
		Sender: "16505551234", ID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", Name: "Sheena Nelson",
		Content: sdk.Content{Text: "Does it come in another color?"}, Time: time.Unix(1749416383, 0).UTC(),
	}
	at = time.Unix(1749416383, 0).UTC()
)

func TestIncoming(t *testing.T) {
	sdktest.RunIncoming(t, New(), incoming, signed([]sdktest.IncomingCase{
		{
			Label:  "verification handshake",
			Method: "GET", Query: "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + verifyToken,
			WantBody: "1158201444",
		},
		{
			Label:  "verification with a wrong token",
			Method: "GET", Query: "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess",
			WantStatus: 403,
		},
		{
			Label:  "verification without subscribe",
			Method: "GET", Query: "hub.challenge=1158201444&hub.verify_token=" + verifyToken,
			WantStatus: 403,
		},
		{Label: "a text message", Body: textBody, WantBody: "ok", WantMessages: []sdk.InboundMessage{textMessage}},
		// The runtime handles a message once per channel and ID: a
		// redelivery gives the same ID, so it is stored once.
		{Label: "the same delivery again", Body: textBody, WantMessages: []sdk.InboundMessage{textMessage}},
		{
			Label: "the same message twice in one delivery",
			Body: change(`"messages": [
			  {"from": "16505551234", "id": "wamid.1", "timestamp": "1749416383", "type": "text", "text": {"body": "hi"}},
			  {"from": "16505551234", "id": "wamid.1", "timestamp": "1749416383", "type": "text", "text": {"body": "hi"}}]`),
			WantMessages: []sdk.InboundMessage{{Sender: "16505551234", ID: "wamid.1", Time: at, Content: sdk.Content{Text: "hi"}}},
		},
		{
			Label:      "a bad signature",
			Body:       textBody,
			Header:     map[string]string{"X-Hub-Signature-256": meta.Sign([]byte(textBody), "not-the-app-secret")},
			WantStatus: 403,
		},
		{Label: "no signature", Body: textBody, Header: map[string]string{}, WantStatus: 403},
		{
			Label:      "a signature of another body",
			Body:       textBody,
			Header:     map[string]string{"X-Hub-Signature-256": meta.Sign([]byte(change(`"messages": []`)), appSecret)},
			WantStatus: 403,
		},
		{Label: "signed, not JSON", Body: `hello`, WantStatus: 400},
		{Label: "PUT", Method: "PUT", Body: textBody, WantStatus: 405},
		{
			Label: "a reply button and a list row",
			Body: change(contact + `, "messages": [
			  {"from": "16505551234", "id": "wamid.2", "timestamp": "1749416383", "type": "interactive", "context": {"from": "15550783881", "id": "wamid.out1"},
			   "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes please"}}},
			  {"from": "16505551234", "id": "wamid.3", "timestamp": "1749416383", "type": "interactive",
			   "interactive": {"type": "list_reply", "list_reply": {"id": "size-m", "title": "Medium", "description": "M"}}},
			  {"from": "16505551234", "id": "wamid.4", "timestamp": "1749416383", "type": "button",
			   "button": {"payload": "stop", "text": "Stop promotions"}}]`),
			WantMessages: []sdk.InboundMessage{
				{Sender: "16505551234", ID: "wamid.2", Name: "Sheena Nelson", Time: at, ReplyTo: "wamid.out1", Content: sdk.Content{Text: "Yes please", Payload: "yes"}},
				{Sender: "16505551234", ID: "wamid.3", Name: "Sheena Nelson", Time: at, Content: sdk.Content{Text: "Medium", Payload: "size-m"}},
				{Sender: "16505551234", ID: "wamid.4", Name: "Sheena Nelson", Time: at, Content: sdk.Content{Text: "Stop promotions", Payload: "stop"}},
			},
		},
		{
			Label: "an image and a document",
			Body: change(`"messages": [
			  {"from": "16505551234", "id": "wamid.5", "timestamp": "1749416383", "type": "image",
			   "image": {"caption": "the stain", "mime_type": "image/jpeg", "sha256": "abc", "id": "1003383421387256"}},
			  {"from": "16505551234", "id": "wamid.6", "timestamp": "1749416383", "type": "document",
			   "document": {"filename": "invoice.pdf", "mime_type": "application/pdf", "sha256": "def", "id": "2003383421387256"}}]`),
			WantMessages: []sdk.InboundMessage{
				{Sender: "16505551234", ID: "wamid.5", Time: at, Content: sdk.Content{Text: "the stain", Attachments: []sdk.Media{
					{URL: graph + "/1003383421387256", Kind: "image", MIME: "image/jpeg"}}}},
				{Sender: "16505551234", ID: "wamid.6", Time: at, Content: sdk.Content{Attachments: []sdk.Media{
					{URL: graph + "/2003383421387256", Kind: "file", Name: "invoice.pdf", MIME: "application/pdf"}}}},
			},
		},
		{
			Label: "unsupported messages are left out",
			Body: change(`"messages": [{"from": "16505551234", "id": "wamid.7", "timestamp": "1749416383", "type": "location",
			  "location": {"latitude": 1, "longitude": 2}}]`),
		},
		{
			Label: "delivery receipts",
			Body: change(`"statuses": [
			  {"id": "wamid.out1", "status": "sent", "timestamp": "1749416383", "recipient_id": "16505551234"},
			  {"id": "wamid.out1", "status": "delivered", "timestamp": "1749416383", "recipient_id": "16505551234"},
			  {"id": "wamid.out1", "status": "read", "timestamp": "1749416383", "recipient_id": "16505551234"},
			  {"id": "wamid.out2", "status": "failed", "timestamp": "1749416383", "recipient_id": "16505551234",
			   "errors": [{"code": 131026, "title": "Message undeliverable", "error_data": {"details": "not on WhatsApp"}}]},
			  {"id": "wamid.out3", "status": "deleted", "timestamp": "1749416383"}]`),
			WantStatuses: []sdk.StatusUpdate{
				{ExternalID: "wamid.out1", Status: sdk.StatusSent, Time: at},
				{ExternalID: "wamid.out1", Status: sdk.StatusDelivered, Time: at},
				{ExternalID: "wamid.out1", Status: sdk.StatusRead, Time: at},
				{ExternalID: "wamid.out2", Status: sdk.StatusFailed, Time: at, Error: "131026 Message undeliverable: not on WhatsApp"},
			},
		},
		{
			Label: "another phone number's traffic",
			Body: `{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
			  "metadata": {"phone_number_id": "999"}, "messages": [{"from": "1", "id": "wamid.8", "type": "text", "text": {"body": "x"}}]}}]}]}`,
		},
	}))
}

func send(json string) []sdktest.Mock {
	return []sdktest.Mock{{
		Path:     "/v21.0/" + phoneID + "/messages",
		Header:   map[string]string{"Authorization": "Bearer " + accessToken, "Content-Type": "application/json"},
		JSON:     json,
		Response: `{"messaging_product": "whatsapp", "contacts": [{"input": "16505551234", "wa_id": "16505551234"}], "messages": [{"id": "wamid.sent"}]}`,
	}}
}

// refused answers with a Graph API error.
func refused(status, code int, message string, header map[string]string) []sdktest.Mock {
	return []sdktest.Mock{{
		Path: "/v21.0/" + phoneID + "/messages", Status: status, ResponseHeader: header,
		Response: `{"error": {"message": "` + message + `", "type": "OAuthException", "code": ` + itoa(code) +
			`, "error_data": {"messaging_product": "whatsapp", "details": "details"}, "fbtrace_id": "Az8or2yhqkZfEZ"}}`,
	}}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

const to = `"messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234"`

var hi = sdk.OutboundMessage{Recipient: "16505551234", Content: sdk.Content{Text: "hi"}}

func TestOutgoing(t *testing.T) {
	buttons := func(n int) []sdk.Button {
		var bs []sdk.Button
		for i := range n {
			bs = append(bs, sdk.Button{Title: "Option " + itoa(i+1), Payload: "o" + itoa(i+1)})
		}
		return bs
	}
	recent := time.Now().Add(-time.Hour)
	sdktest.RunOutgoing(t, New(), setup, []sdktest.OutgoingCase{
		{
			Label:          "text",
			Message:        sdk.OutboundMessage{Recipient: "16505551234", Content: sdk.Content{Text: "Yes, in blue."}, LastInbound: recent},
			Mocks:          send(`{` + to + `, "type": "text", "text": {"body": "Yes, in blue.", "preview_url": false}}`),
			WantExternalID: "wamid.sent",
		},
		{
			Label:          "a reply to a message",
			Message:        sdk.OutboundMessage{Recipient: "16505551234", ReplyTo: "wamid.in", Content: sdk.Content{Text: "this one"}},
			Mocks:          send(`{` + to + `, "context": {"message_id": "wamid.in"}, "type": "text", "text": {"body": "this one", "preview_url": false}}`),
			WantExternalID: "wamid.sent",
		},
		{
			Label: "reply buttons",
			Message: sdk.OutboundMessage{Recipient: "16505551234", Content: sdk.Content{Text: "Which size?",
				Buttons: []sdk.Button{{Title: "Small", Payload: "s"}, {Title: "A very long title for a button"}}, QuickReplies: []sdk.Button{{Title: "Cancel", Payload: "c"}}}},
			Mocks: send(`{` + to + `, "type": "interactive", "interactive": {"type": "button", "body": {"text": "Which size?"},
			  "action": {"buttons": [{"type": "reply", "reply": {"id": "s", "title": "Small"}},
			    {"type": "reply", "reply": {"id": "A very long title for a button", "title": "A very long title f…"}},
			    {"type": "reply", "reply": {"id": "c", "title": "Cancel"}}]}}}`),
			WantExternalID: "wamid.sent",
		},
		{
			Label: "buttons under an image",
			Message: sdk.OutboundMessage{Recipient: "16505551234", Content: sdk.Content{
				Image: &sdk.Media{URL: "https://example.com/shoe.jpg"}, Buttons: buttons(1)}},
			Mocks: send(`{` + to + `, "type": "interactive", "interactive": {"type": "button", "body": {"text": "Please choose:"},
			  "header": {"type": "image", "image": {"link": "https://example.com/shoe.jpg"}},
			  "action": {"buttons": [{"type": "reply", "reply": {"id": "o1", "title": "Option 1"}}]}}}`),
			WantExternalID: "wamid.sent",
		},
		{
			Label:   "four buttons make a list",
			Message: sdk.OutboundMessage{Recipient: "16505551234", Content: sdk.Content{Text: "Pick one", Buttons: buttons(4)}},
			Mocks: send(`{` + to + `, "type": "interactive", "interactive": {"type": "list", "body": {"text": "Pick one"},
			  "action": {"button": "Choose", "sections": [{"rows": [{"id": "o1", "title": "Option 1"}, {"id": "o2", "title": "Option 2"},
			    {"id": "o3", "title": "Option 3"}, {"id": "o4", "title": "Option 4"}]}]}}}`),
			WantExternalID: "wamid.sent",
		},
		{
			Label:          "more options than a list holds become numbered text",
			Message:        sdk.OutboundMessage{Recipient: "16505551234", Content: sdk.Content{Text: "Pick", Buttons: buttons(11)}},
			Mocks:          send(`{` + to + `, "type": "text", "text": {"preview_url": false, "body": "Pick\n1) Option 1\n2) Option 2\n3) Option 3\n4) Option 4\n5) Option 5\n6) Option 6\n7) Option 7\n8) Option 8\n9) Option 9\n10) Option 10\n11) Option 11"}}`),
			WantExternalID: "wamid.sent",
		},
		{
			Label:          "a URL button becomes a line of text",
			Message:        sdk.OutboundMessage{Recipient: "16505551234", Content: sdk.Content{Text: "Our shop:", Buttons: []sdk.Button{{Title: "Shop", URL: "https://example.com"}}}},
			Mocks:          send(`{` + to + `, "type": "text", "text": {"body": "Our shop:\nShop: https://example.com", "preview_url": false}}`),
			WantExternalID: "wamid.sent",
		},
		{
			Label:          "an image with a caption",
			Message:        sdk.OutboundMessage{Recipient: "16505551234", Content: sdk.Content{Text: "In blue", Image: &sdk.Media{URL: "https://example.com/blue.jpg"}}},
			Mocks:          send(`{` + to + `, "type": "image", "image": {"link": "https://example.com/blue.jpg", "caption": "In blue"}}`),
			WantExternalID: "wamid.sent",
		},
		{
			Label:          "a document",
			Message:        sdk.OutboundMessage{Recipient: "16505551234", Content: sdk.Content{File: &sdk.Media{URL: "https://example.com/i.pdf", Name: "invoice.pdf"}}},
			Mocks:          send(`{` + to + `, "type": "document", "document": {"link": "https://example.com/i.pdf", "filename": "invoice.pdf"}}`),
			WantExternalID: "wamid.sent",
		},
		{
			Label: "outside the window: the default template, with the text as {{1}}",
			Message: sdk.OutboundMessage{Recipient: "16505551234", Content: sdk.Content{Text: "Your order shipped"},
				LastInbound: time.Now().Add(-25 * time.Hour)},
			Mocks: send(`{` + to + `, "type": "template", "template": {"name": "new_message", "language": {"code": "en_US"},
			  "components": [{"type": "body", "parameters": [{"type": "text", "text": "Your order shipped"}]}]}}`),
			WantExternalID: "wamid.sent",
		},
		{
			Label: "a template the message names",
			Message: sdk.OutboundMessage{Recipient: "16505551234", Content: sdk.Content{Text: "ignored"},
				Metadata: map[string]string{"template": "order_update", "template_language": "de", "template_params": `["Ada", "42"]`}},
			Mocks: send(`{` + to + `, "type": "template", "template": {"name": "order_update", "language": {"code": "de"},
			  "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "42"}]}]}}`),
			WantExternalID: "wamid.sent",
		},
		{
			Label:     "bad template parameters",
			Message:   sdk.OutboundMessage{Recipient: "16505551234", Metadata: map[string]string{"template": "x", "template_params": `Ada`}},
			WantError: "template_params must be a JSON array",
		},
		{
			Label:     "rate limited (HTTP 429)",
			Message:   hi,
			Mocks:     refused(429, 4, "(#4) Application request limit reached", map[string]string{"Retry-After": "30"}),
			WantError: "code 4", WantRetryable: true, WantRetryAfter: 30 * time.Second,
		},
		{
			Label:     "throughput limit (130429)",
			Message:   hi,
			Mocks:     refused(400, 130429, "(#130429) Rate limit hit", nil),
			WantError: "Rate limit hit", WantRetryable: true, WantRetryAfter: meta.DefaultRetryAfter,
		},
		{
			Label:     "account rate limit (80007)",
			Message:   hi,
			Mocks:     refused(400, 80007, "(#80007) Rate limit issues", nil),
			WantError: "80007", WantRetryable: true, WantRetryAfter: meta.DefaultRetryAfter,
		},
		{
			Label:     "server error",
			Message:   hi,
			Mocks:     refused(500, 1, "An unknown error occurred", nil),
			WantError: "HTTP 500", WantRetryable: true,
		},
		{
			Label:     "outside the window by WhatsApp's clock (131047)",
			Message:   hi,
			Mocks:     refused(400, 131047, "(#131047) Re-engagement message", nil),
			WantError: "131047", WantRetryable: false,
		},
		{
			Label:     "undeliverable (131026)",
			Message:   hi,
			Mocks:     refused(400, 131026, "(#131026) Message Undeliverable", nil),
			WantError: "131026", WantRetryable: false,
		},
		{
			Label:     "invalid recipient (100)",
			Message:   sdk.OutboundMessage{Recipient: "not-a-number", Content: sdk.Content{Text: "hi"}},
			Mocks:     refused(400, 100, "(#100) Invalid parameter", nil),
			WantError: "Invalid parameter", WantRetryable: false,
		},
		{
			Label:     "accepted without an id",
			Message:   hi,
			Mocks:     []sdktest.Mock{{Path: "/v21.0/" + phoneID + "/messages", Response: `{}`}},
			WantError: "no message id", WantRetryable: false,
		},
		{Label: "nothing to send", Message: sdk.OutboundMessage{}, WantError: "nothing WhatsApp can send"},
	})
}

func TestOutsideWindowWithoutTemplate(t *testing.T) {
	sdktest.RunOutgoing(t, New(), setupWith(""), []sdktest.OutgoingCase{
		{
			Label:     "refused before WhatsApp refuses it",
			Message:   sdk.OutboundMessage{Content: sdk.Content{Text: "hi"}, LastInbound: time.Now().Add(-48 * time.Hour)},
			WantError: "no template is configured", WantRetryable: false,
		},
		{
			Label:          "a last message unknown: sent as it is",
			Message:        sdk.OutboundMessage{Recipient: "16505551234", Content: sdk.Content{Text: "hi"}},
			Mocks:          send(`{` + to + `, "type": "text", "text": {"body": "hi", "preview_url": false}}`),
			WantExternalID: "wamid.sent",
		},
		{
			Label:     "a named template needs a language",
			Message:   sdk.OutboundMessage{Metadata: map[string]string{"template": "x"}},
			WantError: "template_language is required",
		},
	})
}

func TestConfigure(t *testing.T) {
	p := sdktest.Start(t, New())
	m, err := p.ChannelManifest()
	if err != nil || m.Name != "whatsapp" || !m.Capabilities.Templates || m.Capabilities.ReplyWindow != 24*time.Hour || !m.Capabilities.Buttons {
		t.Fatalf("manifest = %+v, %v", m, err)
	}
	if len(m.Secrets) != 3 {
		t.Errorf("secrets = %v", m.Secrets)
	}
	for _, tc := range []struct{ config, field string }{
		{`{"access_token": "` + accessToken + `", "app_secret": "` + appSecret + `", "verify_token": "` + verifyToken + `"}`, "/phone_number_id"},
		{`{"phone_number_id": "1", "app_secret": "` + appSecret + `", "verify_token": "` + verifyToken + `"}`, "/access_token"},
		{`{"phone_number_id": "1", "access_token": "` + accessToken + `", "verify_token": "` + verifyToken + `"}`, "/app_secret"},
		{`{"phone_number_id": "1", "access_token": "` + accessToken + `", "app_secret": "` + appSecret + `"}`, "/verify_token"},
		{`{"phone_number_id": "1", "access_token": "` + accessToken + `", "app_secret": "` + appSecret + `", "verify_token": "x", "graph_url": "ftp://x"}`, "/graph_url"},
		{`{"phone_number_id": "1", "access_token": "` + accessToken + `", "app_secret": "` + appSecret + `", "verify_token": "x", "default_template": {"name": "x"}}`, "/default_template"},
		{`{"phone_number_id": "1", "access_token": "` + accessToken + `", "app_secret": "` + appSecret + `", "verify_token": "x", "extra": 1}`, ""},
	} {
		err := p.Configure("bad", json.RawMessage(tc.config))
		var se *sdk.Error
		if !errors.As(err, &se) || se.Field != tc.field {
			t.Errorf("Configure(%s) = %v, want a config error at %q", tc.config, err, tc.field)
		}
	}
	if _, err := p.Send("missing", &hi); err == nil || sdk.IsRetryable(err) {
		t.Errorf("send to an unconfigured instance = %v, want a final error", err)
	}
	p.CheckSecrets(t, secrets)
}
