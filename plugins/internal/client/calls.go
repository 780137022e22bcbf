package client

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
)

// calls multiplexes a channel plugin's HandleWebhook and Send calls over
// one Calls stream (a unary call each costs the plugin and the host a new
// HTTP/2 stream, its headers and a goroutine). The stream is opened at the
// first call and again after it broke; calls in flight when it breaks fail
// as unavailable, as unary calls to a plugin that went away do. A plugin
// that does not serve Calls gets unary calls.
type calls struct {
	open func(ctx context.Context) (pb.Channel_CallsClient, error)

	mu          sync.Mutex
	st          *callStream // nil: none open
	unsupported bool
	next        uint64
}

// callStream is one open Calls stream and its calls waiting for answers.
// One goroutine, its reader, owns receiving; it ends when the stream
// breaks (the plugin died or closed it, or the connection closed).
type callStream struct {
	stream pb.Channel_CallsClient
	cancel context.CancelFunc
	sendMu sync.Mutex

	mu      sync.Mutex
	waiting map[uint64]chan *pb.CallResponse
	err     error // set when broken: what waiting calls fail with
}

// errUnsupported sends a call the unary way.
var errUnsupported = errors.New("the plugin does not serve Calls")

// do makes one call over the stream; errUnsupported means: make it unary.
func (c *calls) do(ctx context.Context, req *pb.CallRequest) (*pb.CallResponse, error) {
	s, id, err := c.stream()
	if err != nil {
		return nil, err
	}
	req.Id = id
	if dl, ok := ctx.Deadline(); ok {
		req.TimeoutMs = max(time.Until(dl).Milliseconds(), 1)
	}
	ch := make(chan *pb.CallResponse, 1)
	if err := s.wait(id, ch); err != nil {
		return nil, err
	}
	// A failed send means a broken stream, which its reader sees too and
	// then fails the calls waiting on it, this one included.
	_ = s.send(req)
	select {
	case r, ok := <-ch:
		if !ok {
			return nil, s.failure()
		}
		return r, nil
	case <-ctx.Done():
		s.forget(id)
		_ = s.send(&pb.CallRequest{Id: id, Call: &pb.CallRequest_Cancel{Cancel: true}})
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

// stream returns the open stream and a new call id, opening the stream if
// none is.
func (c *calls) stream() (*callStream, uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.unsupported {
		return nil, 0, errUnsupported
	}
	c.next++
	if c.st != nil {
		return c.st, c.next, nil
	}
	// The stream outlives the call that opened it: its own context, ended
	// when it breaks.
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.open(ctx)
	if err != nil {
		cancel()
		if status.Code(err) == codes.Unimplemented {
			c.unsupported = true
			return nil, 0, errUnsupported
		}
		return nil, 0, err
	}
	s := &callStream{stream: stream, cancel: cancel, waiting: map[uint64]chan *pb.CallResponse{}}
	c.st = s
	go c.read(s)
	return s, c.next, nil
}

// read hands each answer to its call until the stream breaks.
func (c *calls) read(s *callStream) {
	for {
		r, err := s.stream.Recv()
		if err != nil {
			if status.Code(err) == codes.Unimplemented {
				c.mu.Lock()
				c.unsupported = true
				c.mu.Unlock()
				err = errUnsupported
			}
			c.broken(s, err)
			return
		}
		s.mu.Lock()
		ch := s.waiting[r.Id]
		delete(s.waiting, r.Id)
		s.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

// broken retires s: the next call opens a new stream, and the calls
// waiting on s fail with err (Unavailable, unless the plugin has no Calls).
func (c *calls) broken(s *callStream, err error) {
	c.mu.Lock()
	if c.st == s {
		c.st = nil
	}
	c.mu.Unlock()
	s.cancel()
	if !errors.Is(err, errUnsupported) {
		err = status.Errorf(codes.Unavailable, "the plugin's call stream broke: %v", status.Convert(err).Message())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.err = err
	for id, ch := range s.waiting {
		close(ch)
		delete(s.waiting, id)
	}
}

func (s *callStream) wait(id uint64, ch chan *pb.CallResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.waiting[id] = ch
	return nil
}

func (s *callStream) forget(id uint64) {
	s.mu.Lock()
	delete(s.waiting, id)
	s.mu.Unlock()
}

func (s *callStream) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *callStream) send(req *pb.CallRequest) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return s.stream.Send(req)
}

// failed turns a CallFailure into the error the unary call would have
// returned.
func failed(f *pb.CallFailure) error {
	return status.Error(codes.Code(f.Code), f.Message)
}
