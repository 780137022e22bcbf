package channel_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/channel"
)

func TestDegradeButtonsToNumberedOptions(t *testing.T) {
	c := flows.Content{
		Text:         "How can I help?",
		Buttons:      []flows.Button{{Title: "Track", Payload: "track"}, {Title: "Site", URL: "https://example.com"}},
		QuickReplies: []flows.Button{{Title: "Human", Payload: "human"}},
	}
	got := channel.Degrade(c, channel.Capabilities{})
	want := []flows.Content{{Text: "How can I help?\n1) Track\n2) Site: https://example.com\n3) Human"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
}

func TestDegradeKeepsWhatTheChannelShows(t *testing.T) {
	c := flows.Content{Text: "Hi", Buttons: []flows.Button{{Title: "A", Payload: "a"}}, QuickReplies: []flows.Button{{Title: "B", Payload: "b"}}, Image: &flows.Media{URL: "https://x/y.png"}}
	got := channel.Degrade(c, channel.Capabilities{Buttons: true, Images: true})
	if len(got) != 1 || got[0].Text != "Hi" || len(got[0].Buttons) != 2 || got[0].Image == nil || got[0].QuickReplies != nil {
		t.Fatalf("quick replies should join the buttons, the image stay: %+v", got)
	}
}

func TestDegradeGalleryAndMedia(t *testing.T) {
	c := flows.Content{
		Gallery: []flows.Card{{Title: "Mug", Subtitle: "9 EUR", Buttons: []flows.Button{{Title: "Buy", Payload: "buy-mug"}}}, {Title: "Cap"}},
		File:    &flows.Media{URL: "https://x/cat.pdf", Name: "Catalogue"},
	}
	got := channel.Degrade(c, channel.Capabilities{})
	want := "Mug — 9 EUR\n   1) Buy\nCap\nCatalogue: https://x/cat.pdf"
	if len(got) != 1 || got[0].Text != want || got[0].Gallery != nil || got[0].File != nil {
		t.Fatalf("got %q", got[0].Text)
	}
}

func TestDegradeSplitsLongText(t *testing.T) {
	long := strings.Repeat("word ", 50) + "end"
	got := channel.Degrade(flows.Content{Text: long, Buttons: []flows.Button{{Title: "A", Payload: "a"}}}, channel.Capabilities{Buttons: true, MaxText: 60})
	if len(got) < 4 {
		t.Fatalf("not split: %d parts", len(got))
	}
	for _, p := range got {
		if len(p.Text) > 60 {
			t.Fatalf("part too long: %q", p.Text)
		}
	}
	if len(got[len(got)-1].Buttons) != 1 || len(got[0].Buttons) != 0 {
		t.Fatal("the buttons belong to the last part")
	}
	if strings.Join(strings.Fields(joinTexts(got)), " ") != strings.Join(strings.Fields(long), " ") {
		t.Fatal("text lost in splitting")
	}
}

func joinTexts(cs []flows.Content) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.Text)
	}
	return strings.Join(parts, " ")
}
