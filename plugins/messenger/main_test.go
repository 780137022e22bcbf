package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/meta"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

const (
	pageToken   = "EAAB-page-t0ken-never-logged"
	appSecret   = "app-s3cret-never-logged"
	verifyToken = "verify-t0ken-never-logged"
	pageID      = "1063503680429"
	psid        = "1254459154682919"
)

var secrets = []string{pageToken, appSecret, verifyToken}

func configJSON(graphURL, extra string) string {
	return `{"page_id": "` + pageID + `", "page_access_token": "` + pageToken + `", "app_secret": "` + appSecret +
		`", "verify_token": "` + verifyToken + `", "graph_url": "` + graphURL + `"` + extra + `}`
}

func setupWith(extra string) sdktest.Setup {
	return sdktest.Setup{Config: func(url string) string { return configJSON(url+"/v21.0", extra) }, Secrets: secrets}
}

var setup = setupWith(`, "default_tag": "HUMAN_AGENT"`)

// clock is the time the tests' plugins live at.
var clock = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func newAt() *Messenger {
	ms := New()
	ms.now = func() time.Time { return clock }
	return ms
}

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

// events wraps messaging events in a notification, as Meta sends them.
func events(evs string) string {
	return `{"object": "page", "entry": [{"id": "` + pageID + `", "time": 1458692752478, "messaging": [` + evs + `]}]}`
}

func ev(ts int64, rest string) string {
	return `{"sender": {"id": "` + psid + `"}, "recipient": {"id": "` + pageID + `"}, "timestamp": ` + strconv.FormatInt(ts, 10) + `, ` + rest + `}`
}

const ts = 1458692752478

var (
	at       = time.UnixMilli(ts).UTC()
	textBody = events(ev(ts, `"message": {"mid": "m_1457764197618:41d102a3e1ae206a38", "text": "hello, world!"}`))
	textMsg  = sdk.InboundMessage{Sender: psid, ID: "m_1457764197618:41d102a3e1ae206a38", Time: at, Content: sdk.Content{Text: "hello, world!"}}
)

func TestIncoming(t *testing.T) {
	sdktest.RunIncoming(t, newAt(), setup, signed([]sdktest.IncomingCase{
		{
			Label:  "verification handshake",
			Method: "GET", Query: "hub.mode=subscribe&hub.challenge=CHALLENGE_ACCEPTED&hub.verify_token=" + verifyToken,
			WantBody: "CHALLENGE_ACCEPTED",
		},
		{
			Label:  "verification with a wrong token",
			Method: "GET", Query: "hub.mode=subscribe&hub.challenge=CHALLENGE_ACCEPTED&hub.verify_token=nope",
			WantStatus: 403,
		},
		{Label: "a text message", Body: textBody, WantBody: "EVENT_RECEIVED", WantMessages: []sdk.InboundMessage{textMsg}},
		// The runtime handles a message once per channel and ID: a
		// redelivery gives the same ID, so it is stored once.
		{Label: "the same delivery again", Body: textBody, WantMessages: []sdk.InboundMessage{textMsg}},
		{
			Label:      "a bad signature",
			Body:       textBody,
			Header:     map[string]string{"X-Hub-Signature-256": meta.Sign([]byte(textBody), "guess")},
			WantStatus: 403,
		},
		{Label: "no signature", Body: textBody, Header: map[string]string{}, WantStatus: 403},
		{Label: "signed, not JSON", Body: `{"object":`, WantStatus: 400},
		{
			Label: "a quick reply, a reply and attachments",
			Body: events(ev(ts, `"message": {"mid": "m_2", "text": "Red", "quick_reply": {"payload": "COLOR_RED"}}`) + `,` +
				ev(ts, `"message": {"mid": "m_3", "text": "this", "reply_to": {"mid": "m_out"}}`) + `,` +
				ev(ts, `"message": {"mid": "m_4", "attachments": [{"type": "image", "payload": {"url": "https://scontent.example/a.jpg"}},
				  {"type": "file", "payload": {"url": "https://cdn.example/b.pdf"}}, {"type": "fallback", "payload": {"url": "https://x"}}]}`)),
			WantMessages: []sdk.InboundMessage{
				{Sender: psid, ID: "m_2", Time: at, Content: sdk.Content{Text: "Red", Payload: "COLOR_RED"}},
				{Sender: psid, ID: "m_3", Time: at, ReplyTo: "m_out", Content: sdk.Content{Text: "this"}},
				{Sender: psid, ID: "m_4", Time: at, Content: sdk.Content{Attachments: []sdk.Media{
					{URL: "https://scontent.example/a.jpg", Kind: "image"}, {URL: "https://cdn.example/b.pdf", Kind: "file"}}}},
			},
		},
		{
			Label: "postbacks",
			Body: events(ev(ts, `"postback": {"mid": "m_5", "title": "Start", "payload": "GET_STARTED"}`) + `,` +
				ev(ts+1, `"postback": {"title": "Buy", "payload": "BUY"}`)),
			WantMessages: []sdk.InboundMessage{
				{Sender: psid, ID: "m_5", Time: at, Content: sdk.Content{Text: "Start", Payload: "GET_STARTED"}},
				{Sender: psid, ID: "postback:" + psid + ":1458692752479", Time: at.Add(time.Millisecond), Content: sdk.Content{Text: "Buy", Payload: "BUY"}},
			},
		},
		{Label: "echoes are left out", Body: events(ev(ts, `"message": {"mid": "m_6", "is_echo": true, "text": "we said"}`))},
		{
			Label: "delivery receipts",
			Body:  events(ev(ts, `"delivery": {"mids": ["m_out1", "m_out2"], "watermark": 1458668856253}`)),
			WantStatuses: []sdk.StatusUpdate{
				{ExternalID: "m_out1", Status: sdk.StatusDelivered, Time: at},
				{ExternalID: "m_out2", Status: sdk.StatusDelivered, Time: at},
			},
		},
		{Label: "another page's traffic", Body: `{"object": "page", "entry": [{"id": "999", "messaging": [` + ev(ts, `"message": {"mid": "m_7", "text": "x"}`) + `]}]}`},
		{Label: "not a page", Body: `{"object": "instagram", "entry": [{"id": "` + pageID + `", "messaging": [` + ev(ts, `"message": {"mid": "m_8", "text": "x"}`) + `]}]}`},
	}))
}

// TestReadReceipts: Messenger's read receipts name no message, only a
// watermark; the messages sent before it are the ones read.
func TestReadReceipts(t *testing.T) {
	ms := newAt()
	sdktest.RunOutgoing(t, ms, setup, []sdktest.OutgoingCase{{
		Label:          "send",
		Message:        sdk.OutboundMessage{ID: "r1", Recipient: psid, Content: sdk.Content{Text: "hi"}},
		Mocks:          sendOK(`{"recipient": {"id": "`+psid+`"}, "messaging_type": "RESPONSE", "message": {"text": "hi"}}`, "m_read1"),
		WantExternalID: "m_read1",
	}})
	wm := func(d time.Duration) string {
		return events(ev(ts, `"read": {"watermark": `+strconv.FormatInt(clock.Add(d).UnixMilli(), 10)+`}`))
	}
	sdktest.RunIncoming(t, ms, setup, signed([]sdktest.IncomingCase{
		{Label: "a watermark before the message", Body: wm(-time.Second)},
		{Label: "a watermark after it", Body: wm(time.Second), WantStatuses: []sdk.StatusUpdate{{ExternalID: "m_read1", Status: sdk.StatusRead, Time: at}}},
		{Label: "read once", Body: wm(2 * time.Second)},
	}))
}

func sendOK(json, mid string) []sdktest.Mock {
	return []sdktest.Mock{{
		Path:     "/v21.0/" + pageID + "/messages",
		Header:   map[string]string{"Authorization": "Bearer " + pageToken, "Content-Type": "application/json"},
		JSON:     json,
		Response: `{"recipient_id": "` + psid + `", "message_id": "` + mid + `"}`,
	}}
}

func refused(status, code int, message string, header map[string]string) []sdktest.Mock {
	return []sdktest.Mock{{
		Path: "/v21.0/" + pageID + "/messages", Status: status, ResponseHeader: header,
		Response: `{"error": {"message": "` + message + `", "type": "OAuthException", "code": ` + strconv.Itoa(code) + `, "fbtrace_id": "AbCd"}}`,
	}}
}

const recipient = `"recipient": {"id": "` + psid + `"}`

func TestOutgoing(t *testing.T) {
	recent := clock.Add(-time.Hour)
	msg := func(id string, c sdk.Content) sdk.OutboundMessage {
		return sdk.OutboundMessage{ID: id, Recipient: psid, Content: c, LastInbound: recent}
	}
	buttons := func(n int) []sdk.Button {
		var bs []sdk.Button
		for i := range n {
			bs = append(bs, sdk.Button{Title: "Option " + strconv.Itoa(i+1), Payload: "o" + strconv.Itoa(i+1)})
		}
		return bs
	}
	sdktest.RunOutgoing(t, newAt(), setup, []sdktest.OutgoingCase{
		{
			Label:          "text within the window",
			Message:        msg("1", sdk.Content{Text: "hello, world!"}),
			Mocks:          sendOK(`{`+recipient+`, "messaging_type": "RESPONSE", "message": {"text": "hello, world!"}}`, "m_1"),
			WantExternalID: "m_1",
		},
		{
			Label:          "after the window: the default tag",
			Message:        sdk.OutboundMessage{ID: "2", Recipient: psid, Content: sdk.Content{Text: "An agent answers"}, LastInbound: clock.Add(-30 * time.Hour)},
			Mocks:          sendOK(`{`+recipient+`, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT", "message": {"text": "An agent answers"}}`, "m_2"),
			WantExternalID: "m_2",
		},
		{
			Label:          "a tag the message names",
			Message:        sdk.OutboundMessage{ID: "3", Recipient: psid, Content: sdk.Content{Text: "Shipped"}, Metadata: map[string]string{"tag": "POST_PURCHASE_UPDATE"}},
			Mocks:          sendOK(`{`+recipient+`, "messaging_type": "MESSAGE_TAG", "tag": "POST_PURCHASE_UPDATE", "message": {"text": "Shipped"}}`, "m_3"),
			WantExternalID: "m_3",
		},
		{
			Label:   "quick replies",
			Message: msg("4", sdk.Content{Text: "Pick a color", QuickReplies: []sdk.Button{{Title: "Red", Payload: "RED"}, {Title: "Green"}}}),
			Mocks: sendOK(`{`+recipient+`, "messaging_type": "RESPONSE", "message": {"text": "Pick a color", "quick_replies": [
			  {"content_type": "text", "title": "Red", "payload": "RED"}, {"content_type": "text", "title": "Green", "payload": "Green"}]}}`, "m_4"),
			WantExternalID: "m_4",
		},
		{
			Label:   "buttons: the button template",
			Message: msg("5", sdk.Content{Text: "What next?", Buttons: []sdk.Button{{Title: "Call me", Payload: "CALL"}, {Title: "Website", URL: "https://example.com"}}}),
			Mocks: sendOK(`{`+recipient+`, "messaging_type": "RESPONSE", "message": {"attachment": {"type": "template", "payload": {
			  "template_type": "button", "text": "What next?", "buttons": [
			    {"type": "postback", "title": "Call me", "payload": "CALL"}, {"type": "web_url", "url": "https://example.com", "title": "Website"}]}}}}`, "m_5"),
			WantExternalID: "m_5",
		},
		{
			Label:   "four buttons become quick replies",
			Message: msg("6", sdk.Content{Text: "Pick", Buttons: append(buttons(4), sdk.Button{Title: "Help", URL: "https://example.com/help"})}),
			Mocks: sendOK(`{`+recipient+`, "messaging_type": "RESPONSE", "message": {"text": "Pick\nHelp: https://example.com/help", "quick_replies": [
			  {"content_type": "text", "title": "Option 1", "payload": "o1"}, {"content_type": "text", "title": "Option 2", "payload": "o2"},
			  {"content_type": "text", "title": "Option 3", "payload": "o3"}, {"content_type": "text", "title": "Option 4", "payload": "o4"}]}}`, "m_6"),
			WantExternalID: "m_6",
		},
		{
			Label: "a gallery: the generic template",
			Message: msg("7", sdk.Content{Gallery: []sdk.Card{
				{Title: "Blue shoe", Subtitle: "42 EUR", Image: "https://example.com/blue.jpg", Buttons: []sdk.Button{{Title: "Buy", Payload: "BUY_BLUE"}}},
				{Title: "Red shoe"},
			}}),
			Mocks: sendOK(`{`+recipient+`, "messaging_type": "RESPONSE", "message": {"attachment": {"type": "template", "payload": {
			  "template_type": "generic", "elements": [
			    {"title": "Blue shoe", "subtitle": "42 EUR", "image_url": "https://example.com/blue.jpg", "buttons": [{"type": "postback", "title": "Buy", "payload": "BUY_BLUE"}]},
			    {"title": "Red shoe"}]}}}}`, "m_7"),
			WantExternalID: "m_7",
		},
		{
			Label:   "an image and text: two parts",
			Message: msg("8", sdk.Content{Text: "In blue", Image: &sdk.Media{URL: "https://example.com/blue.jpg"}, QuickReplies: []sdk.Button{{Title: "Buy", Payload: "BUY"}}}),
			Mocks: append(
				sendOK(`{`+recipient+`, "messaging_type": "RESPONSE", "message": {"attachment": {"type": "image", "payload": {"url": "https://example.com/blue.jpg", "is_reusable": true}}}}`, "m_8a"),
				sendOK(`{`+recipient+`, "messaging_type": "RESPONSE", "message": {"text": "In blue", "quick_replies": [{"content_type": "text", "title": "Buy", "payload": "BUY"}]}}`, "m_8b")...),
			WantExternalID: "m_8b",
		},
		{
			Label:   "a file, the second part failing",
			Message: msg("9", sdk.Content{Text: "Your invoice", File: &sdk.Media{URL: "https://example.com/i.pdf"}}),
			Mocks: append(
				sendOK(`{`+recipient+`, "messaging_type": "RESPONSE", "message": {"attachment": {"type": "file", "payload": {"url": "https://example.com/i.pdf", "is_reusable": true}}}}`, "m_9a"),
				refused(500, 2, "Service temporarily unavailable", nil)...),
			WantError: "part 2 of 2", WantRetryable: true,
		},
		{
			Label:          "its retry sends only the second part",
			Message:        msg("9", sdk.Content{Text: "Your invoice", File: &sdk.Media{URL: "https://example.com/i.pdf"}}),
			Mocks:          sendOK(`{`+recipient+`, "messaging_type": "RESPONSE", "message": {"text": "Your invoice"}}`, "m_9b"),
			WantExternalID: "m_9b",
		},
		{
			Label:          "a retry of a message sent in full sends nothing",
			Message:        msg("1", sdk.Content{Text: "hello, world!"}),
			WantExternalID: "m_1",
		},
		{
			Label:     "rate limited (HTTP 429)",
			Message:   msg("10", sdk.Content{Text: "hi"}),
			Mocks:     refused(429, 4, "(#4) Application request limit reached", map[string]string{"Retry-After": "120"}),
			WantError: "code 4", WantRetryable: true, WantRetryAfter: 2 * time.Minute,
		},
		{
			Label:     "page rate limit (613)",
			Message:   msg("11", sdk.Content{Text: "hi"}),
			Mocks:     refused(400, 613, "Calls to this api have exceeded the rate limit.", nil),
			WantError: "613", WantRetryable: true, WantRetryAfter: meta.DefaultRetryAfter,
		},
		{
			Label:     "server error",
			Message:   msg("12", sdk.Content{Text: "hi"}),
			Mocks:     []sdktest.Mock{{Path: "/v21.0/" + pageID + "/messages", Status: 503, Response: "Service Unavailable"}},
			WantError: "HTTP 503", WantRetryable: true,
		},
		{
			Label:     "outside the window by Messenger's clock (10)",
			Message:   msg("13", sdk.Content{Text: "hi"}),
			Mocks:     refused(400, 10, "(#10) This message is sent outside of allowed window.", nil),
			WantError: "outside of allowed window", WantRetryable: false,
		},
		{
			Label:     "user unavailable (551)",
			Message:   msg("14", sdk.Content{Text: "hi"}),
			Mocks:     refused(400, 551, "This person isn't available right now.", nil),
			WantError: "551", WantRetryable: false,
		},
		{
			Label:     "accepted without an id",
			Message:   msg("15", sdk.Content{Text: "hi"}),
			Mocks:     []sdktest.Mock{{Path: "/v21.0/" + pageID + "/messages", Response: `{"recipient_id": "1"}`}},
			WantError: "no message_id", WantRetryable: false,
		},
		{Label: "nothing to send", Message: msg("16", sdk.Content{}), WantError: "nothing Messenger can send"},
	})
}

func TestOutsideWindowWithoutTag(t *testing.T) {
	sdktest.RunOutgoing(t, newAt(), setupWith(""), []sdktest.OutgoingCase{{
		Label:     "refused before Messenger refuses it",
		Message:   sdk.OutboundMessage{Content: sdk.Content{Text: "hi"}, LastInbound: clock.Add(-25 * time.Hour)},
		WantError: "no message tag is configured", WantRetryable: false,
	}})
}

// TestMe: without a page_id the Send API is called as /me/messages.
func TestMe(t *testing.T) {
	s := sdktest.Setup{Secrets: secrets, Config: func(url string) string {
		return `{"page_access_token": "` + pageToken + `", "app_secret": "` + appSecret + `", "verify_token": "` + verifyToken + `", "graph_url": "` + url + `"}`
	}}
	sdktest.RunOutgoing(t, newAt(), s, []sdktest.OutgoingCase{{
		Label:          "text",
		Message:        sdk.OutboundMessage{Recipient: psid, Content: sdk.Content{Text: "hi"}},
		Mocks:          []sdktest.Mock{{Path: "/me/messages", JSON: `{` + recipient + `, "messaging_type": "RESPONSE", "message": {"text": "hi"}}`, Response: `{"message_id": "m_me"}`}},
		WantExternalID: "m_me",
	}})
}

func TestConfigure(t *testing.T) {
	p := sdktest.Start(t, New())
	m, err := p.ChannelManifest()
	if err != nil || m.Name != "messenger" || m.Capabilities.ReplyWindow != 24*time.Hour || !m.Capabilities.Gallery || !m.Capabilities.QuickReplies {
		t.Fatalf("manifest = %+v, %v", m, err)
	}
	for _, tc := range []struct{ config, field string }{
		{`{"app_secret": "` + appSecret + `", "verify_token": "` + verifyToken + `"}`, "/page_access_token"},
		{`{"page_access_token": "` + pageToken + `", "verify_token": "` + verifyToken + `"}`, "/app_secret"},
		{`{"page_access_token": "` + pageToken + `", "app_secret": "` + appSecret + `"}`, "/verify_token"},
		{configJSON("ftp://x", ""), "/graph_url"},
		{configJSON("https://graph.facebook.com/v21.0", `, "default_tag": "PROMOTION"`), "/default_tag"},
		{configJSON("https://graph.facebook.com/v21.0", `, "page_token": "x"`), ""},
	} {
		err := p.Configure("bad", json.RawMessage(tc.config))
		var se *sdk.Error
		if !errors.As(err, &se) || se.Field != tc.field {
			t.Errorf("Configure(%s) = %v, want a config error at %q", tc.config, err, tc.field)
		}
	}
	if _, err := p.Send("missing", &sdk.OutboundMessage{Recipient: psid, Content: sdk.Content{Text: "x"}}); err == nil || sdk.IsRetryable(err) {
		t.Errorf("send to an unconfigured instance = %v, want a final error", err)
	}
	p.CheckSecrets(t, secrets)
}
