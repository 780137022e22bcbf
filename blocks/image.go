package blocks

import (
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
)

// Image sends a picture by URL, with an optional caption and buttons.
type Image struct {
	Image   flows.Template `yaml:"image" required:"true" doc:"The picture's address: an absolute http(s) URL; templates like {{ product.photo }} are filled in."`
	Caption flows.Template `yaml:"caption" doc:"Text shown with the picture."`
	Alt     string         `yaml:"alt" doc:"A short description of the picture for screen readers and for channels that cannot show images."`
	Buttons []Button       `yaml:"buttons" doc:"Buttons under the picture."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "image",
		Title:       "IMAGE",
		Category:    "Messages",
		Description: "Sends a picture by URL, with an optional caption and buttons.",
		Primary:     "image",
		New:         func() flows.Block { return &Image{} },
		Example: `/start:
  - image: https://example.com/images/welcome.png
    caption: "Welcome, {{ contact.name ?? 'friend' }}!"
    alt: Our shop front
    buttons:
      - {title: See the menu, goto: menu}
menu:
  - text: Here is today's menu.`,
	})
}

var (
	_ flows.Enterer = (*Image)(nil)
	_ flows.Checker = (*Image)(nil)
)

// Check reports a fixed URL that is not a link, and buttons without one action.
func (b *Image) Check(c *flows.Check) {
	checkMediaURL(c, b.Image, "image URL")
	checkButtons(c, b.Buttons)
}

// Enter renders and sends the picture.
func (b *Image) Enter(r flows.Run) flows.Result {
	u, err := renderMediaURL(r, &b.Image, "image URL")
	if err != nil {
		return flows.Fail(err)
	}
	caption, err := r.Render(&b.Caption)
	if err != nil {
		return flows.Fail(err)
	}
	buttons, offers, err := renderButtons(r, b.Buttons)
	if err != nil {
		return flows.Fail(err)
	}
	// Media has no alt text of its own: the name is what channels show in
	// place of a file they cannot display.
	img := &flows.Media{URL: u, Kind: "image", Caption: caption, Name: b.Alt}
	r.Send(flows.Content{Image: img, Buttons: buttons}, offers)
	return flows.Next()
}

// checkMediaURL reports, at load, a URL written without {{ }} that is not an
// absolute http(s) link; a URL with {{ }} is checked when it is filled in.
func checkMediaURL(c *flows.Check, t flows.Template, what string) {
	if t.IsZero() || strings.Contains(t.Src, "{{") {
		return
	}
	if !flows.IsURL(strings.TrimSpace(t.Src)) {
		c.Errorf(t.Pos, "%s %q is not a link: write an absolute URL starting with https://", what, shorten(t.Src))
	}
}

// renderMediaURL fills in a URL template and checks that the result is an
// absolute http(s) link.
func renderMediaURL(r flows.Run, t *flows.Template, what string) (string, error) {
	u, err := r.Render(t)
	if err != nil {
		return "", err
	}
	u = strings.TrimSpace(u)
	if u == "" {
		return "", fmt.Errorf("%s %q filled in to nothing", what, shorten(t.Src))
	}
	if !flows.IsURL(u) {
		return "", fmt.Errorf("%s %q is not an absolute http(s) URL", what, shorten(u))
	}
	return u, nil
}

// shorten keeps values quoted in messages readable.
func shorten(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:77]) + "..."
	}
	return s
}
