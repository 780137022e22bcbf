package client

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// fakeChannel is a plugin's gRPC server written by hand: unary Send
// always, and Calls only when calls is set.
type fakeChannel struct {
	pb.UnimplementedChannelServer
	unary atomic.Int32
	calls func(pb.Channel_CallsServer) error
}

func (f *fakeChannel) Send(_ context.Context, r *pb.SendRequest) (*pb.SendResponse, error) {
	f.unary.Add(1)
	return &pb.SendResponse{ExternalId: "unary:" + r.Recipient}, nil
}

func (f *fakeChannel) Calls(s pb.Channel_CallsServer) error {
	if f.calls == nil {
		return status.Error(codes.Unimplemented, "no Calls")
	}
	return f.calls(s)
}

func serveFake(t *testing.T, f *fakeChannel) *Conn {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterChannelServer(srv, f)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return New(cc)
}

func send(t *testing.T, c *Conn, to string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Send(ctx, "i", &sdk.OutboundMessage{Recipient: to})
}

// A plugin built before Calls existed gets unary calls, from the first one
// on.
func TestCallsFallBackToUnary(t *testing.T) {
	f := &fakeChannel{}
	c := serveFake(t, f)
	for _, to := range []string{"a", "b", "c"} {
		if id, err := send(t, c, to); err != nil || id != "unary:"+to {
			t.Fatalf("send %s: %q, %v", to, id, err)
		}
	}
	if n := f.unary.Load(); n != 3 {
		t.Fatalf("%d unary sends", n)
	}
}

// A stream that breaks under a call fails that call as a plugin that went
// away (retryable), and the next call opens a new stream.
func TestCallsStreamBreaks(t *testing.T) {
	var streams atomic.Int32
	f := &fakeChannel{calls: func(s pb.Channel_CallsServer) error {
		n := streams.Add(1)
		for {
			req, err := s.Recv()
			if err != nil {
				return nil
			}
			if n == 1 {
				return status.Error(codes.Internal, "the plugin's stream handler failed") // breaks the stream under the call
			}
			if err := s.Send(&pb.CallResponse{Id: req.Id, Result: &pb.CallResponse_Send{Send: &pb.SendResponse{ExternalId: "stream:" + req.GetSend().Recipient}}}); err != nil {
				return err
			}
		}
	}}
	c := serveFake(t, f)
	_, err := send(t, c, "a")
	var te *TransportError
	if !sdk.IsRetryable(err) || !errors.As(err, &te) || te.Code != codes.Unavailable {
		t.Fatalf("a call on a broken stream: %v", err)
	}
	if id, err := send(t, c, "b"); err != nil || id != "stream:b" {
		t.Fatalf("the next call: %q, %v", id, err)
	}
	if streams.Load() != 2 || f.unary.Load() != 0 {
		t.Fatalf("%d streams, %d unary calls", streams.Load(), f.unary.Load())
	}
}

// A call whose context ends fails as a unary call would, and the plugin is
// told to cancel it.
func TestCallsCancel(t *testing.T) {
	cancelled := make(chan uint64, 1)
	f := &fakeChannel{calls: func(s pb.Channel_CallsServer) error {
		for {
			req, err := s.Recv()
			if err != nil {
				return nil
			}
			if req.GetCancel() {
				cancelled <- req.Id
			}
			// Sends are never answered.
		}
	}}
	c := serveFake(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Send(ctx, "i", &sdk.OutboundMessage{Recipient: "a"})
	if !IsTimeout(err) {
		t.Fatalf("a call past its deadline: %v", err)
	}
	select {
	case id := <-cancelled:
		if id == 0 {
			t.Fatal("cancelled call 0")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the plugin was not told to cancel the call")
	}
}
