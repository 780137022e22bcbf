package blocks_test

import (
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

func TestMediaKindFromExtensionOrField(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - media: "https://example.com/a/jingle.MP3?v=2"
      caption: "For {{ contact.name }}"
    - media: https://example.com/tour.webm
    - media: https://example.com/stream/42
      kind: video
    - media: "https://example.com/{{ clip }}"
      kind: audio
`)
	ms := c.sayMsgs("hi")
	var got []flows.Media
	for _, m := range ms {
		if m.Media == nil {
			t.Fatalf("message without media: %+v", m)
		}
		got = append(got, *m.Media)
	}
	if len(got) != 4 {
		t.Fatalf("got %+v", got)
	}
	if got[0].Kind != "audio" || got[0].URL != "https://example.com/a/jingle.MP3?v=2" || got[0].Caption != "For Ann" {
		t.Errorf("first: %+v", got[0])
	}
	if got[1].Kind != "video" || got[2].Kind != "video" || got[3].Kind != "audio" || got[3].URL != "https://example.com/" {
		t.Errorf("kinds: %+v", got)
	}
}

func TestMediaKindUnknownAtRunTimeGoesToError(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - media: "https://example.com/clips/{{ contact.name }}"
  /_error:
    - text: "Oops: {{ error.message }}"
`)
	want(t, c.say("hi"), `Oops: cannot tell whether "https://example.com/clips/Ann" is audio or video from its extension: add kind: audio or kind: video to the MEDIA block`)
}

func TestMediaLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - media: https://example.com/clips/42
    - media: https://example.com/a.mp3
      kind: podcast
    - media: file:///tmp/a.mp3
`)
	for _, w := range []string{
		`test.yaml:5:14: cannot tell whether "https://example.com/clips/42" is audio or video from its extension: add kind: audio or kind: video`,
		`test.yaml:7:13: "kind" of the MEDIA block must be one of "audio", "video"`,
		`test.yaml:8:14: media URL "file:///tmp/a.mp3" is not a link`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}
