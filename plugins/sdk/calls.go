package sdk

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
)

// maxStreamCalls bounds the calls of one Calls stream running at once (its
// workers); the stream is not read while that many run.
const maxStreamCalls = 256

// Calls serves HandleWebhook and Send calls over one stream: each request
// runs with its own deadline, as a unary call would, on one of the
// stream's workers, and its answer goes back under its id. Workers are
// started as calls need them (up to maxStreamCalls) and kept until the
// stream ends, so a call runs on a goroutine whose stack has grown
// already.
func (s *channelServer) Calls(stream pb.Channel_CallsServer) error {
	ctx, cancelAll := context.WithCancel(stream.Context())
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex // guards running and stream.Send
		running = map[uint64]context.CancelFunc{}
		work    = make(chan func())
		workers int
		idle    = make(chan struct{}, maxStreamCalls) // a token per idle worker
	)
	// The calls still running end with the stream, and every worker has
	// ended before this returns: gRPC allows no Send after it.
	defer func() {
		close(work)
		cancelAll()
		wg.Wait()
	}()
	answer := func(r *pb.CallResponse) {
		mu.Lock()
		defer mu.Unlock()
		delete(running, r.Id)
		_ = stream.Send(r) // a broken stream ends the loop below
	}
	worker := func(first func()) {
		defer wg.Done()
		for f := first; f != nil; {
			f()
			idle <- struct{}{}
			var ok bool
			if f, ok = <-work; !ok {
				return
			}
		}
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
		task := func() {
			defer cancel()
			answer(s.call(cctx, req))
		}
		select {
		case <-idle: // a worker is free (or about to be)
			work <- task
			continue
		default:
		}
		if workers < maxStreamCalls {
			workers++
			wg.Add(1)
			go worker(task)
			continue
		}
		// All workers busy: wait for one, or for the stream's end.
		select {
		case <-idle:
			work <- task
		case <-ctx.Done():
			cancel()
			return nil
		}
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
