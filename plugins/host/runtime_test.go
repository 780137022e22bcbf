package host_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/plugins/host"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/runtime/channel"
)

// TestRuntimeTwins fails when flows.Content and sdk.Content drift apart:
// a fully set content survives both ways, and both marshal alike.
func TestRuntimeTwins(t *testing.T) {
	m := &flows.Media{URL: "u", Kind: "image", Name: "n", Caption: "c", MIME: "image/png", Size: 3}
	b := []flows.Button{{Title: "t", Payload: "p"}, {Title: "w", URL: "https://x"}}
	c := flows.Content{
		Text: "hi", Buttons: b, QuickReplies: b, Image: m, Media: m, File: m,
		Gallery: []flows.Card{{Image: "i", Title: "t", Subtitle: "s", Buttons: b}},
		Payload: "p", Attachments: []flows.Media{*m},
	}
	s := host.ContentFromFlows(c)
	if back := host.ContentToFlows(s); !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, c)
	}
	fj, _ := json.Marshal(c)
	sj, _ := json.Marshal(s)
	if string(fj) != string(sj) {
		t.Fatalf("JSON differs:\nflows %s\nsdk   %s", fj, sj)
	}
	// Every field of flows.Content is set above: a new one fails here.
	v := reflect.ValueOf(c)
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsZero() {
			t.Errorf("flows.Content.%s is not covered", v.Type().Field(i).Name)
		}
	}
	if got := reflect.TypeOf(flows.Content{}).NumField(); got != reflect.TypeOf(sdk.Content{}).NumField() {
		t.Errorf("flows.Content has %d fields, sdk.Content %d", got, reflect.TypeOf(sdk.Content{}).NumField())
	}

	caps := sdk.Capabilities{Buttons: true, QuickReplies: true, Images: true, Media: true, Files: true, Gallery: true, MaxText: 9, ReplyWindow: time.Hour, Templates: true}
	want := channel.Capabilities{Buttons: true, QuickReplies: true, Images: true, Media: true, Files: true, Gallery: true, MaxText: 9, ReplyWindow: time.Hour, Templates: true}
	if got := host.Capabilities(caps); got != want {
		t.Errorf("Capabilities = %+v", got)
	}
}

func TestRedact(t *testing.T) {
	cfg := json.RawMessage(`{"token": "abc", "url": "http://x", "accounts": [{"key": "k1"}, {"key": "k2"}], "a/b": "s", "none": null}`)
	got := host.Redact(cfg, []string{"/token", "/accounts/*/key", "/a~1b", "/missing", "/none"})
	want := `{"a/b":"[redacted]","accounts":[{"key":"[redacted]"},{"key":"[redacted]"}],"none":null,"token":"[redacted]","url":"http://x"}`
	if string(got) != want {
		t.Errorf("Redact = %s", got)
	}
	if got := host.Redact(json.RawMessage(`not json`), []string{"/x"}); string(got) != `"[redacted]"` {
		t.Errorf("Redact(not json) = %s", got)
	}
	if got := host.Redact(cfg, nil); string(got) != string(cfg) {
		t.Errorf("no secrets: %s", got)
	}
}
