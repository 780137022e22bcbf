package server

import (
	"encoding/json"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/channel"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// The REST answer as encoding/json writes it: the reference the hand
// encoder must match byte for byte.
type refReply struct {
	RecipientID string         `json:"recipient_id"`
	Text        string         `json:"text,omitempty"`
	Buttons     []flows.Button `json:"buttons,omitempty"`
	Image       string         `json:"image,omitempty"`
}

func refReplies(sender string, replies []store.Message) []byte {
	out := []refReply{}
	for _, r := range replies {
		for _, c := range channel.Degrade(r.Content, restCapabilities) {
			reply := refReply{RecipientID: sender, Text: c.Text, Buttons: c.Buttons}
			if c.Image != nil {
				reply.Image = c.Image.URL
				if reply.Text == "" {
					reply.Text = c.Image.Caption
				}
			}
			out = append(out, reply)
		}
	}
	b, _ := json.Marshal(out)
	return b
}

func TestRestRepliesMatchEncodingJSON(t *testing.T) {
	cases := [][]store.Message{
		nil,
		{{Content: flows.Content{Text: "Hi <b>there</b> & \"you\""}}},
		{{Content: flows.Content{
			Text:         "Pick one",
			Buttons:      []flows.Button{{Title: "Track", Payload: "/track"}, {Title: "Site", URL: "https://example.com/?a=1&b=<2>"}},
			QuickReplies: []flows.Button{{Title: "Human ✋", Payload: "/_start_live_chat"}},
		}}},
		{{Content: flows.Content{Image: &flows.Media{URL: "https://example.com/box.png", Caption: "Your box"}}},
			{Content: flows.Content{Text: "with text", Image: &flows.Media{URL: "https://example.com/a.png"}}}},
		{{Content: flows.Content{Gallery: []flows.Card{{Title: "Card", Subtitle: "sub", Image: "https://example.com/c.png",
			Buttons: []flows.Button{{Title: "Buy", Payload: "buy"}}}}}}},
		{{Content: flows.Content{Text: "bad \xff utf-8\n\ttabs\u2028"}}},
		{{Content: flows.Content{File: &flows.Media{URL: "https://example.com/f.pdf", Name: "f.pdf"}}}},
	}
	for i, replies := range cases {
		want := refReplies("u<1>", replies)
		if got := appendRestReplies(nil, "u<1>", replies); string(got) != string(want) {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func FuzzRestReplies(f *testing.F) {
	f.Add("u1", "hi", "Track", "/track", "", "")
	f.Add("u\"2", "<script>", "Site", "", "https://example.com", "https://example.com/i.png")
	f.Add("", "", "", "", "", "\xff")
	f.Fuzz(func(t *testing.T, sender, text, title, payload, url, image string) {
		c := flows.Content{Text: text}
		if title != "" || payload != "" || url != "" {
			c.Buttons = []flows.Button{{Title: title, Payload: payload, URL: url}}
			c.QuickReplies = []flows.Button{{Title: payload, Payload: title}}
		}
		if image != "" {
			c.Image = &flows.Media{URL: image, Caption: text}
		}
		replies := []store.Message{{Content: c}, {Content: flows.Content{Text: title}}}
		want := refReplies(sender, replies)
		if got := appendRestReplies(nil, sender, replies); string(got) != string(want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}
