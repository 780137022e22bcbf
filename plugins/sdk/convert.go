package sdk

import (
	"errors"
	"net/http"
	"time"

	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
)

// The plugin side of the conversions between SDK types and the protocol's
// messages; the host's side is in plugins/internal/client.

func contentToProto(c *Content) *pb.Content {
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

func contentFromProto(c *pb.Content) Content {
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

func unixMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromUnixMs(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func inboundToProto(ms []InboundMessage) []*pb.InboundMessage {
	if len(ms) == 0 {
		return nil
	}
	out := make([]*pb.InboundMessage, len(ms))
	for i := range ms {
		m := &ms[i]
		out[i] = &pb.InboundMessage{
			Sender: m.Sender, Id: m.ID, Name: m.Name, Content: contentToProto(&m.Content),
			TimeUnixMs: unixMs(m.Time), ReplyTo: m.ReplyTo, Thread: m.Thread,
		}
	}
	return out
}

var statusToProto = map[DeliveryStatus]pb.DeliveryStatus{
	StatusSent:      pb.DeliveryStatus_DELIVERY_STATUS_SENT,
	StatusDelivered: pb.DeliveryStatus_DELIVERY_STATUS_DELIVERED,
	StatusRead:      pb.DeliveryStatus_DELIVERY_STATUS_READ,
	StatusFailed:    pb.DeliveryStatus_DELIVERY_STATUS_FAILED,
}

func statusesToProto(ss []StatusUpdate) []*pb.StatusUpdate {
	if len(ss) == 0 {
		return nil
	}
	out := make([]*pb.StatusUpdate, len(ss))
	for i, s := range ss {
		out[i] = &pb.StatusUpdate{ExternalId: s.ExternalID, Status: statusToProto[s.Status], Error: s.Error, TimeUnixMs: unixMs(s.Time)}
	}
	return out
}

func headersToProto(h http.Header) []*pb.Header {
	if len(h) == 0 {
		return nil
	}
	out := make([]*pb.Header, 0, len(h))
	for k, v := range h {
		out = append(out, &pb.Header{Name: k, Values: v})
	}
	return out
}

func headersFromProto(hs []*pb.Header) http.Header {
	h := make(http.Header, len(hs))
	for _, x := range hs {
		for _, v := range x.Values {
			h.Add(x.Name, v)
		}
	}
	return h
}

// errorToProto turns a handler's error into the protocol's Error: a *Error
// keeps its verdict; any other error (a timeout, a network failure) is
// retryable.
func errorToProto(err error) *pb.Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return &pb.Error{Message: err.Error(), Retryable: e.Retryable, RetryAfterMs: e.RetryAfter.Milliseconds(), Field: e.Field}
	}
	return &pb.Error{Message: err.Error(), Retryable: true}
}

func capabilitiesToProto(c Capabilities) *pb.Capabilities {
	return &pb.Capabilities{
		Buttons: c.Buttons, QuickReplies: c.QuickReplies, Images: c.Images, Media: c.Media,
		Files: c.Files, Gallery: c.Gallery, MaxText: int32(c.MaxText),
		ReplyWindowSeconds: int64(c.ReplyWindow / time.Second), Templates: c.Templates,
	}
}
