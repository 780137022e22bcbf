package main

import (
	"encoding/json"
	"reflect"
	"testing"
)

var replySeeds = []string{
	`[{"recipient_id":"u1","text":"Hi there! I'm Acme's assistant."},{"recipient_id":"u1","text":"How can I help?","buttons":[{"title":"Track my order","payload":"/b/menu/0"},{"title":"Questions","payload":"/b/menu/1"}]}]`,
	`[]`, `null`, ` [ { "text" : "a" , "image":"https://x/y.png", "extra": {"n": [1, -2.5e3, true, null]} } ] `,
	`[{"text":"caf\u00e9"}]`, `[{"Text":"x"}]`, `[{"text":"a"}] x`, `[{"buttons":null}]`, `[{"buttons":[]}]`,
}

var frameSeeds = []string{
	`{"type":"ack","id":"m1","duplicate":false}`,
	`{"type":"message","seq":43,"id":"m1","author":"user","time":"2026-11-21T10:00:00Z","text":"hi"}`,
	`{"type":"message","seq":44,"author":"bot","text":"How can I help?","buttons":[{"title":"Questions","payload":"/b/menu/1"}],"quick_replies":[{"title":"Pricing","payload":"/q/menu/0"}]}`,
	`{"type":"welcome","token":"t.x.y","contact":{"id":"c1","visitor":"v1"}}`,
	`{"type":"error","code":"rate_limited","message":"slow down"}`,
	`{"seq":01}`, `{"seq":-1}`, `{"seq":1.5}`, `{"seq":18446744073709551615}`, `{"contact":null,"seq":null}`, `{"duplicate":"no"}`,
	"{\"text\":\"\xff\"}", `{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
}

// TestLoadJSON: the readers decode what the server sends, and decline what
// they do not fully understand.
func TestLoadJSON(t *testing.T) {
	got, ok := decodeReplies([]byte(replySeeds[0]))
	want := []reply{{RecipientID: "u1", Text: "Hi there! I'm Acme's assistant."},
		{RecipientID: "u1", Text: "How can I help?", Buttons: []replyButton{{"Track my order", "/b/menu/0"}, {"Questions", "/b/menu/1"}}}}
	if !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("replies: %v %+v", ok, got)
	}
	var f wcFrame
	if !decodeFrame([]byte(frameSeeds[2]), &f) || f.Seq != 44 || f.Author != "bot" || len(f.Buttons) != 1 || f.QuickReplies[0].Payload != "/q/menu/0" {
		t.Errorf("frame: %+v", f)
	}
	for _, in := range []string{`[{"text":"caf\u00e9"}]`, `[{"Text":"x"}]`, `[{"text":"a"}] x`, `[{"text":"a"`} {
		if _, ok := decodeReplies([]byte(in)); ok {
			t.Errorf("accepted %s", in)
		}
	}
	for _, in := range []string{`{"seq":01}`, `{"seq":-1}`, `{"seq":1.5}`, "{\"text\":\"\xff\"}", `{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`} {
		var f wcFrame
		if decodeFrame([]byte(in), &f) {
			t.Errorf("accepted %s", in)
		}
	}
}

// FuzzDecodeReplies: whatever decodeReplies accepts, encoding/json decodes
// to the same value.
func FuzzDecodeReplies(f *testing.F) {
	for _, s := range replySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := decodeReplies(b)
		if !ok {
			return
		}
		var want []reply
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v, encoding/json %#v", b, got, want)
		}
	})
}

// FuzzDecodeFrame: whatever decodeFrame accepts, encoding/json decodes to
// the same value.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range frameSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got, want wcFrame
		if !decodeFrame(b, &got) {
			return
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v, encoding/json %#v", b, got, want)
		}
	})
}
