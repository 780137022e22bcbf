package webchat_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/webchat"
)

// readCounter counts the conversation reads of the web chat.
type readCounter struct {
	store.Store
	n atomic.Int64
}

func (r *readCounter) Messages(ctx context.Context, contact string, q store.MessageQuery) ([]store.Message, string, error) {
	r.n.Add(1)
	return r.Store.Messages(ctx, contact, q)
}

// TestTurnsAreDeliveredFromMemory: once a socket caught up, the turns of
// its conversation come from the commit hook, not from the store, and each
// is written once.
func TestTurnsAreDeliveredFromMemory(t *testing.T) {
	rc := &readCounter{}
	e := setup(t, func(c *webchat.Config) {
		rc.Store = c.Store
		c.Store = rc
	})
	a := e.connect("", 0)
	b := e.connect(a.token, 0) // another tab: poked by the commits
	catchUp := rc.n.Load()
	if catchUp != 2 {
		t.Fatalf("%d store reads for two catch-ups", catchUp)
	}
	a.say("m1", "hi")
	eq(t, "a turn 1", a.messages(2), "1:user:hi", "2:bot:Hi! What's your name?")
	a.take("ack")
	a.say("m2", "Ann")
	eq(t, "a turn 2", a.messages(2), "3:user:Ann", "4:bot:Nice to meet you, Ann.")
	a.take("ack")
	eq(t, "b", b.messages(4), "1:user:hi", "2:bot:Hi! What's your name?", "3:user:Ann", "4:bot:Nice to meet you, Ann.")
	a.quiet(50 * time.Millisecond)
	b.quiet(50 * time.Millisecond)
	if n := rc.n.Load() - catchUp; n != 0 {
		t.Fatalf("%d store reads for two turns", n)
	}
}

// TestLongFramesAndPings: frames longer than 125 bytes (16-bit lengths) go
// out intact, and a client's ping is answered between deliveries.
func TestLongFramesAndPings(t *testing.T) {
	e := setup(t, nil)
	c := e.connect("", 0)
	pongs := make(chan string, 1)
	c.ws.SetPongHandler(func(s string) error { pongs <- s; return nil })
	if err := c.ws.WriteControl(websocket.PingMessage, []byte("p1"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	c.say("m1", "hi")
	long := strings.Repeat("é", 3000)
	c.say("m2", long)
	eq(t, "turns", c.messages(4), "1:user:hi", "2:bot:Hi! What's your name?", "3:user:"+long, "4:bot:Nice to meet you, "+long+".")
	select {
	case p := <-pongs:
		if p != "p1" {
			t.Fatalf("pong %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pong")
	}
}

// TestCloseHandshake: a client's close frame is answered with one.
func TestCloseHandshake(t *testing.T) {
	e := setup(t, nil)
	c := e.connect("", 0)
	c.say("m1", "hi")
	c.messages(2)
	if err := c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := c.read(5 * time.Second)
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				t.Fatalf("expected the close frame answered, got %v", err)
			}
			break
		}
	}
	e.waitSockets(t, 0, "the socket after its close")
}
