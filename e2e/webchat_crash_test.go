package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// webchatBot answers every message with "got: <text>": the first one in
// /start, every later one from a LISTEN loop, so that after the restart the
// conversations resume from a stored session waiting in LISTEN.
const webchatBot = `switchboard: 1
id: chat
name: Web chat crash test bot
skills:
  /start:
    - text: "got: {{ message.text }}"
    - listen: said
      id: wait
    - text: "got: {{ said }}"
      next: wait
`

const (
	wcBotID = "chat"
	wcReply = "got: "
)

// wcFrame is any server frame of the web chat protocol (see the package
// comment of runtime/webchat).
type wcFrame struct {
	Type      string `json:"type"`
	Seq       uint64 `json:"seq"`
	ID        string `json:"id"`
	Author    string `json:"author"`
	Text      string `json:"text"`
	Token     string `json:"token"`
	Duplicate bool   `json:"duplicate"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Contact   struct {
		ID      string `json:"id"`
		Visitor string `json:"visitor"`
	} `json:"contact"`
}

// wcMsg is one message a client sends, and what became of it.
type wcMsg struct {
	id, text string
	sends    int
	firstGen int  // the server (1: before the kill, 2: after) it was first sent to; 0: never sent
	firstCon int  // the client's connection number it was first sent on
	inflight bool // sent on the current connection, not yet answered
	ackGen   int  // the server that acknowledged it; 0: not acknowledged
	ackCon   int
	dupAck   bool
}

// wcSeen is one message frame a client received.
type wcSeen struct {
	seq    uint64
	conn   int
	author string
	msg    *wcMsg // the message it is (author user) or answers (author bot)
}

// wcHarness is what the clients share: the server to connect to, and the
// count of acknowledged messages that triggers the kill.
type wcHarness struct {
	mu  sync.Mutex
	url string
	gen int

	acked     atomic.Int64
	killAfter int64
	killNow   chan struct{}
	killOnce  sync.Once
}

func (h *wcHarness) current() (string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.url, h.gen
}

// set makes the clients connect to the server at base (http://…), of
// generation gen; an empty base makes them wait, so that no connection made
// while the server is down is counted as one to the first server (the new
// one may even get the old port).
func (h *wcHarness) set(base string, gen int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.url, h.gen = "", 0
	if base != "" {
		h.url = "ws" + strings.TrimPrefix(base, "http") + "/webchat/socket"
		h.gen = gen
	}
}

// wcClient is one web chat visitor: it sends its messages (at most
// wcWindow unanswered at a time), reconnects with its token and its
// highest seq whenever its socket breaks, resends what was not
// acknowledged, and records every frame it receives.
type wcClient struct {
	n int
	h *wcHarness

	mu       sync.Mutex
	msgs     []*wcMsg
	byID     map[string]*wcMsg
	byText   map[string]*wcMsg
	queue    []*wcMsg // in flight on the current connection, in send order
	token    string
	contact  string
	highest  uint64
	conns    int
	seqConn  map[uint64]int // seq → the connection that received it first
	stream   []wcSeen
	userSeen map[*wcMsg]int
	botSeen  map[*wcMsg]int
	retried  int // rate_limited or unavailable answers
	// replayed is a message acknowledged before the kill that the client
	// sends again after the restart, as a client that lost its state
	// would: the server must recognise it (duplicate:true) and not run it
	// again, whatever the timing of the kill.
	replayed    *wcMsg
	replayAcked bool
	problems    []string
	finished    bool
}

const (
	wcWindow  = 2                      // unanswered messages a client may have
	wcPace    = 500 * time.Millisecond // a client sends up to wcWindow messages per tick
	wcBackoff = 100 * time.Millisecond // between connection attempts
)

func newWCClient(n, perClient int, h *wcHarness) *wcClient {
	c := &wcClient{n: n, h: h, byID: map[string]*wcMsg{}, byText: map[string]*wcMsg{},
		seqConn: map[uint64]int{}, userSeen: map[*wcMsg]int{}, botSeen: map[*wcMsg]int{}}
	for i := 0; i < perClient; i++ {
		m := &wcMsg{id: fmt.Sprintf("c%02d-m%02d", n, i), text: fmt.Sprintf("hello from %02d, message %02d", n, i)}
		c.msgs = append(c.msgs, m)
		c.byID[m.id] = m
		c.byText[m.text] = m
	}
	return c
}

func (c *wcClient) problemLocked(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// doneLocked reports whether every message is acknowledged (the replayed
// one again) and the client has seen it and its reply.
func (c *wcClient) doneLocked() bool {
	if c.replayed != nil && !c.replayAcked {
		return false
	}
	for _, m := range c.msgs {
		if m.ackGen == 0 || c.userSeen[m] == 0 || c.botSeen[m] == 0 {
			return false
		}
	}
	return true
}

// run connects and reconnects until the client is done or ctx ends.
func (c *wcClient) run(ctx context.Context) {
	for ctx.Err() == nil {
		if url, gen := c.h.current(); url != "" && c.session(ctx, url, gen) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wcBackoff):
		}
	}
}

// session is one connection; it reports whether the client is done.
func (c *wcClient) session(ctx context.Context, url string, gen int) bool {
	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	ws, _, err := (&websocket.Dialer{HandshakeTimeout: 2 * time.Second}).DialContext(dctx, url, nil)
	cancel()
	if err != nil {
		return false
	}
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	readerDone := make(chan struct{})
	started := false
	defer func() {
		stop()
		ws.Close()
		if started {
			<-readerDone
		}
		c.mu.Lock()
		for _, m := range c.queue {
			m.inflight = false
		}
		c.queue = nil
		c.mu.Unlock()
	}()

	c.mu.Lock()
	c.conns++
	conn := c.conns
	after := c.highest
	hello := map[string]any{"type": "hello", "bot": wcBotID, "token": c.token, "after": after}
	c.mu.Unlock()
	ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteJSON(hello); err != nil {
		return false
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, raw, err := ws.ReadMessage()
	if err != nil {
		return false
	}
	var w wcFrame
	if err := json.Unmarshal(raw, &w); err != nil || w.Type != "welcome" || w.Token == "" || w.Contact.ID == "" {
		c.mu.Lock()
		c.problemLocked("connection %d: expected a welcome with a token and a contact in answer to hello, got %s", conn, raw)
		c.mu.Unlock()
		return false
	}
	c.mu.Lock()
	if c.contact != "" && w.Contact.ID != c.contact {
		c.problemLocked("connection %d: hello with the token of contact %s was welcomed as contact %s: expected the same conversation", conn, c.contact, w.Contact.ID)
	}
	if c.contact == "" {
		c.contact = w.Contact.ID
	}
	c.token = w.Token
	c.mu.Unlock()

	ws.SetReadDeadline(time.Time{})
	started = true
	go func() {
		defer close(readerDone)
		last := after
		for {
			_, raw, err := ws.ReadMessage()
			if err != nil {
				return
			}
			c.frame(conn, gen, after, &last, raw)
		}
	}()

	tick := time.NewTicker(wcPace)
	defer tick.Stop()
	for {
		c.mu.Lock()
		done := c.doneLocked()
		var send []*wcMsg
		if gen == 2 && c.replayed == nil {
			for _, m := range c.msgs {
				if m.ackGen == 1 {
					c.replayed = m // the last one acknowledged before the kill
				}
			}
		}
		if r := c.replayed; gen == 2 && r != nil && !c.replayAcked && !r.inflight && !done && len(c.queue) < wcWindow {
			r.inflight = true
			r.sends++
			c.queue = append(c.queue, r)
			send = append(send, r)
		}
		for _, m := range c.msgs {
			if done || len(c.queue) >= wcWindow {
				break
			}
			if m.ackGen == 0 && !m.inflight {
				m.inflight = true
				m.sends++
				if m.firstGen == 0 {
					m.firstGen, m.firstCon = gen, conn
				}
				c.queue = append(c.queue, m)
				send = append(send, m)
			}
		}
		if done {
			c.finished = true
		}
		c.mu.Unlock()
		if done {
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			return true
		}
		for _, m := range send {
			ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := ws.WriteJSON(map[string]string{"type": "message", "id": m.id, "text": m.text}); err != nil {
				return false
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-readerDone:
			return false
		case <-tick.C:
		}
	}
}

// frame handles one server frame received on connection conn (whose hello
// said after).
func (c *wcClient) frame(conn, gen int, after uint64, last *uint64, raw []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var f wcFrame
	if err := json.Unmarshal(raw, &f); err != nil {
		c.problemLocked("connection %d: expected a JSON frame, got %q: %v", conn, raw, err)
		return
	}
	switch f.Type {
	case "message":
		if f.Seq <= *last {
			c.problemLocked("connection %d (hello after=%d): seq %d came after seq %d: expected strictly increasing seqs", conn, after, f.Seq, *last)
		}
		if first, ok := c.seqConn[f.Seq]; ok {
			c.problemLocked("seq %d received twice: on connection %d, and again on connection %d whose hello said after=%d", f.Seq, first, conn, after)
		} else {
			c.seqConn[f.Seq] = conn
		}
		*last = max(*last, f.Seq)
		c.highest = max(c.highest, f.Seq)
		seen := wcSeen{seq: f.Seq, conn: conn, author: f.Author}
		switch f.Author {
		case "user":
			m := c.byID[f.ID]
			if m == nil || m.text != f.Text {
				c.problemLocked("connection %d: seq %d: a user message this client never sent: %s", conn, f.Seq, raw)
				return
			}
			c.userSeen[m]++
			seen.msg = m
		case "bot":
			m := c.byText[strings.TrimPrefix(f.Text, wcReply)]
			if m == nil || !strings.HasPrefix(f.Text, wcReply) {
				c.problemLocked("connection %d: seq %d: expected a bot reply %q+one of this client's texts, got %s", conn, f.Seq, wcReply, raw)
				return
			}
			c.botSeen[m]++
			seen.msg = m
		default:
			c.problemLocked("connection %d: seq %d: expected author user or bot, got %s", conn, f.Seq, raw)
			return
		}
		c.stream = append(c.stream, seen)
	case "ack":
		m := c.byID[f.ID]
		i := slices.Index(c.queue, m)
		if m == nil || i < 0 {
			c.problemLocked("connection %d: ack of %q, which is not in flight on this connection (in flight: %d)", conn, f.ID, len(c.queue))
			return
		}
		c.queue = slices.Delete(c.queue, i, i+1)
		m.inflight = false
		if m.ackGen != 0 {
			if m == c.replayed && !c.replayAcked {
				c.replayAcked = true
				if !f.Duplicate {
					c.problemLocked("connection %d: %s, acknowledged before the kill and sent again after the restart, was acknowledged with duplicate:false: expected duplicate:true (the server took it as new)", conn, m.id)
				}
				return
			}
			c.problemLocked("connection %d: %s acknowledged again (first on connection %d)", conn, m.id, m.ackCon)
			return
		}
		if f.Duplicate && m.firstCon == conn {
			c.problemLocked("connection %d: %s acknowledged as a duplicate, but it was only ever sent on this connection", conn, m.id)
		}
		m.ackGen, m.ackCon, m.dupAck = gen, conn, f.Duplicate
		if c.h.acked.Add(1) >= c.h.killAfter {
			c.h.killOnce.Do(func() { close(c.h.killNow) })
		}
	case "error":
		if f.Code != "rate_limited" && f.Code != "unavailable" {
			c.problemLocked("connection %d: unexpected error frame %s", conn, raw)
			return
		}
		// The oldest message in flight was not taken: send it again.
		c.retried++
		if len(c.queue) == 0 {
			c.problemLocked("connection %d: error frame %s with no message in flight", conn, raw)
			return
		}
		c.queue[0].inflight = false
		c.queue = c.queue[1:]
	case "typing":
	default:
		c.problemLocked("connection %d: unexpected frame %s", conn, raw)
	}
}

// wcStored is a stored message as the API lists it.
type wcStored struct {
	Seq       uint64 `json:"seq"`
	ID        string `json:"id"`
	Direction string `json:"direction"`
	Author    string `json:"author"`
	Content   struct {
		Text string `json:"text"`
	} `json:"content"`
}

// TestWebchatCatchUpAfterKill: kill -9 during load, restart: web chat
// clients reconnect and catch up — no message lost or duplicated.
//
// Twenty visitors send messages over their own sockets. Once a few hundred
// are acknowledged the server is killed with SIGKILL and restarted on the
// same data folder (the token secret lives there). Every client reconnects
// with its token and its highest seq, resends what was not acknowledged,
// and finishes. Each client must then have received every one of its
// messages and the bot's reply to it exactly once, in strictly increasing
// seqs, no seq twice across connections, and the stored conversation must be
// exactly what the client received.
func TestWebchatCatchUpAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	const (
		clients   = 20
		perClient = 30
		killAfter = 250 // acknowledged messages before the kill
	)
	bots := t.TempDir()
	if err := os.WriteFile(filepath.Join(bots, "chat.yaml"), []byte(webchatBot), 0o644); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	srv := startServer(t, "--data", data, "--bots", bots, "--ip-rate", "0")

	h := &wcHarness{killAfter: killAfter, killNow: make(chan struct{})}
	h.set(srv.base, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	var wg sync.WaitGroup
	all := make([]*wcClient, clients)
	for i := range all {
		all[i] = newWCClient(i, perClient, h)
		wg.Add(1)
		go func() {
			defer wg.Done()
			all[i].run(ctx)
		}()
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-allDone:
		case <-time.After(10 * time.Second):
			t.Errorf("web chat clients still running 10s after they were told to stop")
		}
	})

	start := time.Now()
	select {
	case <-h.killNow:
	case <-allDone:
		t.Fatalf("the clients stopped before %d messages were acknowledged (%d were)", killAfter, h.acked.Load())
	case <-time.After(30 * time.Second):
		t.Fatalf("expected %d acknowledged messages within 30s, got %d", killAfter, h.acked.Load())
	}
	h.set("", 0)
	srv.kill()
	ackedAtKill := h.acked.Load()
	t.Logf("SIGKILL after %v, %d messages acknowledged", time.Since(start).Round(time.Millisecond), ackedAtKill)

	restarted := time.Now()
	srv2 := startServer(t, "--data", data, "--bots", bots, "--ip-rate", "0")
	h.set(srv2.base, 2)
	t.Logf("restart ready in %v", time.Since(restarted).Round(time.Millisecond))

	const finishWait = 20 * time.Second
	select {
	case <-allDone:
	case <-time.After(finishWait):
		cancel()
		select { // the clients stop at once when ctx ends
		case <-allDone:
		case <-time.After(10 * time.Second):
			t.Fatalf("web chat clients still running 10s after they were told to stop")
		}
		var late []string
		for _, c := range all {
			c.mu.Lock()
			if !c.finished {
				unacked, noUser, noReply := 0, 0, 0
				for _, m := range c.msgs {
					if m.ackGen == 0 {
						unacked++
					}
					if c.userSeen[m] == 0 {
						noUser++
					}
					if c.botSeen[m] == 0 {
						noReply++
					}
				}
				late = append(late, fmt.Sprintf("client %02d: %d not acknowledged, %d not seen in the stream, %d replies not seen (%d connections)", c.n, unacked, noUser, noReply, c.conns))
			}
			c.mu.Unlock()
		}
		t.Errorf("expected every client to have every message acknowledged and answered within %v of the restart; still waiting:\n%s", finishWait, strings.Join(late, "\n"))
	}
	cancel()
	<-allDone // done already, or waited for above

	// What each client received.
	var ackedBefore, inflightStored, inflightFresh, retried, reconnected, replays int
	for _, c := range all {
		for i, p := range c.problems {
			if i == 10 {
				t.Errorf("client %02d: … and %d more problems", c.n, len(c.problems)-i)
				break
			}
			t.Errorf("client %02d: %s", c.n, p)
		}
		retried += c.retried
		if c.replayed != nil && c.replayAcked {
			replays++
		} else if c.replayed != nil {
			t.Errorf("client %02d: %s, acknowledged before the kill and sent again after the restart, was not acknowledged again: expected an ack with duplicate:true", c.n, c.replayed.id)
		} else if slices.ContainsFunc(c.msgs, func(m *wcMsg) bool { return m.ackGen == 1 }) {
			t.Errorf("client %02d: expected it to send a message acknowledged before the kill again after the restart; it never connected to the restarted server (%d connections)", c.n, c.conns)
		}
		if c.conns > 1 {
			reconnected++
		}
		for _, m := range c.msgs {
			when := "never acknowledged"
			switch {
			case m.ackGen == 1:
				ackedBefore++
				when = "acknowledged before the kill"
			case m.ackGen == 2 && m.firstGen == 1:
				if m.dupAck {
					inflightStored++
				} else {
					inflightFresh++
				}
				when = "sent before the kill, acknowledged after it"
			case m.ackGen == 2:
				when = "acknowledged after the restart"
			}
			if m.ackGen == 0 {
				t.Errorf("client %02d: %s (%q) was never acknowledged (sent %d times): expected an ack", c.n, m.id, m.text, m.sends)
			}
			if n := c.userSeen[m]; n != 1 {
				t.Errorf("client %02d: %s (%q, %s, sent %d times) came %d times in the stream: expected exactly once", c.n, m.id, m.text, when, m.sends, n)
			}
			if n := c.botSeen[m]; n != 1 {
				t.Errorf("client %02d: the reply to %s (%q, %s) came %d times in the stream: expected exactly once", c.n, m.id, m.text, when, n)
			}
		}
	}
	t.Logf("%d messages acknowledged before the kill; %d in flight at the kill were resent: %d had been stored (acknowledged as duplicates), %d had not; %d clients reconnected; %d sent a message acknowledged before the kill again and got duplicate:true; %d rate_limited/unavailable answers",
		ackedBefore, inflightStored+inflightFresh, inflightStored, inflightFresh, reconnected, replays, retried)
	if t.Failed() {
		return
	}
	if ackedBefore < killAfter || reconnected == 0 {
		t.Fatalf("the kill came too late to test anything: expected at least %d messages acknowledged before it and clients reconnecting, got %d and %d", killAfter, ackedBefore, reconnected)
	}

	// The stored conversations are exactly what the clients received.
	token := srv2.login(t)
	for _, c := range all {
		var out struct {
			Messages []wcStored `json:"messages"`
			Next     string     `json:"next_cursor"`
		}
		srv2.do(t, token, http.MethodGet, "/api/v1/contacts/"+url.PathEscape(c.contact)+"/messages?after=0&limit=500", "", &out)
		got := map[uint64]wcStored{}
		for _, s := range out.Messages {
			got[s.Seq] = s
		}
		for _, seen := range c.stream {
			s, ok := got[seen.seq]
			delete(got, seen.seq)
			want := seen.msg.text
			if seen.author == "bot" {
				want = wcReply + seen.msg.text
			}
			if !ok || s.Author != seen.author || s.Content.Text != want {
				t.Errorf("client %02d: seq %d came as %s %q on connection %d, but the store has %+v", c.n, seen.seq, seen.author, want, seen.conn, s)
			}
		}
		for seq, s := range got {
			t.Errorf("client %02d: stored message seq %d (%s %q) never came to the client", c.n, seq, s.Author, s.Content.Text)
		}
		if len(out.Messages) != 2*perClient {
			t.Errorf("client %02d: the store holds %d messages: expected %d (each message and its reply once)", c.n, len(out.Messages), 2*perClient)
		}
	}
}
