package blocks

import (
	"net/url"
	"path"
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
)

// File sends a document by URL.
type File struct {
	File    flows.Template `yaml:"file" required:"true" doc:"The document's address: an absolute http(s) URL; templates are filled in."`
	Name    flows.Template `yaml:"name" doc:"The file name the user sees; defaults to the last part of the URL's path."`
	Caption flows.Template `yaml:"caption" doc:"Text shown with the file."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "file",
		Title:       "FILE",
		Category:    "Messages",
		Description: "Sends a document (a PDF, a spreadsheet, …) by URL, with an optional file name and caption.",
		Primary:     "file",
		New:         func() flows.Block { return &File{} },
		Example: `/start:
  - file: https://example.com/docs/price-list-2026.pdf
    caption: Here is our price list.
  - file: "https://example.com/invoices/{{ contact.id }}"
    name: "invoice-{{ contact.id }}.pdf"`,
	})
}

var (
	_ flows.Enterer = (*File)(nil)
	_ flows.Checker = (*File)(nil)
)

// Check reports a fixed URL that is not a link.
func (b *File) Check(c *flows.Check) {
	checkMediaURL(c, b.File, "file URL")
}

// Enter renders and sends the document.
func (b *File) Enter(r flows.Run) flows.Result {
	u, err := renderMediaURL(r, &b.File, "file URL")
	if err != nil {
		return flows.Fail(err)
	}
	name, err := r.Render(&b.Name)
	if err != nil {
		return flows.Fail(err)
	}
	if name = strings.TrimSpace(name); name == "" {
		name = fileName(u)
	}
	caption, err := r.Render(&b.Caption)
	if err != nil {
		return flows.Fail(err)
	}
	r.Send(flows.Content{File: &flows.Media{URL: u, Kind: "file", Name: name, Caption: caption}}, nil)
	return flows.Next()
}

// fileName is the last segment of a URL's path, unescaped; empty when the
// path has none.
func fileName(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	base := path.Base(pu.Path)
	if base == "/" || base == "." {
		return ""
	}
	return base
}
