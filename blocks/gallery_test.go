package blocks_test

import (
	"fmt"
	"strings"
	"testing"
)

func TestGallerySendsCardsAndOffersTheirButtons(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - data: {dish: '"salad"'}
    - gallery:
        - image: https://example.com/pizza.jpg
          title: Pizza
          subtitle: "Hot, {{ contact.name }}"
          buttons: [{title: Order pizza, goto: pizza}]
        - image: "{{ photo ?? '' }}"
          title: "Fresh {{ dish }}"
          buttons:
            - {title: Order salad, goto: salad}
            - {title: Later, payload: later}
            - {title: Menu, url: "https://example.com/menu"}
    - listen: answer
    - text: "You said {{ answer }}."
  pizza:
    - text: One pizza coming up.
  salad:
    - text: One salad coming up.
`)
	ms := c.sayMsgs("hi")
	if len(ms) != 1 || len(ms[0].Gallery) != 2 {
		t.Fatalf("got %+v", ms)
	}
	g := ms[0].Gallery
	if g[0].Image != "https://example.com/pizza.jpg" || g[0].Title != "Pizza" || g[0].Subtitle != "Hot, Ann" || len(g[0].Buttons) != 1 || g[0].Buttons[0].Payload != "pizza" {
		t.Errorf("card 1: %+v", g[0])
	}
	// An image that fills in to nothing is left out, the card stays.
	if g[1].Image != "" || g[1].Title != "Fresh salad" || len(g[1].Buttons) != 3 || g[1].Buttons[2].URL != "https://example.com/menu" {
		t.Errorf("card 2: %+v", g[1])
	}
	// Buttons of every card are offered: the second card's goto works
	// while the LISTEN below waits, and so does a payload.
	want(t, c.tap("Order salad", "salad"), "One salad coming up.")

	c = newChat(t, `
skills:
  /start:
    - gallery: [{title: A, buttons: [{title: Later, payload: later}]}]
    - listen: answer
    - text: "You said {{ answer }}."
`)
	c.say("hi")
	want(t, c.tap("Later", "later"), "You said later.")
}

func TestGalleryBadImageGoesToError(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - gallery:
        - {title: "{{ contact.name }}'s pick", image: "{{ contact.name }}.jpg"}
  /_error:
    - text: "Oops: {{ error.message }}"
`)
	want(t, c.say("hi"), `Oops: card 1 (Ann's pick): image URL "Ann.jpg" is not an absolute http(s) URL`)
}

func TestGalleryLoadErrors(t *testing.T) {
	var cards strings.Builder
	for i := 1; i <= 11; i++ {
		fmt.Fprintf(&cards, "        - {title: Card %d}\n", i)
	}
	errs := loadErrors(t, `
skills:
  /start:
    - gallery:
`+cards.String())
	if w := `test.yaml:16:19: a gallery shows at most 10 cards and this is card 11: split the cards into two galleries`; !strings.Contains(errs, w) {
		t.Errorf("missing %q in:\n%s", w, errs)
	}

	errs = loadErrors(t, `
skills:
  /start:
    - gallery:
        - title: A
          image: pizza.jpg
          buttons: [{title: Go, url: "https://x.y", goto: /start}]
        - subtitle: no title
    - gallery: []
`)
	for _, w := range []string{
		`test.yaml:9:11: "gallery/1" of the GALLERY block needs the field "title"`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
	errs = loadErrors(t, `
skills:
  /start:
    - gallery:
        - title: A
          image: pizza.jpg
          buttons: [{title: Go, url: "https://x.y", goto: /start}]
    - gallery: []
`)
	for _, w := range []string{
		`test.yaml:7:18: card image URL "pizza.jpg" is not a link`,
		`test.yaml:8:29: button "Go" needs exactly one of goto, url or payload`,
		`test.yaml:9:7: a gallery needs at least one card`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
}
