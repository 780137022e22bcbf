package webchat_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/router"
	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"

	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/outbox"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/webchat"
)

const botSrc = `
id: support
skills:
  /start:
    - text: "Hi! What's your name?"
    - listen: name
      timeout: 10m
      on_timeout: nudge
    - text: "Nice to meet you, {{ name }}."
  nudge:
    - text: Still there?
  /default:
    - goto: /start
  /_page_visit:
    - text: "You are looking at {{ event.data.url }}."
`

type clock struct {
	ns atomic.Int64
	// stall, when set, makes every reading of the clock (one at every
	// step) take that long.
	stall atomic.Int64
}

func (c *clock) now() time.Time {
	if d := c.stall.Load(); d > 0 {
		time.Sleep(time.Duration(d))
	}
	return time.Unix(0, c.ns.Load()).UTC()
}

func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

type env struct {
	t    *testing.T
	st   store.Store
	p    *pipeline.Pipeline
	d    *outbox.Dispatcher
	wc   *webchat.Webchat
	clk  *clock
	addr string
}

var secret = []byte("0123456789abcdef0123456789abcdef")

// liveWake wires Webchat.OnCommit; off, timer messages reach the sockets
// through the outbox only.
var liveWake = true

func setup(t *testing.T, mod func(*webchat.Config)) *env {
	t.Helper()
	st, err := store.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	bot, ds := flows.Load("support.yaml", []byte(botSrc))
	if bot == nil {
		t.Fatal(ds)
	}
	e := &env{t: t, st: st, clk: &clock{}}
	e.clk.ns.Store(time.Now().UnixNano())
	// Wired as serve wires them: the pipeline's commits wake the outbox
	// and the visitor's sockets.
	var d atomic.Pointer[outbox.Dispatcher]
	var wc atomic.Pointer[webchat.Webchat]
	live := liveWake
	e.p = pipeline.New(pipeline.Config{
		Store: st, Engine: engine.New(nil), Shards: 4, TimerPoll: 5 * time.Millisecond, Now: e.clk.now,
		OnCommit: func(c pipeline.Committed) {
			if d := d.Load(); d != nil {
				d.Notify()
			}
			if w := wc.Load(); w != nil && live {
				w.OnCommit(c)
			}
		},
	})
	e.p.SetBots(map[string]*flows.Bot{bot.ID: bot})
	e.p.Start()
	cfg := webchat.Config{Pipeline: e.p, Store: st, Secret: secret, OfflineRetry: 20 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	e.wc, err = webchat.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wc.Store(e.wc)
	e.d = outbox.New(outbox.Config{
		Store: st, Now: e.clk.now, Poll: 10 * time.Millisecond, Backoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Senders: map[string]outbox.Sender{webchat.Channel: e.wc.Sender()},
	})
	d.Store(e.d)
	r := router.New()
	e.wc.Mount(r)
	srv := &fasthttp.Server{Handler: r.Handler}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.ShutdownWithContext(ctx)
		if err := e.wc.Close(ctx); err != nil {
			t.Errorf("webchat close: %v", err)
		}
		e.p.Close(ctx)
		e.d.Close(ctx)
		st.Close()
	})
	return e
}

// client is a test web chat client.
type client struct {
	t      *testing.T
	ws     *websocket.Conn
	token  string
	frames []frame // read but not yet taken
}

type frame struct {
	Type      string          `json:"type"`
	Token     string          `json:"token"`
	Contact   json.RawMessage `json:"contact"`
	Seq       uint64          `json:"seq"`
	ID        string          `json:"id"`
	Author    string          `json:"author"`
	Text      string          `json:"text"`
	Duplicate bool            `json:"duplicate"`
	Code      string          `json:"code"`
}

func (e *env) dial() *websocket.Conn {
	e.t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+e.addr+"/webchat/socket", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { ws.Close() })
	return ws
}

// connect says hello and reads the welcome.
func (e *env) connect(token string, after uint64) *client {
	e.t.Helper()
	c := &client{t: e.t, ws: e.dial()}
	c.send(map[string]any{"type": "hello", "bot": "support", "token": token, "after": after})
	f := c.next()
	if f.Type != "welcome" || f.Token == "" {
		e.t.Fatalf("expected a welcome, got %+v", f)
	}
	c.token = f.Token
	return c
}

func (c *client) send(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) say(id, text string) {
	c.t.Helper()
	c.send(map[string]any{"type": "message", "id": id, "text": text})
}

func (c *client) read(timeout time.Duration) (frame, error) {
	var f frame
	c.ws.SetReadDeadline(time.Now().Add(timeout))
	_, data, err := c.ws.ReadMessage()
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		c.t.Fatalf("frame %s: %v", data, err)
	}
	return f, nil
}

func (c *client) next() frame {
	c.t.Helper()
	if len(c.frames) > 0 {
		f := c.frames[0]
		c.frames = c.frames[1:]
		return f
	}
	f, err := c.read(5 * time.Second)
	if err != nil {
		c.t.Fatalf("reading: %v", err)
	}
	return f
}

// messages reads frames until n message frames came and returns them as
// "seq:author:text"; other frames are kept in c.frames.
func (c *client) messages(n int) []string {
	c.t.Helper()
	var out []string
	var other []frame
	for len(out) < n {
		f := c.next()
		if f.Type == "message" {
			out = append(out, fmt.Sprintf("%d:%s:%s", f.Seq, f.Author, f.Text))
		} else {
			other = append(other, f)
		}
	}
	c.frames = append(other, c.frames...)
	return out
}

// take returns the first frame of type typ, keeping the others.
func (c *client) take(typ string) frame {
	c.t.Helper()
	for i, f := range c.frames {
		if f.Type == typ {
			c.frames = append(c.frames[:i:i], c.frames[i+1:]...)
			return f
		}
	}
	for {
		f, err := c.read(5 * time.Second)
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", typ, err)
		}
		if f.Type == typ {
			return f
		}
		c.frames = append(c.frames, f)
	}
}

// quiet fails if a message frame comes within d.
func (c *client) quiet(d time.Duration) {
	c.t.Helper()
	for _, f := range c.frames {
		if f.Type == "message" {
			c.t.Fatalf("unexpected message %+v", f)
		}
	}
	for {
		f, err := c.read(d)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return
			}
			c.t.Fatalf("reading: %v", err)
		}
		if f.Type == "message" {
			c.t.Fatalf("unexpected message %+v", f)
		}
	}
}

func eq(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Fatalf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestTwoTurnConversation(t *testing.T) {
	e := setup(t, nil)
	c := e.connect("", 0)
	c.say("m1", "hi")
	// A quick reply comes alone (no typing frame), with the ack.
	if f := c.next(); f.Type != "message" {
		t.Fatalf("expected the echo first, got %+v", f)
	}
	eq(t, "turn 1", c.messages(1), "2:bot:Hi! What's your name?")
	if a := c.next(); a.Type != "ack" || a.ID != "m1" || a.Duplicate {
		t.Fatalf("ack %+v", a)
	}
	c.say("m2", "Ann")
	eq(t, "turn 2", c.messages(2), "3:user:Ann", "4:bot:Nice to meet you, Ann.")
	c.take("ack")
	c.quiet(100 * time.Millisecond)
	// The replies are stored as sent: the sockets deliver them, not the
	// outbox.
	id := pipeline.ContactID("support", webchat.Channel, visitor(t, c.token))
	waitSent(t, e.st, id, 2, 4)
	ms, err := e.st.Outbox(context.Background(), e.clk.now().Add(time.Hour), 10)
	if err != nil || len(ms) != 0 {
		t.Fatalf("outbox %v %+v", err, ms)
	}
}

// TestTyping: a step slower than TypingDelay gets a typing frame before its
// replies; NoDelay sends one before every message is handled.
func TestTyping(t *testing.T) {
	for name, delay := range map[string]time.Duration{"NoDelay": webchat.NoDelay, "20ms": 20 * time.Millisecond} {
		t.Run(name, func(t *testing.T) {
			e := setup(t, func(c *webchat.Config) { c.TypingDelay = delay })
			e.clk.stall.Store(int64(100 * time.Millisecond))
			c := e.connect("", 0)
			for i, text := range []string{"hi", "Ann"} {
				id := fmt.Sprintf("m%d", i+1)
				c.say(id, text)
				if f := c.next(); f.Type != "typing" {
					t.Fatalf("expected typing first, got %+v", f)
				}
				c.messages(2)
				if a := c.next(); a.Type != "ack" || a.ID != id {
					t.Fatalf("expected the ack, got %+v", a)
				}
			}
			c.quiet(50 * time.Millisecond)
		})
	}
}

func base64URL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func visitor(t *testing.T, token string) string {
	t.Helper()
	p, _, _ := strings.Cut(token, ".")
	b, err := base64URL(p)
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ V string }
	json.Unmarshal(b, &c)
	return c.V
}

func waitSent(t *testing.T, st store.Store, contact string, seqs ...uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ms, _, err := st.Messages(context.Background(), contact, store.MessageQuery{After: "0"})
		if err != nil {
			t.Fatal(err)
		}
		ok := true
		for _, s := range seqs {
			if s > uint64(len(ms)) || ms[s-1].Status != store.StatusSent {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages %v not sent: %+v", seqs, ms)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReconnectCatchesUpExactly(t *testing.T) {
	e := setup(t, nil)
	a := e.connect("", 0)
	a.say("m1", "hi")
	eq(t, "first", a.messages(2), "1:user:hi", "2:bot:Hi! What's your name?")
	a.ws.Close()

	// Another tab of the same visitor goes on while the first is away.
	b := e.connect(a.token, 2)
	if b.token != a.token {
		t.Fatal("the token changed on reconnect")
	}
	b.say("m2", "Ann")
	eq(t, "tab b", b.messages(2), "3:user:Ann", "4:bot:Nice to meet you, Ann.")
	b.ws.Close()

	// The first tab comes back with the last seq it saw.
	a2 := e.connect(a.token, 2)
	eq(t, "catch-up", a2.messages(2), "3:user:Ann", "4:bot:Nice to meet you, Ann.")
	a2.quiet(100 * time.Millisecond)

	// A page load without history (after 0) gets the whole conversation.
	a3 := e.connect(a.token, 0)
	eq(t, "history", a3.messages(4), "1:user:hi", "2:bot:Hi! What's your name?", "3:user:Ann", "4:bot:Nice to meet you, Ann.")
	a3.quiet(50 * time.Millisecond)
}

func TestOfflineMessagesAreCaughtUpAndMarkedSent(t *testing.T) {
	e := setup(t, nil)
	a := e.connect("", 0)
	a.say("m1", "hi")
	eq(t, "first", a.messages(2), "1:user:hi", "2:bot:Hi! What's your name?")
	a.ws.Close()
	id := pipeline.ContactID("support", webchat.Channel, visitor(t, a.token))
	waitSent(t, e.st, id, 2)
	// The nudge fires once the server has seen the socket close, with
	// nobody connected: the outbox cannot deliver it.
	e.waitSockets(t, 0, "the closed socket")
	e.clk.add(11 * time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for {
		ms, _, _ := e.st.Messages(context.Background(), id, store.MessageQuery{After: "2"})
		if len(ms) == 1 && ms[0].Attempts >= 1 && ms[0].Error != "" && ms[0].Status != store.StatusSent {
			if ms[0].Content.Text != "Still there?" || !strings.Contains(ms[0].Error, "no open socket") {
				t.Fatalf("nudge %+v", ms[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nudge not attempted: %+v", ms)
		}
		time.Sleep(5 * time.Millisecond)
	}
	a2 := e.connect(a.token, 2)
	eq(t, "catch-up", a2.messages(1), "3:bot:Still there?")
	waitSent(t, e.st, id, 3)
	a2.quiet(100 * time.Millisecond)
}

func TestDuplicateMessageIDIsHandledOnce(t *testing.T) {
	e := setup(t, nil)
	c := e.connect("", 0)
	c.say("m1", "hi")
	eq(t, "first", c.messages(2), "1:user:hi", "2:bot:Hi! What's your name?")
	c.take("ack")
	// The client did not see the ack, reconnects and resends.
	c.ws.Close()
	c2 := e.connect(c.token, 2)
	c2.say("m1", "hi")
	if a := c2.take("ack"); a.ID != "m1" || !a.Duplicate {
		t.Fatalf("ack %+v", a)
	}
	c2.quiet(150 * time.Millisecond)
	id := pipeline.ContactID("support", webchat.Channel, visitor(t, c.token))
	ms, _, _ := e.st.Messages(context.Background(), id, store.MessageQuery{After: "0"})
	if len(ms) != 2 {
		t.Fatalf("%d messages stored", len(ms))
	}
}

func TestTimerMessageIsDeliveredLive(t *testing.T) {
	for _, live := range []bool{true, false} {
		t.Run(fmt.Sprintf("OnCommit=%v", live), func(t *testing.T) {
			liveWake = live
			defer func() { liveWake = true }()
			e := setup(t, nil)
			c := e.connect("", 0)
			c.say("m1", "hi")
			eq(t, "first", c.messages(2), "1:user:hi", "2:bot:Hi! What's your name?")
			e.clk.add(11 * time.Minute)
			eq(t, "nudge", c.messages(1), "3:bot:Still there?")
			waitSent(t, e.st, pipeline.ContactID("support", webchat.Channel, visitor(t, c.token)), 3)
			c.quiet(100 * time.Millisecond)
		})
	}
}

func TestTwoTabsBothGetMessages(t *testing.T) {
	e := setup(t, nil)
	a := e.connect("", 0)
	b := e.connect(a.token, 0)
	a.say("m1", "hi")
	eq(t, "a", a.messages(2), "1:user:hi", "2:bot:Hi! What's your name?")
	eq(t, "b", b.messages(2), "1:user:hi", "2:bot:Hi! What's your name?")
	e.clk.add(11 * time.Minute)
	eq(t, "a nudge", a.messages(1), "3:bot:Still there?")
	eq(t, "b nudge", b.messages(1), "3:bot:Still there?")
	a.quiet(50 * time.Millisecond)
	b.quiet(50 * time.Millisecond)
}

func TestTamperedTokenIsRefused(t *testing.T) {
	e := setup(t, nil)
	c := e.connect("", 0)
	p, mac, _ := strings.Cut(c.token, ".")
	b, _ := base64URL(p)
	forged := strings.Replace(string(b), `"v":"v`, `"v":"x`, 1)
	for _, tok := range []string{
		base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + mac,
		p + "." + mac[:len(mac)-2] + "AA",
		"garbage",
	} {
		ws := e.dial()
		ws.WriteJSON(map[string]any{"type": "hello", "bot": "support", "token": tok})
		cl := &client{t: t, ws: ws}
		f := cl.next()
		if f.Type != "error" || f.Code != "invalid_token" {
			t.Fatalf("token %q: %+v", tok, f)
		}
		_, err := cl.read(5 * time.Second)
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || ce.Text != "invalid_token" {
			t.Fatalf("expected a close frame, got %v", err)
		}
	}
}

func TestUnknownBotAndMissingHello(t *testing.T) {
	e := setup(t, nil)
	for _, hello := range []map[string]any{
		{"type": "hello", "bot": "nope"},
		{"type": "message", "id": "x", "text": "hi"},
	} {
		ws := e.dial()
		ws.WriteJSON(hello)
		cl := &client{t: t, ws: ws}
		if f := cl.next(); f.Type != "error" || (f.Code != "unknown_bot" && f.Code != "hello_required") {
			t.Fatalf("%v: %+v", hello, f)
		}
		_, err := cl.read(5 * time.Second)
		if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
			t.Fatalf("expected a close frame, got %v", err)
		}
	}
}

func TestHTMLIsPassedThroughAsData(t *testing.T) {
	e := setup(t, nil)
	c := e.connect("", 0)
	c.say("m1", "hi")
	c.messages(2)
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>&amp;`
	c.say("m2", evil)
	eq(t, "echo", c.messages(2), "3:user:"+evil, "4:bot:Nice to meet you, "+evil+".")
}

func TestRateLimit(t *testing.T) {
	e := setup(t, func(c *webchat.Config) { c.Rate = 0.001; c.Burst = 2 })
	c := e.connect("", 0)
	c.say("m1", "hi")
	c.say("m2", "Ann")
	c.say("m3", "again")
	if f := c.take("error"); f.Code != "rate_limited" {
		t.Fatalf("%+v", f)
	}
	eq(t, "taken", c.messages(4), "1:user:hi", "2:bot:Hi! What's your name?", "3:user:Ann", "4:bot:Nice to meet you, Ann.")
}

func TestFrameSizeLimit(t *testing.T) {
	e := setup(t, func(c *webchat.Config) { c.MaxFrame = 1024 })
	c := e.connect("", 0)
	c.say("m1", strings.Repeat("a", 2000))
	for {
		_, err := c.read(5 * time.Second)
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
				t.Fatalf("expected close 1009, got %v", err)
			}
			return
		}
	}
}

func TestCloseSendsCloseFrame(t *testing.T) {
	e := setup(t, nil)
	c := e.connect("", 0)
	pending := e.dial() // not greeted yet
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.wc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := c.read(5 * time.Second)
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("expected close 1001, got %v", err)
	}
	pending.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := pending.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("pending socket: expected close 1001, got %v", err)
	}
	if n := e.wc.OpenSockets(); n != 0 {
		t.Fatalf("%d sockets open after Close", n)
	}
	// New sockets are refused.
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+e.addr+"/webchat/socket", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after close: %v %v", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"code":"shutting_down"`) {
		t.Fatalf("body %s", body)
	}
}

func TestPingKeepsAlive(t *testing.T) {
	e := setup(t, func(c *webchat.Config) { c.PingInterval = 20 * time.Millisecond; c.PongWait = 100 * time.Millisecond })
	c := e.connect("", 0)
	var pings atomic.Int32
	c.ws.SetPingHandler(func(data string) error {
		pings.Add(1)
		return c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	// The client's reads answer pings; after several PongWaits the
	// connection is still open.
	go func() {
		for {
			if _, _, err := c.ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	if pings.Load() < 3 {
		t.Fatalf("%d pings", pings.Load())
	}
	if n := e.wc.OpenSockets(); n != 1 {
		t.Fatalf("%d sockets open", n)
	}
}

func TestSilentClientIsDropped(t *testing.T) {
	e := setup(t, func(c *webchat.Config) { c.PingInterval = 20 * time.Millisecond; c.PongWait = 60 * time.Millisecond })
	e.connect("", 0) // never reads: pongs are never sent
	e.waitSockets(t, 0, "a client that does not answer pings")
}

// waitSockets waits until the server counts n open sockets.
func (e *env) waitSockets(t *testing.T, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.wc.OpenSockets() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d sockets open, want %d", what, e.wc.OpenSockets(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type gauge struct{ n atomic.Int64 }

func (g *gauge) Inc() { g.n.Add(1) }
func (g *gauge) Dec() { g.n.Add(-1) }

func TestOriginsAndOpenSocketsGauge(t *testing.T) {
	g := &gauge{}
	e := setup(t, func(c *webchat.Config) {
		c.AllowedOrigins = []string{"https://shop.example.com"}
		c.OpenSockets = g
	})
	h := http.Header{"Origin": {"https://evil.example.com"}}
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+e.addr+"/webchat/socket", h); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("a foreign origin opened a socket: %v", err)
	}
	h = http.Header{"Origin": {"https://shop.example.com"}}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+e.addr+"/webchat/socket", h)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, ws: ws}
	c.send(map[string]any{"type": "hello", "bot": "support"})
	if f := c.next(); f.Type != "welcome" {
		t.Fatalf("%+v", f)
	}
	if g.n.Load() != 1 {
		t.Fatalf("gauge %d", g.n.Load())
	}
	ws.Close()
	deadline := time.Now().Add(5 * time.Second)
	for g.n.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("gauge %d after close", g.n.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBadFrames(t *testing.T) {
	e := setup(t, nil)
	c := e.connect("", 0)
	c.ws.WriteMessage(websocket.TextMessage, []byte("not json"))
	if f := c.next(); f.Type != "error" || f.Code != "bad_frame" {
		t.Fatalf("%+v", f)
	}
	c.send(map[string]any{"type": "message", "text": "no id"})
	if f := c.next(); f.Type != "error" || f.Code != "bad_frame" {
		t.Fatalf("%+v", f)
	}
	// The connection still works.
	c.say("m1", "hi")
	eq(t, "after bad frames", c.messages(2), "1:user:hi", "2:bot:Hi! What's your name?")
	// A flood of garbage closes it.
	for range 20 {
		c.ws.WriteMessage(websocket.BinaryMessage, []byte{0})
	}
	for {
		_, err := c.read(5 * time.Second)
		if err != nil {
			if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
				t.Fatalf("expected close 1008, got %v", err)
			}
			return
		}
	}
}

// TestPageVisitOfANewVisitor: the widget reports a page visit before the
// visitor ever wrote; it enters /_page_visit and starts the conversation.
func TestPageVisitOfANewVisitor(t *testing.T) {
	e := setup(t, nil)
	c := e.connect("", 0)
	c.send(map[string]any{"type": "event", "name": "page_visit", "data": map[string]any{"url": "/pricing"}})
	eq(t, "page visit", c.messages(1), "1:bot:You are looking at /pricing.")
}
