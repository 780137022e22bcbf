package blocks_test

import (
	"strings"
	"testing"
)

func TestImageSendsPictureCaptionAndButtons(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - image: "https://example.com/img/{{ contact.name }}.png"
      caption: "Hello {{ contact.name }}"
      alt: A smiling face
      buttons:
        - {title: More, goto: more}
        - {title: Shop, url: "https://example.com/shop"}
  more:
    - text: More pictures soon.
`)
	ms := c.sayMsgs("hi")
	if len(ms) != 1 || ms[0].Image == nil {
		t.Fatalf("got %+v", ms)
	}
	img := ms[0].Image
	if img.URL != "https://example.com/img/Ann.png" || img.Kind != "image" || img.Caption != "Hello Ann" || img.Name != "A smiling face" {
		t.Fatalf("image: %+v", img)
	}
	if b := ms[0].Buttons; len(b) != 2 || b[0].Payload != "more" || b[1].URL != "https://example.com/shop" {
		t.Fatalf("buttons: %+v", b)
	}
	want(t, c.tap("More", "more"), "More pictures soon.")
}

func TestImageURLThatFillsInBadlyGoesToError(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - image: "{{ picture }}"
    - text: not reached
  /_error:
    - text: "Oops: {{ error.message }}"
`)
	want(t, c.say("hi"), `Oops: image URL "{{ picture }}" filled in to nothing`)
	c = newChat(t, `
skills:
  /start:
    - image: "{{ contact.name }}.png"
  /_error:
    - text: "Oops: {{ error.message }}"
`)
	want(t, c.say("hi"), `Oops: image URL "Ann.png" is not an absolute http(s) URL`)
}

func TestImageLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - image: images/logo.png
      buttons: [{title: Both, goto: /start, payload: x}]
`)
	for _, w := range []string{
		`test.yaml:5:14: image URL "images/logo.png" is not a link: write an absolute URL starting with https://`,
		`test.yaml:6:25: button "Both" needs exactly one of goto, url or payload`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
	errs = loadErrors(t, `
skills:
  /start:
    - image:
      caption: No picture
`)
	if !strings.Contains(errs, "test.yaml:5:13: the value of IMAGE must be text, not empty") {
		t.Fatalf("errors: %s", errs)
	}
}
