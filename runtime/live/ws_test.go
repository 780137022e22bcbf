package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/router"
	"github.com/fasthttp/websocket"

	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/access"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/live"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/server"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

const botSrc = `
id: shop
name: The Shop
skills:
  /start:
    - text: "Hi! What can I do?"
  /default:
    - text: "Noted."
`

type env struct {
	t    *testing.T
	addr string
	ws   *live.Server
	hub  *live.Hub

	mu        sync.Mutex
	committed map[string]time.Time // contact/seq → when OnCommit saw it
}

// fakeCheck checks the tokens of the fake authentication: good is a
// program that reads, noscope has no scope; agent-shop and agent-other are
// agents of those bots, agent-none of none.
func fakeCheck(tok string) (*access.Principal, error) {
	agent := func(bots ...string) *access.Principal {
		return &access.Principal{Account: "acc_" + tok, Role: access.RoleAgent, Bots: bots, Scopes: access.RoleScopes(access.RoleAgent)}
	}
	switch tok {
	case "good":
		return &access.Principal{Name: "test", Program: true, Scopes: []string{"read"}}, nil
	case "noscope":
		return &access.Principal{Name: "test", Program: true}, nil
	case "agent-shop":
		return agent("shop"), nil
	case "agent-other":
		return agent("other"), nil
	case "agent-none":
		return agent(), nil
	case "":
		return nil, errors.New("no token")
	}
	return nil, errors.New("the token is not valid")
}

var fakeAuth = live.TokenAuth(fakeCheck)

func start(t *testing.T, tweak ...func(*live.Config)) *env {
	t.Helper()
	st, err := store.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	bot, ds := flows.Load("shop.yaml", []byte(botSrc))
	if bot == nil {
		t.Fatal(ds)
	}
	e := &env{t: t, hub: live.NewHub(), committed: map[string]time.Time{}}
	p := pipeline.New(pipeline.Config{Store: st, Engine: engine.New(nil), Shards: 4, OnCommit: func(c pipeline.Committed) {
		now := time.Now()
		e.mu.Lock()
		for _, m := range c.Messages {
			e.committed[fmt.Sprint(m.Contact, "/", m.Seq)] = now
		}
		e.mu.Unlock()
		e.hub.Publish(c)
	}})
	p.SetBots(map[string]*flows.Bot{"shop": bot})
	p.Start()
	cfg := live.Config{Hub: e.hub, Authenticate: fakeAuth, Log: slog.New(slog.DiscardHandler)}
	for _, f := range tweak {
		f(&cfg)
	}
	e.ws = live.NewServer(cfg)
	srv := server.New(server.Config{Pipeline: p, Log: slog.New(slog.DiscardHandler), Mount: []func(r *router.Router){e.ws.Mount}}, func() []string { return []string{"shop"} })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	e.addr = l.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.ws.Close(ctx); err != nil {
			t.Errorf("closing the sockets: %v", err)
		}
		srv.Shutdown(ctx)
		p.Close(ctx)
		e.hub.Close()
		st.Close()
	})
	return e
}

func (e *env) dial(query string, h http.Header) *websocket.Conn {
	e.t.Helper()
	if h == nil {
		h = http.Header{"Authorization": {"Bearer good"}}
	}
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+e.addr+"/ws"+query, h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		e.t.Fatalf("dial: %v (%d)", err, status)
	}
	e.t.Cleanup(func() { ws.Close() })
	return ws
}

// chat posts a REST channel message.
func (e *env) chat(sender, text string) {
	e.t.Helper()
	resp, err := http.Post("http://"+e.addr+"/webhooks/rest/shop/webhook", "application/json", strings.NewReader(fmt.Sprintf(`{"sender": %q, "message": %q}`, sender, text)))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("chat: %d", resp.StatusCode)
	}
}

type frame struct {
	ID      uint64
	Type    string
	Bot     string
	Error   struct{ Code string }
	Contact json.RawMessage
	Message *struct {
		Seq       uint64
		Direction string
		Author    string
		Content   flows.Content
	}
}

func (f frame) contactID() string {
	var c struct{ ID string }
	json.Unmarshal(f.Contact, &c)
	return c.ID
}

// next reads a frame within d, noting when it arrived.
func next(t *testing.T, ws *websocket.Conn, d time.Duration) (frame, time.Time) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(d))
	typ, b, err := ws.ReadMessage()
	at := time.Now()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var f frame
	if typ != websocket.TextMessage || json.Unmarshal(b, &f) != nil {
		t.Fatalf("frame %d: %s", typ, b)
	}
	return f, at
}

func TestSocketStreamsMessages(t *testing.T) {
	e := start(t)
	ws := e.dial("", nil)
	waitSubscribed(t, e)
	cid := pipeline.ContactID("shop", "rest", "u1")
	var worst time.Duration
	lastID := uint64(0)
	for round, text := range []string{"hello", "where is my order?"} {
		e.chat("u1", text)
		var msgs []string
		for len(msgs) < 2 {
			f, at := next(t, ws, 2*time.Second)
			if f.ID <= lastID || f.Bot != "shop" || f.contactID() != cid {
				t.Fatalf("frame: %+v after id %d", f, lastID)
			}
			lastID = f.ID
			switch f.Type {
			case "contact":
				if round != 0 {
					t.Fatalf("a contact event in round %d", round)
				}
				continue
			case "message":
			default:
				t.Fatalf("unexpected %s", f.Type)
			}
			e.mu.Lock()
			committed, ok := e.committed[fmt.Sprint(cid, "/", f.Message.Seq)]
			e.mu.Unlock()
			if !ok {
				t.Fatalf("seq %d was not committed", f.Message.Seq)
			}
			if d := at.Sub(committed); d > worst {
				worst = d
			}
			msgs = append(msgs, f.Message.Author+":"+f.Message.Content.Text)
		}
		want := "user:" + text + " bot:" + map[int]string{0: "Hi! What can I do?", 1: "Noted."}[round]
		if got := strings.Join(msgs, " "); got != want {
			t.Fatalf("round %d: %q, want %q", round, got, want)
		}
	}
	t.Logf("commit → socket: at most %v over 4 messages", worst)
	if worst > 100*time.Millisecond {
		t.Errorf("an event took %v from commit to socket", worst)
	}
}

// waitSubscribed waits for the sockets dialled to hold their subscription.
func waitSubscribed(t *testing.T, e *env) {
	t.Helper()
	waitSubscribers(t, e, 1)
}

// waitSubscribers waits until n sockets are subscribed: a dial returns
// once the handshake is done, a moment before the server subscribes it.
func waitSubscribers(t *testing.T, e *env, n int) {
	t.Helper()
	for i := 0; e.hub.Subscribers() < n; i++ {
		if i > 400 {
			t.Fatalf("%d subscribers, want %d", e.hub.Subscribers(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSocketAuth(t *testing.T) {
	e := start(t)
	for _, c := range []struct {
		name   string
		h      http.Header
		status int
	}{
		{"no token", http.Header{}, 401},
		{"bad token", http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"bad subprotocol token", http.Header{"Sec-WebSocket-Protocol": {"switchboard.v1, bearer.nope"}}, 401},
		{"no read scope", http.Header{"Authorization": {"Bearer noscope"}}, 403},
	} {
		_, resp, err := websocket.DefaultDialer.Dial("ws://"+e.addr+"/ws", c.h)
		if err == nil || resp == nil || resp.StatusCode != c.status {
			t.Fatalf("%s: %v %v", c.name, err, resp)
		}
	}
	// A browser's way: the token as a subprotocol; the answer names only
	// switchboard.v1.
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+e.addr+"/ws", http.Header{"Sec-WebSocket-Protocol": {"switchboard.v1, bearer.good"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != live.Subprotocol || ws.Subprotocol() != live.Subprotocol {
		t.Fatalf("subprotocol %q", p)
	}
}

func TestSocketFilter(t *testing.T) {
	e := start(t)
	u2 := pipeline.ContactID("shop", "rest", "u2")
	byQuery := e.dial("?contact="+u2, nil)
	byFrame := e.dial("", nil)
	if err := byFrame.WriteJSON(map[string]string{"type": "subscribe", "contact": u2}); err != nil {
		t.Fatal(err)
	}
	if f, _ := next(t, byFrame, 2*time.Second); f.Type != "subscribed" {
		t.Fatalf("%+v", f)
	}
	waitSubscribers(t, e, 2)
	e.chat("u1", "hi")
	e.chat("u2", "hi")
	for _, ws := range []*websocket.Conn{byQuery, byFrame} {
		for i := 0; i < 3; i++ { // contact, in, out
			f, _ := next(t, ws, 2*time.Second)
			if f.contactID() != u2 {
				t.Fatalf("event of another contact: %+v", f)
			}
		}
	}
	// Another bot: nothing.
	byFrame.WriteJSON(map[string]string{"type": "subscribe", "bot": "other"})
	if f, _ := next(t, byFrame, 2*time.Second); f.Type != "subscribed" {
		t.Fatalf("%+v", f)
	}
	e.chat("u2", "again")
	if f, _ := next(t, byQuery, 2*time.Second); f.contactID() != u2 {
		t.Fatalf("%+v", f)
	}
	byFrame.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, b, err := byFrame.ReadMessage(); err == nil {
		t.Fatalf("filtered out, yet: %s", b)
	}
}

func TestSocketBadFrames(t *testing.T) {
	e := start(t, func(c *live.Config) { c.MaxFrame = 256 })
	ws := e.dial("", nil)
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"dance"}`))
	if f, _ := next(t, ws, 2*time.Second); f.Type != "error" || f.Error.Code != "bad_frame" {
		t.Fatalf("%+v", f)
	}
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","bot":"`+strings.Repeat("x", 1000)+`"}`))
	ws.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _, err := ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("oversize frame: %v", err)
	}
}

func TestSocketClose(t *testing.T) {
	e := start(t, func(c *live.Config) { c.PingInterval = 20 * time.Millisecond })
	ws := e.dial("", nil)
	pinged := make(chan struct{}, 1)
	ws.SetPingHandler(func(string) error {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return nil
	})
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		time.Sleep(150 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := e.ws.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	ws.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, _, err := ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("want a going-away close frame: %v", err)
	}
	select {
	case <-pinged:
	default:
		t.Fatal("no ping")
	}
	<-closed
	if e.ws.OpenSockets() != 0 || e.hub.Subscribers() != 0 {
		t.Fatalf("left open: %d sockets, %d subscribers", e.ws.OpenSockets(), e.hub.Subscribers())
	}
	if _, resp, err := websocket.DefaultDialer.Dial("ws://"+e.addr+"/ws", http.Header{"Authorization": {"Bearer good"}}); err == nil || resp == nil || resp.StatusCode != 503 {
		t.Fatalf("after Close: %v %v", err, resp)
	}
}

// TestSocketBots: a manager's or agent's socket gets the events of its
// bots only, whatever it subscribes to.
func TestSocketBots(t *testing.T) {
	e := start(t)
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	mine := e.dial("", bearer("agent-shop"))
	theirs := e.dial("", bearer("agent-other"))
	asked := e.dial("?bot=shop", bearer("agent-other")) // asks for a bot it does not see
	byFrame := e.dial("", bearer("agent-other"))
	if err := byFrame.WriteJSON(map[string]string{"type": "subscribe", "bot": "shop"}); err != nil {
		t.Fatal(err)
	}
	if f, _ := next(t, byFrame, 2*time.Second); f.Type != "subscribed" {
		t.Fatalf("%+v", f)
	}
	program := e.dial("", nil)
	waitSubscribers(t, e, 5)
	e.chat("u1", "hi")
	for _, ws := range []*websocket.Conn{mine, program} {
		for i := 0; i < 3; i++ { // contact, in, out
			if f, _ := next(t, ws, 2*time.Second); f.Bot != "shop" {
				t.Fatalf("%+v", f)
			}
		}
	}
	for name, ws := range map[string]*websocket.Conn{"other bot": theirs, "?bot= of another bot": asked, "subscribe to another bot": byFrame} {
		ws.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, b, err := ws.ReadMessage(); err == nil {
			t.Fatalf("%s: an event of a bot not its own: %s", name, b)
		}
	}
	// An account without bots has nothing to see.
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+e.addr+"/ws", bearer("agent-none"))
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("no bots: %v %v", err, resp)
	}
}

// TestSocketCookie: a socket signed in by cookie must come from a page of
// the server (or an allowed origin): another site's page cannot open one
// with the browser's cookie.
func TestSocketCookie(t *testing.T) {
	e := start(t, func(c *live.Config) {
		c.Authenticate = live.CookieOrTokenAuth(fakeCheck, "sb_session")
		c.AllowedOrigins = []string{"https://console.example.com"}
	})
	cookie := "sb_session=agent-shop"
	for _, c := range []struct {
		name   string
		h      http.Header
		status int
	}{
		{"cookie, no origin", http.Header{"Cookie": {cookie}}, 403},
		{"cookie, another site", http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example"}}, 403},
		{"cookie, another port", http.Header{"Cookie": {cookie}, "Origin": {"http://127.0.0.1:1"}}, 403},
		{"bad cookie", http.Header{"Cookie": {"sb_session=nope"}, "Origin": {"http://" + e.addr}}, 401},
		{"no cookie", http.Header{"Origin": {"http://" + e.addr}}, 401},
	} {
		_, resp, err := websocket.DefaultDialer.Dial("ws://"+e.addr+"/ws", c.h)
		if err == nil || resp == nil || resp.StatusCode != c.status {
			t.Fatalf("%s: %v %v", c.name, err, resp)
		}
	}
	// The server's own origin (https too: behind a TLS proxy), or an
	// allowed one.
	for _, origin := range []string{"http://" + e.addr, "https://" + e.addr, "https://console.example.com"} {
		for i := 0; e.hub.Subscribers() > 0; i++ { // the previous socket's
			if i > 400 {
				t.Fatal("the previous socket stays subscribed")
			}
			time.Sleep(5 * time.Millisecond)
		}
		ws := e.dial("", http.Header{"Cookie": {cookie}, "Origin": {origin}})
		waitSubscribed(t, e)
		e.chat("u-"+origin, "hi")
		if f, _ := next(t, ws, 2*time.Second); f.Bot != "shop" {
			t.Fatalf("%s: %+v", origin, f)
		}
		ws.Close()
	}
	// A bearer token needs no Origin, and wins over a cookie.
	ws := e.dial("", http.Header{"Authorization": {"Bearer good"}, "Cookie": {"sb_session=nope"}})
	ws.Close()
}

func TestFilterBots(t *testing.T) {
	h := live.NewHub()
	defer h.Close()
	only := h.Subscribe(live.Filter{Bots: []string{"a", "b"}}, 10)
	narrowed := h.Subscribe(live.Filter{Bot: "c", Bots: []string{"a"}}, 10)
	all := h.Subscribe(live.Filter{}, 10)
	for _, bot := range []string{"a", "c", "b"} {
		h.Publish(pipeline.Committed{Contact: &flows.Contact{ID: "x-" + bot, Bot: bot}})
	}
	got := func(s *live.Subscription) (bots []string) {
		for {
			select {
			case ev := <-s.C:
				bots = append(bots, ev.Bot)
			default:
				return bots
			}
		}
	}
	if b := got(only); strings.Join(b, ",") != "a,b" {
		t.Errorf("bots a, b: %v", b)
	}
	if b := got(narrowed); len(b) != 0 {
		t.Errorf("bot c within a: %v", b)
	}
	if b := got(all); strings.Join(b, ",") != "a,c,b" {
		t.Errorf("all: %v", b)
	}
}

// OnConnect hears of each socket a principal opens, and of its end.
func TestSocketOnConnect(t *testing.T) {
	var mu sync.Mutex
	open := map[string]int{}
	e := start(t, func(c *live.Config) {
		c.OnConnect = func(p *access.Principal) func() {
			mu.Lock()
			defer mu.Unlock()
			open[p.Account]++
			return func() {
				mu.Lock()
				defer mu.Unlock()
				open[p.Account]--
			}
		}
	})
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return open["acc_agent-shop"]
	}
	waitCount := func(want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for count() != want {
			if time.Now().After(deadline) {
				t.Fatalf("open sockets of the agent: %d, want %d", count(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	a := e.dial("", http.Header{"Authorization": {"Bearer agent-shop"}})
	b := e.dial("", http.Header{"Authorization": {"Bearer agent-shop"}})
	waitCount(2)
	a.Close()
	waitCount(1)
	b.Close()
	waitCount(0)
}
