package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/twilio"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

const (
	sid       = "AC0123456789abcdef0123456789abcdef"
	authToken = "tw-auth-t0ken-never-logged"
	hookURL   = "https://sb.example.com/hooks/bot/test"
	from      = "+15005550006"
	msgPath   = "/2010-04-01/Accounts/" + sid + "/Messages.json"
)

var setup = sdktest.Setup{
	Config: func(api string) string {
		return `{"account_sid": "` + sid + `", "auth_token": "` + authToken + `", "from": "` + from +
			`", "webhook_url": "` + hookURL + `", "api_url": "` + api + `"}`
	},
	Secrets: []string{authToken},
}

// form is a request body as Twilio sends it, and signed is its
// X-Twilio-Signature for the configured webhook URL.
func form(kv ...string) url.Values {
	f := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

func signed(f url.Values) map[string]string {
	return map[string]string{
		"Content-Type":       "application/x-www-form-urlencoded",
		"X-Twilio-Signature": twilio.Signature(authToken, hookURL, f),
	}
}

// sms is an incoming SMS webhook with Twilio's documented parameters.
var sms = form(
	"ToCountry", "US", "ToState", "CA", "SmsMessageSid", "SM1f0e8ae6ade43cb3c0ce4525424e404f",
	"NumMedia", "0", "ToCity", "", "FromZip", "94107", "SmsSid", "SM1f0e8ae6ade43cb3c0ce4525424e404f",
	"FromState", "CA", "SmsStatus", "received", "FromCity", "SAN FRANCISCO", "Body", "Hello & bye",
	"FromCountry", "US", "To", from, "ToZip", "", "NumSegments", "1",
	"MessageSid", "SM1f0e8ae6ade43cb3c0ce4525424e404f", "AccountSid", sid,
	"From", "+14155552671", "ApiVersion", "2010-04-01",
)

var mms = form(
	"MessageSid", "MM800f449d0399ed014aae2bcc0cc2f2ec", "AccountSid", sid, "From", "+14155552671", "To", from,
	"Body", "look", "NumMedia", "2",
	"MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/"+sid+"/Messages/MM800f449d0399ed014aae2bcc0cc2f2ec/Media/ME1",
	"MediaContentType0", "image/jpeg",
	"MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/"+sid+"/Messages/MM800f449d0399ed014aae2bcc0cc2f2ec/Media/ME2",
	"MediaContentType1", "application/pdf",
)

func status(st string, kv ...string) url.Values {
	f := form(append([]string{"MessageSid", "SM9a8b7c", "MessageStatus", st, "SmsStatus", st, "AccountSid", sid, "From", from, "To", "+14155552671", "ApiVersion", "2010-04-01"}, kv...)...)
	return f
}

const twiml = `<?xml version="1.0" encoding="UTF-8"?><Response/>`

func TestIncoming(t *testing.T) {
	smsMsg := sdk.InboundMessage{Sender: "+14155552671", ID: "SM1f0e8ae6ade43cb3c0ce4525424e404f", Content: sdk.Content{Text: "Hello & bye"}}
	tampered := form()
	for k, v := range sms {
		tampered[k] = v
	}
	tampered.Set("Body", "Hello & pay me")
	otherURL := map[string]string{"X-Twilio-Signature": twilio.Signature(authToken, "https://evil.example/hooks/bot/test", sms)}
	otherToken := map[string]string{"X-Twilio-Signature": twilio.Signature("another-token", hookURL, sms)}
	withQuery := form("MessageSid", "SMq1", "From", "+14155552671", "Body", "hi")
	sdktest.RunIncoming(t, New(), setup, []sdktest.IncomingCase{
		{
			Label: "an SMS", Header: signed(sms), Body: sms.Encode(),
			WantBody: twiml, WantMessages: []sdk.InboundMessage{smsMsg},
		},
		{
			// Twilio delivers again when it got no answer in time: the
			// same MessageSid, which the runtime stores once.
			Label: "the same SMS delivered again", Header: signed(sms), Body: sms.Encode(),
			WantBody: twiml, WantMessages: []sdk.InboundMessage{smsMsg},
		},
		{
			Label: "an MMS with an image and a PDF", Header: signed(mms), Body: mms.Encode(),
			WantBody: twiml,
			WantMessages: []sdk.InboundMessage{{Sender: "+14155552671", ID: "MM800f449d0399ed014aae2bcc0cc2f2ec", Content: sdk.Content{
				Text: "look",
				Attachments: []sdk.Media{
					{URL: mms.Get("MediaUrl0"), Kind: "image", MIME: "image/jpeg"},
					{URL: mms.Get("MediaUrl1"), Kind: "file", MIME: "application/pdf"},
				},
			}}},
		},
		{
			Label: "a webhook URL with a query string", Query: "src=tw",
			Header: map[string]string{"X-Twilio-Signature": twilio.Signature(authToken, hookURL+"?src=tw", withQuery)},
			Body:   withQuery.Encode(), WantBody: twiml,
			WantMessages: []sdk.InboundMessage{{Sender: "+14155552671", ID: "SMq1", Content: sdk.Content{Text: "hi"}}},
		},
		{Label: "no signature", Body: sms.Encode(), WantStatus: 403},
		{Label: "a tampered body", Header: signed(sms), Body: tampered.Encode(), WantStatus: 403},
		{Label: "signed for another URL", Header: otherURL, Body: sms.Encode(), WantStatus: 403},
		{Label: "signed with another token", Header: otherToken, Body: sms.Encode(), WantStatus: 403},
		{Label: "a query the signature did not cover", Query: "x=1", Header: signed(sms), Body: sms.Encode(), WantStatus: 403},
		{
			Label: "delivered", Header: signed(status("delivered")), Body: status("delivered").Encode(), WantBody: twiml,
			WantStatuses: []sdk.StatusUpdate{{ExternalID: "SM9a8b7c", Status: sdk.StatusDelivered}},
		},
		{
			Label: "sent", Header: signed(status("sent")), Body: status("sent").Encode(),
			WantStatuses: []sdk.StatusUpdate{{ExternalID: "SM9a8b7c", Status: sdk.StatusSent}},
		},
		{
			Label:  "undelivered",
			Header: signed(status("undelivered", "ErrorCode", "30003")), Body: status("undelivered", "ErrorCode", "30003").Encode(),
			WantStatuses: []sdk.StatusUpdate{{ExternalID: "SM9a8b7c", Status: sdk.StatusFailed, Error: "twilio undelivered, error 30003"}},
		},
		{
			Label: "failed", Header: signed(status("failed", "ErrorCode", "30008")), Body: status("failed", "ErrorCode", "30008").Encode(),
			WantStatuses: []sdk.StatusUpdate{{ExternalID: "SM9a8b7c", Status: sdk.StatusFailed, Error: "twilio failed, error 30008"}},
		},
		{Label: "queued says nothing yet", Header: signed(status("queued")), Body: status("queued").Encode(), WantBody: twiml},
		{Label: "a status callback with a bad signature", Header: signed(status("sent")), Body: status("delivered").Encode(), WantStatus: 403},
		{Label: "no sender", Header: signed(form("Body", "x")), Body: form("Body", "x").Encode(), WantStatus: 400},
		{Label: "GET", Method: "GET", WantStatus: 405},
	})
}

var basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(sid+":"+authToken))

// created is Twilio's answer to a new message (201, trimmed).
const created = `{"account_sid": "` + sid + `", "api_version": "2010-04-01", "body": "hi", "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
 "direction": "outbound-api", "error_code": null, "error_message": null, "from": "` + from + `", "num_media": "0", "num_segments": "1",
 "price": null, "sid": "SM1234567890abcdef1234567890abcdef", "status": "queued", "to": "+14155552671",
 "uri": "/2010-04-01/Accounts/` + sid + `/Messages/SM1234567890abcdef1234567890abcdef.json"}`

func sent(f url.Values) string { return f.Encode() }

func TestOutgoing(t *testing.T) {
	hdr := map[string]string{"Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"}
	sdktest.RunOutgoing(t, New(), setup, []sdktest.OutgoingCase{
		{
			Label:   "text",
			Message: sdk.OutboundMessage{Recipient: "+14155552671", Content: sdk.Content{Text: "hi\n1. Yes\n2. No"}},
			Mocks: []sdktest.Mock{{
				Path: msgPath, Header: hdr,
				Body:   sent(form("To", "+14155552671", "From", from, "Body", "hi\n1. Yes\n2. No", "StatusCallback", hookURL)),
				Status: 201, Response: created,
			}},
			WantExternalID: "SM1234567890abcdef1234567890abcdef",
		},
		{
			Label: "an image as MMS",
			Message: sdk.OutboundMessage{Recipient: "+14155552671", Content: sdk.Content{
				Text: "our menu", Image: &sdk.Media{URL: "https://cdn.example/menu.jpg"},
			}},
			Mocks: []sdktest.Mock{{
				Path: msgPath, Header: hdr,
				Body:   sent(form("To", "+14155552671", "From", from, "Body", "our menu", "MediaUrl", "https://cdn.example/menu.jpg", "StatusCallback", hookURL)),
				Status: 201, Response: created,
			}},
			WantExternalID: "SM1234567890abcdef1234567890abcdef",
		},
		{
			Label:   "rate limited",
			Message: sdk.OutboundMessage{Content: sdk.Content{Text: "hi"}},
			Mocks: []sdktest.Mock{{
				Path: msgPath, Status: 429, ResponseHeader: map[string]string{"Retry-After": "7"},
				Response: `{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}`,
			}},
			WantError: "code 20429", WantRetryable: true, WantRetryAfter: 7 * time.Second,
		},
		{
			Label:     "Twilio is down",
			Message:   sdk.OutboundMessage{Content: sdk.Content{Text: "hi"}},
			Mocks:     []sdktest.Mock{{Path: msgPath, Status: 503, Response: `{"code": 20503, "message": "Service Unavailable", "status": 503}`}},
			WantError: "twilio error 503", WantRetryable: true,
		},
		{
			Label:   "an invalid number",
			Message: sdk.OutboundMessage{Recipient: "+1555", Content: sdk.Content{Text: "hi"}},
			Mocks: []sdktest.Mock{{
				Path: msgPath, Status: 400,
				Response: `{"code": 21211, "message": "The 'To' number +1555 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`,
			}},
			WantError: "code 21211", WantRetryable: false,
		},
		{
			Label:   "bad credentials",
			Message: sdk.OutboundMessage{Content: sdk.Content{Text: "hi"}},
			Mocks: []sdktest.Mock{{
				Path: msgPath, Status: 401,
				Response: `{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`,
			}},
			WantError: "code 20003", WantRetryable: false,
		},
		{
			Label:     "nothing to send",
			Message:   sdk.OutboundMessage{Content: sdk.Content{}},
			WantError: "nothing to send", WantRetryable: false,
		},
	})
}

// TestMessagingService: a from of MG… is sent as MessagingServiceSid.
func TestMessagingService(t *testing.T) {
	const mg = "MG0123456789abcdef0123456789abcdef"
	s := sdktest.Setup{
		Config: func(api string) string {
			return `{"account_sid": "` + sid + `", "auth_token": "` + authToken + `", "from": "` + mg +
				`", "webhook_url": "` + hookURL + `", "api_url": "` + api + `"}`
		},
		Secrets: []string{authToken},
	}
	sdktest.RunOutgoing(t, New(), s, []sdktest.OutgoingCase{{
		Label:   "text",
		Message: sdk.OutboundMessage{Recipient: "+14155552671", Content: sdk.Content{Text: "hi"}},
		Mocks: []sdktest.Mock{{
			Path:   msgPath,
			Body:   sent(form("To", "+14155552671", "MessagingServiceSid", mg, "Body", "hi", "StatusCallback", hookURL)),
			Status: 201, Response: created,
		}},
		WantExternalID: "SM1234567890abcdef1234567890abcdef",
	}})
}

func TestConfigure(t *testing.T) {
	p := sdktest.Start(t, New())
	m, err := p.ChannelManifest()
	if err != nil || m.Name != "twilio-sms" || m.Capabilities.Buttons || !m.Capabilities.Images || m.Capabilities.MaxText != 1600 {
		t.Fatalf("manifest = %+v, %v", m, err)
	}
	if len(m.Secrets) != 1 || m.Secrets[0] != "/auth_token" {
		t.Errorf("secrets = %v", m.Secrets)
	}
	good := `"account_sid": "` + sid + `", "auth_token": "` + authToken + `", "from": "` + from + `"`
	for _, tc := range []struct{ config, field string }{
		{`{` + good + `}`, "/webhook_url"},
		{`{` + good + `, "webhook_url": "/hooks/bot/sms"}`, "/webhook_url"},
		{`{"account_sid": "x", "auth_token": "` + authToken + `", "from": "` + from + `", "webhook_url": "` + hookURL + `"}`, "/account_sid"},
		{`{"account_sid": "` + sid + `", "from": "` + from + `", "webhook_url": "` + hookURL + `"}`, "/auth_token"},
		{`{"account_sid": "` + sid + `", "auth_token": "` + authToken + `", "webhook_url": "` + hookURL + `"}`, "/from"},
		{`{` + good + `, "webhook_url": "` + hookURL + `", "api_url": "ftp://x"}`, "/api_url"},
		{`{` + good + `, "webhook_url": "` + hookURL + `", "sender": "x"}`, ""},
	} {
		err := p.Configure("bad", json.RawMessage(tc.config))
		var se *sdk.Error
		if !errors.As(err, &se) || se.Field != tc.field {
			t.Errorf("Configure(%s) = %v, want a config error at %q", tc.config, err, tc.field)
		}
	}
	_, err = p.Send("missing", &sdk.OutboundMessage{Recipient: "+1", Content: sdk.Content{Text: "x"}})
	if err == nil || sdk.IsRetryable(err) {
		t.Errorf("send to an unconfigured instance = %v, want a final error", err)
	}
	p.CheckSecrets(t, []string{authToken})
}
