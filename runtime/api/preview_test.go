package api

import (
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

// A conversation's preview says what its last message was, a customer's
// photo or file included.
func TestPreview(t *testing.T) {
	for _, c := range []struct {
		content flows.Content
		want    string
	}{
		{flows.Content{Text: "Where is my order?"}, "Where is my order?"},
		{flows.Content{Payload: "track"}, "track"},
		{flows.Content{Image: &flows.Media{URL: "/u/a.png"}}, "[image]"},
		{flows.Content{Attachments: []flows.Media{{URL: "telegram-file:AgAD", Kind: "image"}}}, "[image]"},
		{flows.Content{Attachments: []flows.Media{{URL: "x", Kind: "file", Name: "invoice.pdf"}, {URL: "y", Kind: "image"}}}, "[file] invoice.pdf (+1)"},
		{flows.Content{Attachments: []flows.Media{{URL: "x"}}}, "[file]"},
		{flows.Content{Text: "see the photo", Attachments: []flows.Media{{URL: "x", Kind: "image"}}}, "see the photo"},
		{flows.Content{Text: strings.Repeat("a", 300)}, strings.Repeat("a", previewLen-1) + "…"},
	} {
		if got := preview(&c.content); got != c.want {
			t.Errorf("preview(%+v) = %q, want %q", c.content, got, c.want)
		}
	}
}
