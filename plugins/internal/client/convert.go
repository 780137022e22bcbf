package client

import (
	"github.com/switchboard-bots/switchboard/plugins/internal/conv"
	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// The conversions only the host makes (inbound messages and receipts from
// the protocol); the plugin makes the reverse ones in package sdk, and
// both share plugins/internal/conv.

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
			Sender: m.Sender, ID: m.Id, Name: m.Name, Content: conv.ContentFromProto(m.Content),
			Time: conv.FromUnixMs(m.TimeUnixMs), ReplyTo: m.ReplyTo, Thread: m.Thread,
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
		out = append(out, sdk.StatusUpdate{ExternalID: s.ExternalId, Status: st, Error: s.Error, Time: conv.FromUnixMs(s.TimeUnixMs)})
	}
	return out
}
