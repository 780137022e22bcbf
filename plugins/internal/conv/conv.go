// Package conv is what both ends of the plugin protocol convert the same
// way: message content (package sdk's Content, Button, Media and Card are
// these types, aliased), times and HTTP headers, to and from the
// protocol's messages. The host's side (plugins/internal/client) and the
// plugin's (package sdk) each add the conversions only they make.
package conv

import (
	"net/http"
	"time"

	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
)

// Content is what one message carries, inbound or outbound (the runtime's
// flows.Content; the JSON names are the same).
type Content struct {
	Text         string   `json:"text,omitempty"`
	Buttons      []Button `json:"buttons,omitempty"`
	QuickReplies []Button `json:"quick_replies,omitempty"`
	Image        *Media   `json:"image,omitempty"`
	Media        *Media   `json:"media,omitempty"`
	File         *Media   `json:"file,omitempty"`
	Gallery      []Card   `json:"gallery,omitempty"`
	// Payload is set on inbound messages produced by a button tap.
	Payload string `json:"payload,omitempty"`
	// Attachments are files the user sent.
	Attachments []Media `json:"attachments,omitempty"`
}

// Button is a choice shown with a message: one of Payload and URL is set.
type Button struct {
	Title   string `json:"title"`
	Payload string `json:"payload,omitempty"`
	URL     string `json:"url,omitempty"`
}

// Media is an image, audio, video or file, by URL.
type Media struct {
	URL     string `json:"url"`
	Kind    string `json:"kind,omitempty"` // image, audio, video, file
	Name    string `json:"name,omitempty"`
	Caption string `json:"caption,omitempty"`
	MIME    string `json:"mime,omitempty"`
	Size    int64  `json:"size,omitempty"`
}

// Card is one element of a gallery.
type Card struct {
	Image    string   `json:"image,omitempty"`
	Title    string   `json:"title"`
	Subtitle string   `json:"subtitle,omitempty"`
	Buttons  []Button `json:"buttons,omitempty"`
}

// ContentToProto and ContentFromProto convert message content.
func ContentToProto(c *Content) *pb.Content {
	return &pb.Content{
		Text:         c.Text,
		Buttons:      buttonsToProto(c.Buttons),
		QuickReplies: buttonsToProto(c.QuickReplies),
		Image:        mediaToProto(c.Image),
		Media:        mediaToProto(c.Media),
		File:         mediaToProto(c.File),
		Gallery:      cardsToProto(c.Gallery),
		Payload:      c.Payload,
		Attachments:  mediasToProto(c.Attachments),
	}
}

func ContentFromProto(c *pb.Content) Content {
	if c == nil {
		return Content{}
	}
	return Content{
		Text:         c.Text,
		Buttons:      buttonsFromProto(c.Buttons),
		QuickReplies: buttonsFromProto(c.QuickReplies),
		Image:        mediaFromProto(c.Image),
		Media:        mediaFromProto(c.Media),
		File:         mediaFromProto(c.File),
		Gallery:      cardsFromProto(c.Gallery),
		Payload:      c.Payload,
		Attachments:  mediasFromProto(c.Attachments),
	}
}

func buttonsToProto(bs []Button) []*pb.Button {
	if len(bs) == 0 {
		return nil
	}
	out := make([]*pb.Button, len(bs))
	for i, b := range bs {
		out[i] = &pb.Button{Title: b.Title, Payload: b.Payload, Url: b.URL}
	}
	return out
}

func buttonsFromProto(bs []*pb.Button) []Button {
	if len(bs) == 0 {
		return nil
	}
	out := make([]Button, len(bs))
	for i, b := range bs {
		out[i] = Button{Title: b.GetTitle(), Payload: b.GetPayload(), URL: b.GetUrl()}
	}
	return out
}

func mediaToProto(m *Media) *pb.Media {
	if m == nil {
		return nil
	}
	return &pb.Media{Url: m.URL, Kind: m.Kind, Name: m.Name, Caption: m.Caption, Mime: m.MIME, Size: m.Size}
}

func mediaFromProto(m *pb.Media) *Media {
	if m == nil {
		return nil
	}
	return &Media{URL: m.Url, Kind: m.Kind, Name: m.Name, Caption: m.Caption, MIME: m.Mime, Size: m.Size}
}

func mediasToProto(ms []Media) []*pb.Media {
	if len(ms) == 0 {
		return nil
	}
	out := make([]*pb.Media, len(ms))
	for i := range ms {
		out[i] = mediaToProto(&ms[i])
	}
	return out
}

func mediasFromProto(ms []*pb.Media) []Media {
	if len(ms) == 0 {
		return nil
	}
	out := make([]Media, 0, len(ms))
	for _, m := range ms {
		if m != nil {
			out = append(out, *mediaFromProto(m))
		}
	}
	return out
}

func cardsToProto(cs []Card) []*pb.Card {
	if len(cs) == 0 {
		return nil
	}
	out := make([]*pb.Card, len(cs))
	for i, c := range cs {
		out[i] = &pb.Card{Image: c.Image, Title: c.Title, Subtitle: c.Subtitle, Buttons: buttonsToProto(c.Buttons)}
	}
	return out
}

func cardsFromProto(cs []*pb.Card) []Card {
	if len(cs) == 0 {
		return nil
	}
	out := make([]Card, len(cs))
	for i, c := range cs {
		out[i] = Card{Image: c.GetImage(), Title: c.GetTitle(), Subtitle: c.GetSubtitle(), Buttons: buttonsFromProto(c.GetButtons())}
	}
	return out
}

func UnixMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func FromUnixMs(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// HeadersToProto and HeadersFromProto convert HTTP headers.
func HeadersToProto(h http.Header) []*pb.Header {
	if len(h) == 0 {
		return nil
	}
	out := make([]*pb.Header, 0, len(h))
	for k, v := range h {
		out = append(out, &pb.Header{Name: k, Values: v})
	}
	return out
}

func HeadersFromProto(hs []*pb.Header) http.Header {
	h := make(http.Header, len(hs))
	for _, x := range hs {
		for _, v := range x.Values {
			h.Add(x.Name, v)
		}
	}
	return h
}
