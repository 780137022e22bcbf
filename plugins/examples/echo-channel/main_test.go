package main

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

const token = "s3cr3t-t0ken-never-logged"

var setup = sdktest.Setup{
	Config:  func(url string) string { return `{"url": "` + url + `", "token": "` + token + `"}` },
	Secrets: []string{token},
}

func TestIncoming(t *testing.T) {
	sdktest.RunIncoming(t, New(), setup, []sdktest.IncomingCase{
		{
			Label:        "a message",
			Body:         `{"id": "m1", "from": "alice", "text": "hello"}`,
			WantBody:     `{"ok": true}`,
			WantMessages: []sdk.InboundMessage{{Sender: "alice", ID: "m1", Content: sdk.Content{Text: "hello"}}},
		},
		{
			Label:        "an image: a file id, no URL",
			Body:         `{"id": "m2", "from": "alice", "image": "f-42"}`,
			WantMessages: []sdk.InboundMessage{{Sender: "alice", ID: "m2", Content: sdk.Content{Attachments: []sdk.Media{{URL: "echo-file:f-42", Kind: "image"}}}}},
		},
		{
			Label:      "an image that is not a file id",
			Body:       `{"from": "alice", "image": "../messages"}`,
			WantStatus: 400,
		},
		{
			Label:      "not JSON",
			Body:       `hello`,
			WantStatus: 400,
		},
		{
			Label:      "no sender",
			Body:       `{"text": "hello"}`,
			WantStatus: 400,
			WantBody:   `{"error": "from and text are required"}`,
		},
		{
			Label:      "GET",
			Method:     "GET",
			WantStatus: 405,
		},
	})
}

func TestOutgoing(t *testing.T) {
	sdktest.RunOutgoing(t, New(), setup, []sdktest.OutgoingCase{
		{
			Label:   "text",
			Message: sdk.OutboundMessage{Recipient: "alice", Content: sdk.Content{Text: "hi there"}},
			Mocks: []sdktest.Mock{{
				Path:     "/messages",
				Header:   map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json", "Idempotency-Key": "msg-1"},
				JSON:     `{"to": "alice", "text": "hi there"}`,
				Response: `{"id": "ext-1"}`,
			}},
			WantExternalID: "ext-1",
		},
		{
			Label:   "rate limited",
			Message: sdk.OutboundMessage{Content: sdk.Content{Text: "hi"}},
			Mocks: []sdktest.Mock{{
				Path: "/messages", Status: 429, ResponseHeader: map[string]string{"Retry-After": "30"},
				Response: `{"error": "slow down"}`,
			}},
			WantError: "rate limited", WantRetryable: true, WantRetryAfter: 30 * time.Second,
		},
		{
			Label:     "provider down",
			Message:   sdk.OutboundMessage{Content: sdk.Content{Text: "hi"}},
			Mocks:     []sdktest.Mock{{Path: "/messages", Status: 503}},
			WantError: "provider error 503", WantRetryable: true,
		},
		{
			Label:     "refused",
			Message:   sdk.OutboundMessage{Recipient: "nobody", Content: sdk.Content{Text: "hi"}},
			Mocks:     []sdktest.Mock{{Path: "/messages", Status: 400, Response: `{"error": "unknown recipient"}`}},
			WantError: "unknown recipient", WantRetryable: false,
		},
	})
}

func TestFetchMedia(t *testing.T) {
	png := "\x89PNG\r\n\x1a\n"
	sdktest.RunMedia(t, New(), setup, []sdktest.MediaCase{
		{
			Label: "an image, with the token",
			URL:   "echo-file:f-42",
			Mocks: []sdktest.Mock{{
				Method: "GET", Path: "/files/f-42", Header: map[string]string{"Authorization": "Bearer " + token},
				Response: png, ResponseHeader: map[string]string{"Content-Type": "image/png"},
			}},
			WantBody: png, WantInfo: sdk.MediaInfo{ContentType: "image/png", Size: 8},
		},
		{Label: "another URL is refused without a request", URL: "{provider}/files/f-42", WantError: "not an attachment", WantUnknown: true},
		{Label: "not a file id", URL: "echo-file:../messages", WantError: "not an attachment", WantUnknown: true},
		{
			Label:     "gone at the provider",
			URL:       "echo-file:f-43",
			Mocks:     []sdktest.Mock{{Method: "GET", Path: "/files/f-43", Status: 404}},
			WantError: "provider error 404",
		},
		{
			Label:     "provider down",
			URL:       "echo-file:f-42",
			Mocks:     []sdktest.Mock{{Method: "GET", Path: "/files/f-42", Status: 503}},
			WantError: "provider error 503", WantRetryable: true,
		},
	})
}

func TestConfigure(t *testing.T) {
	p := sdktest.Start(t, New())
	m, err := p.ChannelManifest()
	if err != nil || m.Name != "echo" || m.Capabilities.MaxText != 1000 {
		t.Fatalf("manifest = %+v, %v", m, err)
	}
	for _, tc := range []struct{ config, field string }{
		{`{"url": "ftp://x", "token": "` + token + `"}`, "/url"},
		{`{"url": "http://127.0.0.1:1"}`, "/token"},
		{`{"url": "http://127.0.0.1:1", "token": "` + token + `", "extra": 1}`, ""},
	} {
		err := p.Configure("bad", json.RawMessage(tc.config))
		var se *sdk.Error
		if !errors.As(err, &se) || se.Field != tc.field {
			t.Errorf("Configure(%s) = %v, want a config error at %q", tc.config, err, tc.field)
		}
	}
	// Sending through an instance that was never configured is final.
	_, err = p.Send("missing", &sdk.OutboundMessage{Recipient: "a", Content: sdk.Content{Text: "x"}})
	if err == nil || sdk.IsRetryable(err) {
		t.Errorf("send to an unconfigured instance = %v, want a final error", err)
	}
	p.CheckSecrets(t, []string{token})
}
