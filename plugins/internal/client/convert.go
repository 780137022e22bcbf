package client

import (
	"net/http"
	"time"

	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// The host's side of the conversions between SDK types and the protocol's
// messages; the plugin's side is in package sdk (which cannot share it:
// sdk must not import an internal package that imports sdk).

func contentToProto(c *sdk.Content) *pb.Content {
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

func contentFromProto(c *pb.Content) sdk.Content {
	if c == nil {
		return sdk.Content{}
	}
	return sdk.Content{
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

func buttonsToProto(bs []sdk.Button) []*pb.Button {
	if len(bs) == 0 {
		return nil
	}
	out := make([]*pb.Button, len(bs))
	for i, b := range bs {
		out[i] = &pb.Button{Title: b.Title, Payload: b.Payload, Url: b.URL}
	}
	return out
}

func buttonsFromProto(bs []*pb.Button) []sdk.Button {
	if len(bs) == 0 {
		return nil
	}
	out := make([]sdk.Button, len(bs))
	for i, b := range bs {
		out[i] = sdk.Button{Title: b.GetTitle(), Payload: b.GetPayload(), URL: b.GetUrl()}
	}
	return out
}

func mediaToProto(m *sdk.Media) *pb.Media {
	if m == nil {
		return nil
	}
	return &pb.Media{Url: m.URL, Kind: m.Kind, Name: m.Name, Caption: m.Caption, Mime: m.MIME, Size: m.Size}
}

func mediaFromProto(m *pb.Media) *sdk.Media {
	if m == nil {
		return nil
	}
	return &sdk.Media{URL: m.Url, Kind: m.Kind, Name: m.Name, Caption: m.Caption, MIME: m.Mime, Size: m.Size}
}

func mediasToProto(ms []sdk.Media) []*pb.Media {
	if len(ms) == 0 {
		return nil
	}
	out := make([]*pb.Media, len(ms))
	for i := range ms {
		out[i] = mediaToProto(&ms[i])
	}
	return out
}

func mediasFromProto(ms []*pb.Media) []sdk.Media {
	if len(ms) == 0 {
		return nil
	}
	out := make([]sdk.Media, 0, len(ms))
	for _, m := range ms {
		if m != nil {
			out = append(out, *mediaFromProto(m))
		}
	}
	return out
}

func cardsToProto(cs []sdk.Card) []*pb.Card {
	if len(cs) == 0 {
		return nil
	}
	out := make([]*pb.Card, len(cs))
	for i, c := range cs {
		out[i] = &pb.Card{Image: c.Image, Title: c.Title, Subtitle: c.Subtitle, Buttons: buttonsToProto(c.Buttons)}
	}
	return out
}

func cardsFromProto(cs []*pb.Card) []sdk.Card {
	if len(cs) == 0 {
		return nil
	}
	out := make([]sdk.Card, len(cs))
	for i, c := range cs {
		out[i] = sdk.Card{Image: c.GetImage(), Title: c.GetTitle(), Subtitle: c.GetSubtitle(), Buttons: buttonsFromProto(c.GetButtons())}
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

func inboundFromProto(ms []*pb.InboundMessage) []sdk.InboundMessage {
	if len(ms) == 0 {
		return nil
	}
	out := make([]sdk.InboundMessage, 0, len(ms))
	for _, m := range ms {
		if m == nil {
			continue
		}
		out = append(out, sdk.InboundMessage{
			Sender: m.Sender, ID: m.Id, Name: m.Name, Content: contentFromProto(m.Content),
			Time: fromUnixMs(m.TimeUnixMs), ReplyTo: m.ReplyTo, Thread: m.Thread,
		})
	}
	return out
}

var statusFromProto = map[pb.DeliveryStatus]sdk.DeliveryStatus{
	pb.DeliveryStatus_DELIVERY_STATUS_SENT:      sdk.StatusSent,
	pb.DeliveryStatus_DELIVERY_STATUS_DELIVERED: sdk.StatusDelivered,
	pb.DeliveryStatus_DELIVERY_STATUS_READ:      sdk.StatusRead,
	pb.DeliveryStatus_DELIVERY_STATUS_FAILED:    sdk.StatusFailed,
}

// statusesFromProto drops receipts of an unknown status: a newer plugin's
// status this host cannot store.
func statusesFromProto(ss []*pb.StatusUpdate) []sdk.StatusUpdate {
	if len(ss) == 0 {
		return nil
	}
	out := make([]sdk.StatusUpdate, 0, len(ss))
	for _, s := range ss {
		st, ok := statusFromProto[s.GetStatus()]
		if !ok {
			continue
		}
		out = append(out, sdk.StatusUpdate{ExternalID: s.ExternalId, Status: st, Error: s.Error, Time: fromUnixMs(s.TimeUnixMs)})
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
