package blocks

import (
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
)

// maxCards is the most cards a gallery may hold; channels show no more.
const maxCards = 10

// Gallery sends a row of cards the user swipes through.
type Gallery struct {
	Cards []GalleryCard `yaml:"cards" required:"true" doc:"The cards, 1 to 10, in the order they are shown."`
}

// GalleryCard is one card of a GALLERY.
type GalleryCard struct {
	Image    flows.Template `yaml:"image" doc:"The card's picture: an absolute http(s) URL; templates are filled in."`
	Title    flows.Template `yaml:"title" required:"true" doc:"The card's title."`
	Subtitle flows.Template `yaml:"subtitle" doc:"A line of text under the title."`
	Buttons  []Button       `yaml:"buttons" doc:"Buttons on the card."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "gallery",
		Title:       "GALLERY",
		Category:    "Messages",
		Description: "Sends up to 10 cards the user swipes through, each with a picture, a title, a subtitle and buttons.",
		Primary:     "cards",
		New:         func() flows.Block { return &Gallery{} },
		Example: `/start:
  - gallery:
      - image: https://example.com/img/pizza.jpg
        title: Margherita
        subtitle: Tomato, mozzarella, basil
        buttons:
          - {title: Order, goto: order}
      - image: https://example.com/img/salad.jpg
        title: Garden salad
        subtitle: "Fresh today, {{ contact.name ?? 'friend' }}"
        buttons:
          - {title: Order, goto: order}
          - {title: Details, url: "https://example.com/salad"}
order:
  - text: Great choice!`,
	})
}

var (
	_ flows.Enterer = (*Gallery)(nil)
	_ flows.Checker = (*Gallery)(nil)
)

// Check enforces 1 to 10 cards, card picture URLs and one action per button.
func (b *Gallery) Check(c *flows.Check) {
	if len(b.Cards) == 0 {
		c.Errorf(flows.Pos{}, "a gallery needs at least one card")
	}
	for i := range b.Cards {
		card := &b.Cards[i]
		if i == maxCards {
			c.Errorf(card.Title.Pos, "a gallery shows at most %d cards and this is card %d: split the cards into two galleries", maxCards, i+1)
		}
		checkMediaURL(c, card.Image, "card image URL")
		checkButtons(c, card.Buttons)
	}
}

// Enter renders and sends the cards.
func (b *Gallery) Enter(r flows.Run) flows.Result {
	cards := make([]flows.Card, 0, len(b.Cards))
	var offers []flows.Offer
	for i := range b.Cards {
		card := &b.Cards[i]
		var out flows.Card
		var err error
		if out.Title, err = r.Render(&card.Title); err != nil {
			return flows.Fail(err)
		}
		if out.Subtitle, err = r.Render(&card.Subtitle); err != nil {
			return flows.Fail(err)
		}
		if !card.Image.IsZero() {
			img, err := r.Render(&card.Image)
			if err != nil {
				return flows.Fail(err)
			}
			// A picture that fills in to nothing is left out: the card
			// still makes sense without it.
			if img = strings.TrimSpace(img); img != "" {
				if !flows.IsURL(img) {
					return flows.Fail(fmt.Errorf("card %d (%s): image URL %q is not an absolute http(s) URL", i+1, shorten(out.Title), shorten(img)))
				}
				out.Image = img
			}
		}
		buttons, bo, err := renderButtons(r, card.Buttons)
		if err != nil {
			return flows.Fail(err)
		}
		out.Buttons = buttons
		offers = append(offers, bo...)
		cards = append(cards, out)
	}
	r.Send(flows.Content{Gallery: cards}, offers)
	return flows.Next()
}
