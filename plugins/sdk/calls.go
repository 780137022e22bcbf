package sdk

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
)

// maxStreamCalls bounds the calls of one Calls stream running at once; the
// stream is not read while that many run.
const maxStreamCalls = 256

// Calls serves HandleWebhook and Send calls over one stream: each request
// runs on a goroutine of its own with its deadline, as a unary call would,
// and its answer goes back under its id.
func (s *channelServer) Calls(stream pb.Channel_CallsServer) error {
	ctx, cancelAll := context.WithCancel(stream.Context())
	defer cancelAll()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex // guards running and stream.Send
		running = map[uint64]context.CancelFunc{}
		slots   = make(chan struct{}, maxStreamCalls)
	)
	// Every call's goroutine has ended before this returns: gRPC allows no
	// Send after it.
	defer wg.Wait()
	answer := func(r *pb.CallResponse) {
		mu.Lock()
		defer mu.Unlock()
		delete(running, r.Id)
		_ = stream.Send(r) // a broken stream ends the loop below
	}
	for {
		req, err := stream.Recv()
		if err != nil {
			return nil // the host closed the stream, or the connection went
		}
		if req.GetCancel() {
			mu.Lock()
			if cancel := running[req.Id]; cancel != nil {
				cancel()
			}
			mu.Unlock()
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		var cctx context.Context
		var cancel context.CancelFunc
		if req.TimeoutMs > 0 {
			cctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMs)*time.Millisecond)
		} else {
			cctx, cancel = context.WithCancel(ctx)
		}
		mu.Lock()
		running[req.Id] = cancel
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			defer cancel()
			answer(s.call(cctx, req))
		}()
	}
}

// call runs one request of a Calls stream.
func (s *channelServer) call(ctx context.Context, req *pb.CallRequest) *pb.CallResponse {
	r := &pb.CallResponse{Id: req.Id}
	var err error
	switch c := req.Call.(type) {
	case *pb.CallRequest_Send:
		var res *pb.SendResponse
		if res, err = s.Send(ctx, c.Send); err == nil {
			r.Result = &pb.CallResponse_Send{Send: res}
		}
	case *pb.CallRequest_Webhook:
		var res *pb.WebhookResponse
		if res, err = s.HandleWebhook(ctx, c.Webhook); err == nil {
			r.Result = &pb.CallResponse_Webhook{Webhook: res}
		}
	default:
		err = status.Error(codes.InvalidArgument, "a call is a send or a webhook")
	}
	if err != nil {
		st := status.Convert(err)
		r.Result = &pb.CallResponse_Failure{Failure: &pb.CallFailure{Code: int32(st.Code()), Message: st.Message()}}
	}
	return r
}
