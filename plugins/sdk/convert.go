package sdk

import (
	"errors"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/conv"
	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
)

// The conversions only the plugin makes (inbound messages, receipts,
// errors and capabilities to the protocol); the host makes the reverse ones
// in plugins/internal/client, and both share plugins/internal/conv.

func inboundToProto(ms []InboundMessage) []*pb.InboundMessage {
	if len(ms) == 0 {
		return nil
	}
	out := make([]*pb.InboundMessage, len(ms))
	for i := range ms {
		m := &ms[i]
		out[i] = &pb.InboundMessage{
			Sender: m.Sender, Id: m.ID, Name: m.Name, Content: conv.ContentToProto(&m.Content),
			TimeUnixMs: conv.UnixMs(m.Time), ReplyTo: m.ReplyTo, Thread: m.Thread,
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
		out[i] = &pb.StatusUpdate{ExternalId: s.ExternalID, Status: statusToProto[s.Status], Error: s.Error, TimeUnixMs: conv.UnixMs(s.Time)}
	}
	return out
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
