// Package client is the host's side of the plugin protocol: typed calls on
// one plugin connection, in the SDK's types. plugins/host adds launching,
// supervision and timeouts around it; sdktest uses it bare.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/switchboard-bots/switchboard/plugins/internal/conv"
	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// Kind is what a plugin offers.
type Kind string

// Plugin kinds.
const (
	KindChannel     Kind = "channel"
	KindIntegration Kind = "integration"
)

// ErrNotPolling is returned by Receive for a channel that does not poll.
var ErrNotPolling = errors.New("the channel does not poll")

// GRPCPlugin is the go-plugin plugin of the host: dispensing it gives a
// *Conn.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

// GRPCServer refuses: plugins are served by package sdk.
func (GRPCPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("the host does not serve plugins")
}

// GRPCClient wraps the connection go-plugin made.
func (GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return New(cc), nil
}

// Conn is one plugin connection.
type Conn struct {
	plugin      pb.PluginClient
	channel     pb.ChannelClient
	integration pb.IntegrationClient
	calls       *calls // a channel's webhooks and sends
}

// New wraps a gRPC connection to a plugin.
func New(cc grpc.ClientConnInterface) *Conn {
	c := &Conn{plugin: pb.NewPluginClient(cc), channel: pb.NewChannelClient(cc), integration: pb.NewIntegrationClient(cc)}
	c.calls = &calls{open: func(ctx context.Context) (pb.Channel_CallsClient, error) { return c.channel.Calls(ctx) }}
	return c
}

// Describe asks the plugin which kind it is.
func (c *Conn) Describe(ctx context.Context) (Kind, string, error) {
	r, err := c.plugin.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return "", "", transport(err)
	}
	switch r.Kind {
	case pb.Kind_KIND_CHANNEL:
		return KindChannel, r.SdkVersion, nil
	case pb.Kind_KIND_INTEGRATION:
		return KindIntegration, r.SdkVersion, nil
	}
	return "", r.SdkVersion, fmt.Errorf("the plugin is of an unknown kind %v", r.Kind)
}

// Ping checks the plugin and returns how many calls it is handling and
// how many of them are overdue (running past their deadline plus
// overdueAfter).
func (c *Conn) Ping(ctx context.Context, overdueAfter time.Duration) (inFlight, overdue int64, err error) {
	r, err := c.plugin.Ping(ctx, &pb.PingRequest{OverdueAfterMs: overdueAfter.Milliseconds()})
	if err != nil {
		return 0, 0, transport(err)
	}
	return r.InFlight, r.Overdue, nil
}

// Features are what a channel plugin implements beyond sdk.Channel.
type Features struct {
	// Polling: sdk.Poller (Receive).
	Polling bool
	// FetchesMedia: sdk.MediaFetcher (FetchMedia).
	FetchesMedia bool
}

// ChannelManifest reads a channel plugin's manifest, and what it
// implements.
func (c *Conn) ChannelManifest(ctx context.Context) (sdk.ChannelManifest, Features, error) {
	r, err := c.channel.Manifest(ctx, &pb.ManifestRequest{})
	if err != nil {
		return sdk.ChannelManifest{}, Features{}, transport(err)
	}
	m := sdk.ChannelManifest{
		Name: r.Name, Version: r.Version, Description: r.Description,
		ConfigSchema: json.RawMessage(r.ConfigSchema), Secrets: r.Secrets,
	}
	if cp := r.Capabilities; cp != nil {
		m.Capabilities = sdk.Capabilities{
			Buttons: cp.Buttons, QuickReplies: cp.QuickReplies, Images: cp.Images, Media: cp.Media,
			Files: cp.Files, Gallery: cp.Gallery, MaxText: int(cp.MaxText),
			ReplyWindow: time.Duration(cp.ReplyWindowSeconds) * time.Second, Templates: cp.Templates,
		}
	}
	return m, Features{Polling: r.Polling, FetchesMedia: r.FetchesMedia}, nil
}

// ConfigureChannel configures one instance of a channel.
func (c *Conn) ConfigureChannel(ctx context.Context, instance string, config json.RawMessage) error {
	r, err := c.channel.Configure(ctx, &pb.ConfigureRequest{Instance: instance, Config: config})
	if err != nil {
		return transport(err)
	}
	return fromProtoError(r.Error)
}

// HandleWebhook hands a webhook request to the plugin.
func (c *Conn) HandleWebhook(ctx context.Context, instance string, req *sdk.WebhookRequest) (*sdk.WebhookResult, error) {
	wr := &pb.WebhookRequest{
		Instance: instance, Bot: req.Bot, Method: req.Method, Path: req.Path, Query: req.Query,
		Headers: conv.HeadersToProto(req.Header), Body: req.Body, RemoteAddr: req.RemoteAddr,
	}
	var r *pb.WebhookResponse
	cr, err := c.calls.do(ctx, &pb.CallRequest{Call: &pb.CallRequest_Webhook{Webhook: wr}})
	switch {
	case errors.Is(err, errUnsupported):
		r, err = c.channel.HandleWebhook(ctx, wr)
	case err == nil && cr.GetFailure() != nil:
		err = failed(cr.GetFailure())
	case err == nil:
		r = cr.GetWebhook()
	}
	if err == nil && r == nil {
		err = status.Error(codes.Internal, "the plugin answered a webhook with something else")
	}
	if err != nil {
		return nil, transport(err)
	}
	st := int(r.Status)
	if st == 0 {
		st = http.StatusOK
	}
	return &sdk.WebhookResult{
		Status: st, Header: conv.HeadersFromProto(r.Headers), Body: r.Body,
		Messages: inboundFromProto(r.Messages), Statuses: statusesFromProto(r.Statuses),
	}, nil
}

// Send sends one message through the channel.
func (c *Conn) Send(ctx context.Context, instance string, m *sdk.OutboundMessage) (string, error) {
	sr := &pb.SendRequest{
		Instance: instance, Recipient: m.Recipient, Content: conv.ContentToProto(&m.Content), Id: m.ID,
		ReplyTo: m.ReplyTo, Thread: m.Thread, LastInboundUnixMs: conv.UnixMs(m.LastInbound), Metadata: m.Metadata,
	}
	var r *pb.SendResponse
	cr, err := c.calls.do(ctx, &pb.CallRequest{Call: &pb.CallRequest_Send{Send: sr}})
	switch {
	case errors.Is(err, errUnsupported):
		r, err = c.channel.Send(ctx, sr)
	case err == nil && cr.GetFailure() != nil:
		err = failed(cr.GetFailure())
	case err == nil:
		r = cr.GetSend()
	}
	if err == nil && r == nil {
		err = status.Error(codes.Internal, "the plugin answered a send with something else")
	}
	if err != nil {
		return "", transport(err)
	}
	if r.Error != nil {
		return "", fromProtoError(r.Error)
	}
	return r.ExternalId, nil
}

// Receive opens the receive stream of a polling channel's instance and
// hands every event to fn, acknowledging it with fn's verdict, until ctx
// is done or the stream breaks. fn is called from this goroutine, one
// event at a time.
func (c *Conn) Receive(ctx context.Context, instance string, fn func(context.Context, sdk.Received) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.channel.Receive(ctx)
	if err != nil {
		return transport(err)
	}
	if err := stream.Send(&pb.ReceiveRequest{Msg: &pb.ReceiveRequest_Start{Start: &pb.ReceiveStart{Instance: instance}}}); err != nil {
		return recvErr(stream.RecvMsg(new(pb.ReceiveEvent)), err)
	}
	for {
		ev, err := stream.Recv()
		if err != nil {
			if err := ctxEnded(ctx, err); err != nil {
				return err
			}
			return recvErr(err, err)
		}
		ack := &pb.ReceiveAck{Seq: ev.Seq}
		if err := fn(ctx, sdk.Received{Messages: inboundFromProto(ev.Messages), Statuses: statusesFromProto(ev.Statuses)}); err != nil {
			ack.Error = err.Error()
		}
		if err := stream.Send(&pb.ReceiveRequest{Msg: &pb.ReceiveRequest_Ack{Ack: ack}}); err != nil {
			if err := ctxEnded(ctx, err); err != nil {
				return err // fn ended ctx, or it ran out
			}
			return recvErr(stream.RecvMsg(new(pb.ReceiveEvent)), err)
		}
	}
}

// ctxEnded returns ctx's error when the call failed with err because ctx
// ended. The plugin enforces the deadline the call carried, and its timer
// may fire a moment before ctx's own: a DeadlineExceeded within a second of
// the deadline, or any failure within its last moments (the plugin's
// handler saw its context end), waits for ctx.
func ctxEnded(ctx context.Context, err error) error {
	if d, ok := ctx.Deadline(); ok && ctx.Err() == nil {
		left := time.Until(d)
		if left < deadlineSlack || (left < time.Second && status.Code(err) == codes.DeadlineExceeded) {
			t := time.NewTimer(left + 100*time.Millisecond)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}
	return ctx.Err()
}

// deadlineSlack is how close to a call's deadline a plugin's failure counts
// as the deadline's doing.
const deadlineSlack = 100 * time.Millisecond

// recvErr picks the informative error of a broken stream: a failed Send
// returns io.EOF and the status comes from the next Recv.
func recvErr(recv, send error) error {
	if recv == nil || recv == io.EOF {
		recv = send
	}
	if status.Code(recv) == codes.Unimplemented {
		return ErrNotPolling
	}
	if recv == io.EOF {
		return &sdk.Error{Err: errors.New("the plugin ended the receive stream"), Retryable: true}
	}
	return transport(recv)
}

// IntegrationManifest reads an integration plugin's manifest.
func (c *Conn) IntegrationManifest(ctx context.Context) (sdk.IntegrationManifest, error) {
	r, err := c.integration.Manifest(ctx, &pb.IntegrationManifestRequest{})
	if err != nil {
		return sdk.IntegrationManifest{}, transport(err)
	}
	m := sdk.IntegrationManifest{
		Name: r.Name, Version: r.Version, Description: r.Description,
		ConfigSchema: json.RawMessage(r.ConfigSchema), Secrets: r.Secrets,
	}
	for _, a := range r.Actions {
		m.Actions = append(m.Actions, sdk.Action{Name: a.Name, Description: a.Description, Params: json.RawMessage(a.ParamsSchema), Result: json.RawMessage(a.ResultSchema)})
	}
	return m, nil
}

// ConfigureIntegration configures an integration plugin.
func (c *Conn) ConfigureIntegration(ctx context.Context, config json.RawMessage) error {
	r, err := c.integration.Configure(ctx, &pb.IntegrationConfigureRequest{Config: config})
	if err != nil {
		return transport(err)
	}
	return fromProtoError(r.Error)
}

// Invoke runs an integration's action; conv.InvocationID goes as the
// request's id.
func (c *Conn) Invoke(ctx context.Context, action string, params json.RawMessage, conv sdk.Conversation) (json.RawMessage, error) {
	pc := &pb.Conversation{Bot: conv.Bot, ContactId: conv.ContactID, Channel: conv.Channel, ContactExternalId: conv.ContactExternalID}
	if len(conv.Attributes) > 0 {
		b, err := json.Marshal(conv.Attributes)
		if err != nil {
			return nil, sdk.Final(fmt.Errorf("conversation attributes: %w", err))
		}
		pc.Attributes = b
	}
	r, err := c.integration.Invoke(ctx, &pb.InvokeRequest{Action: action, Params: params, Conversation: pc, Id: conv.InvocationID})
	if err != nil {
		return nil, transport(err)
	}
	if r.Error != nil {
		return nil, fromProtoError(r.Error)
	}
	return json.RawMessage(r.Result), nil
}

// TransportError is a call that did not get an answer from the plugin: it
// died, hung past the deadline, or is not there. It is always retryable
// (wrapped in a *sdk.Error).
type TransportError struct {
	Code codes.Code
	Msg  string
}

func (e *TransportError) Error() string {
	switch e.Code {
	case codes.DeadlineExceeded:
		return "plugin call timed out"
	case codes.Canceled:
		return "plugin call cancelled"
	case codes.Unavailable:
		return "plugin unavailable: " + e.Msg
	}
	return "plugin: " + e.Msg
}

// Timeout reports whether the call ran out of time.
func (e *TransportError) Timeout() bool { return e.Code == codes.DeadlineExceeded }

// transport wraps a gRPC status error. codes.Unknown carries the plugin's
// own error (a failed HandleWebhook), retryable.
func transport(err error) error {
	st, _ := status.FromError(err)
	if st.Code() == codes.Unknown {
		return &sdk.Error{Err: errors.New(st.Message()), Retryable: true}
	}
	return &sdk.Error{Err: &TransportError{Code: st.Code(), Msg: st.Message()}, Retryable: true}
}

// IsTimeout reports whether err is a call that ran out of time.
func IsTimeout(err error) bool {
	var t *TransportError
	return errors.As(err, &t) && t.Timeout()
}

func fromProtoError(e *pb.Error) error {
	if e == nil {
		return nil
	}
	msg := e.Message
	if e.Field != "" {
		// The plugin's *sdk.Error put the field in front already.
		if len(msg) > len(e.Field)+2 && msg[:len(e.Field)+2] == e.Field+": " {
			msg = msg[len(e.Field)+2:]
		}
	}
	return &sdk.Error{Err: errors.New(msg), Retryable: e.Retryable, RetryAfter: time.Duration(e.RetryAfterMs) * time.Millisecond, Field: e.Field}
}
