package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/switchboard-bots/switchboard/plugins/internal/conv"
	"github.com/switchboard-bots/switchboard/plugins/internal/wire"
	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
)

// calls tracks the calls being handled, so that Ping can tell the host
// about calls that outlived their deadline: a plugin stuck in a handler
// that ignores ctx is hung, and only the plugin can see it (the host's
// side of the call ends at the deadline either way).
type calls struct {
	mu   sync.Mutex
	next uint64
	live map[uint64]time.Time // call → deadline (zero: none)
}

func (c *calls) start(ctx context.Context) (done func()) {
	dl, _ := ctx.Deadline()
	c.mu.Lock()
	if c.live == nil {
		c.live = make(map[uint64]time.Time)
	}
	c.next++
	id := c.next
	c.live[id] = dl
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.live, id)
		c.mu.Unlock()
	}
}

func (c *calls) count(overdueAfter time.Duration) (inFlight, overdue int64) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, dl := range c.live {
		inFlight++
		if !dl.IsZero() && now.After(dl.Add(overdueAfter)) {
			overdue++
		}
	}
	return inFlight, overdue
}

// guard runs a handler, tracking it and turning a panic into a final error
// so that one bad message does not take the plugin down.
func guard[T any](c *calls, ctx context.Context, what string, f func() (T, error)) (res T, err error) {
	defer c.start(ctx)()
	defer func() {
		if r := recover(); r != nil {
			Logger().Error("plugin panicked", "call", what, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = Final(fmt.Errorf("plugin panicked in %s: %v", what, r))
		}
	}()
	return f()
}

type pluginServer struct {
	pb.UnimplementedPluginServer
	kind  pb.Kind
	calls *calls
}

func (s *pluginServer) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return &pb.DescribeResponse{Kind: s.kind, ProtocolVersion: wire.ProtocolVersion, SdkVersion: Version}, nil
}

func (s *pluginServer) Ping(_ context.Context, r *pb.PingRequest) (*pb.PingResponse, error) {
	in, over := s.calls.count(time.Duration(r.OverdueAfterMs) * time.Millisecond)
	return &pb.PingResponse{InFlight: in, Overdue: over}, nil
}

type channelServer struct {
	pb.UnimplementedChannelServer
	impl  Channel
	calls *calls
}

func (s *channelServer) Manifest(context.Context, *pb.ManifestRequest) (*pb.ChannelManifest, error) {
	m := s.impl.Manifest()
	_, polling := s.impl.(Poller)
	_, media := s.impl.(MediaFetcher)
	return &pb.ChannelManifest{
		Name: m.Name, Version: m.Version, Description: m.Description,
		ConfigSchema: m.ConfigSchema, Secrets: m.Secrets,
		Capabilities: capabilitiesToProto(m.Capabilities), Polling: polling, FetchesMedia: media,
	}, nil
}

func (s *channelServer) Configure(ctx context.Context, r *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	_, err := guard(s.calls, ctx, "Configure", func() (struct{}, error) {
		return struct{}{}, s.impl.Configure(ctx, r.Instance, json.RawMessage(r.Config))
	})
	return &pb.ConfigureResponse{Error: errorToProto(err)}, nil
}

func (s *channelServer) HandleWebhook(ctx context.Context, r *pb.WebhookRequest) (*pb.WebhookResponse, error) {
	req := &WebhookRequest{
		Bot: r.Bot, Method: r.Method, Path: r.Path, Query: r.Query,
		Header: conv.HeadersFromProto(r.Headers), Body: r.Body, RemoteAddr: r.RemoteAddr,
	}
	res, err := guard(s.calls, ctx, "HandleWebhook", func() (*WebhookResult, error) {
		return s.impl.HandleWebhook(ctx, r.Instance, req)
	})
	if err != nil {
		// The runtime answers 500 and the provider delivers again.
		return nil, status.Error(codes.Unknown, err.Error())
	}
	if res == nil {
		res = &WebhookResult{}
	}
	return &pb.WebhookResponse{
		Status: int32(res.Status), Headers: conv.HeadersToProto(res.Header), Body: res.Body,
		Messages: inboundToProto(res.Messages), Statuses: statusesToProto(res.Statuses),
	}, nil
}

func (s *channelServer) Send(ctx context.Context, r *pb.SendRequest) (*pb.SendResponse, error) {
	m := &OutboundMessage{
		ID: r.Id, Recipient: r.Recipient, Content: conv.ContentFromProto(r.Content),
		ReplyTo: r.ReplyTo, Thread: r.Thread, LastInbound: conv.FromUnixMs(r.LastInboundUnixMs), Metadata: r.Metadata,
	}
	id, err := guard(s.calls, ctx, "Send", func() (string, error) {
		return s.impl.Send(ctx, r.Instance, m)
	})
	return &pb.SendResponse{ExternalId: id, Error: errorToProto(err)}, nil
}

func (s *channelServer) Receive(stream pb.Channel_ReceiveServer) error {
	poller, ok := s.impl.(Poller)
	if !ok {
		return status.Error(codes.Unimplemented, "this channel does not poll")
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return status.Error(codes.InvalidArgument, "the first message must be a ReceiveStart")
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()

	var (
		mu      sync.Mutex
		seq     uint64
		pending = map[uint64]chan string{}
	)
	// The ack reader is owned by this stream: Recv fails as soon as the
	// stream ends (the host goes, or this handler returns), and it exits.
	go func() {
		defer cancel()
		for {
			m, err := stream.Recv()
			if err != nil {
				return
			}
			ack := m.GetAck()
			if ack == nil {
				continue
			}
			mu.Lock()
			ch := pending[ack.Seq]
			delete(pending, ack.Seq)
			mu.Unlock()
			if ch != nil {
				ch <- ack.Error
			}
		}
	}()
	var sendMu sync.Mutex
	emit := func(ectx context.Context, r Received) error {
		mu.Lock()
		seq++
		n := seq
		ch := make(chan string, 1)
		pending[n] = ch
		mu.Unlock()
		sendMu.Lock()
		err := stream.Send(&pb.ReceiveEvent{Seq: n, Messages: inboundToProto(r.Messages), Statuses: statusesToProto(r.Statuses)})
		sendMu.Unlock()
		if err != nil {
			return Retryable(fmt.Errorf("host went away: %w", err), 0)
		}
		select {
		case e := <-ch:
			if e != "" {
				return Retryable(errors.New("host refused: "+e), 0)
			}
			return nil
		case <-ectx.Done():
			return ectx.Err()
		case <-ctx.Done():
			return Retryable(errors.New("host went away"), 0)
		}
	}
	_, err = guard(&calls{}, ctx, "Poll", func() (struct{}, error) {
		return struct{}{}, poller.Poll(ctx, start.Instance, emit)
	})
	if err != nil && ctx.Err() == nil {
		return status.Error(codes.Unknown, err.Error())
	}
	return nil
}

type integrationServer struct {
	pb.UnimplementedIntegrationServer
	impl  Integration
	calls *calls
}

func (s *integrationServer) Manifest(context.Context, *pb.IntegrationManifestRequest) (*pb.IntegrationManifest, error) {
	m := s.impl.Manifest()
	out := &pb.IntegrationManifest{
		Name: m.Name, Version: m.Version, Description: m.Description,
		ConfigSchema: m.ConfigSchema, Secrets: m.Secrets,
	}
	for _, a := range m.Actions {
		out.Actions = append(out.Actions, &pb.Action{Name: a.Name, Description: a.Description, ParamsSchema: a.Params, ResultSchema: a.Result})
	}
	return out, nil
}

func (s *integrationServer) Configure(ctx context.Context, r *pb.IntegrationConfigureRequest) (*pb.IntegrationConfigureResponse, error) {
	c, ok := s.impl.(IntegrationConfigurer)
	if !ok {
		return &pb.IntegrationConfigureResponse{}, nil
	}
	_, err := guard(s.calls, ctx, "Configure", func() (struct{}, error) {
		return struct{}{}, c.Configure(ctx, json.RawMessage(r.Config))
	})
	return &pb.IntegrationConfigureResponse{Error: errorToProto(err)}, nil
}

func (s *integrationServer) Invoke(ctx context.Context, r *pb.InvokeRequest) (*pb.InvokeResponse, error) {
	conv := Conversation{InvocationID: r.Id}
	if c := r.Conversation; c != nil {
		conv = Conversation{Bot: c.Bot, ContactID: c.ContactId, Channel: c.Channel, ContactExternalID: c.ContactExternalId, InvocationID: r.Id}
		if len(c.Attributes) > 0 {
			if err := json.Unmarshal(c.Attributes, &conv.Attributes); err != nil {
				return &pb.InvokeResponse{Error: errorToProto(Final(fmt.Errorf("conversation attributes: %w", err)))}, nil
			}
		}
	}
	res, err := guard(s.calls, ctx, "Invoke", func() (json.RawMessage, error) {
		return s.impl.Invoke(ctx, r.Action, json.RawMessage(r.Params), conv)
	})
	if err != nil {
		return &pb.InvokeResponse{Error: errorToProto(err)}, nil
	}
	if len(res) > 0 && !json.Valid(res) {
		return &pb.InvokeResponse{Error: errorToProto(Final(fmt.Errorf("action %s returned invalid JSON", r.Action)))}, nil
	}
	return &pb.InvokeResponse{Result: res}, nil
}
