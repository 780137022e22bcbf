package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
)

// Bounds of the web chat mode.
const (
	wcDialers       = 64              // connects at a time
	wcCloseWait     = 2 * time.Second // for the server's close frame
	wcMaxFrame      = 64 << 10        // one server frame
	wcMaxTurnFrames = 16              // frames of one turn besides its replies
	wcMaxDrain      = 16              // frames read while closing
	wcBufSize       = 2048            // read and write buffers of one socket
)

// wcFrame is what the load tool reads of a server frame.
type wcFrame struct {
	Type    string `json:"type"`
	Contact struct {
		Visitor string `json:"visitor"`
	} `json:"contact"`
	Seq          uint64        `json:"seq"`
	ID           string        `json:"id"`
	Author       string        `json:"author"`
	Text         string        `json:"text"`
	Buttons      []replyButton `json:"buttons"`
	QuickReplies []replyButton `json:"quick_replies"`
	Duplicate    bool          `json:"duplicate"`
	Code         string        `json:"code"`
	Message      string        `json:"message"`
}

// wcMessage is a user message frame.
type wcMessage struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Text    string `json:"text"`
	Payload string `json:"payload,omitempty"`
}

// runLoadWebchat is the --webchat mode: --sockets web chat sockets, each a
// distinct visitor with one message in flight, opened (at most wcDialers
// at a time) before the clock starts. A message counts once its ack and
// all the replies of its turn arrived and were right; its latency is from
// sending it to its last reply. After an error a socket closes and
// connects again as a new visitor. Connect failures count as errors too.
func runLoadWebchat(ctx context.Context, cfg loadConfig, progress io.Writer) (*loadReport, error) {
	hc := hostClient(cfg)
	err := probe(hc, cfg)
	hc.CloseIdleConnections()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "load: %s, bot %s, %d sockets, up to %d messages or %s\n", cfg.socketURL, cfg.Bot, cfg.Sockets, cfg.Messages, cfg.Duration)
	hello, err := json.Marshal(map[string]string{"type": "hello", "bot": cfg.Bot})
	if err != nil {
		return nil, err
	}
	r := newLoadRun(ctx, cfg)
	defer r.cancel()
	p := &wcPool{
		r: r, hello: hello, dials: make(chan struct{}, wcDialers),
		dialer: &websocket.Dialer{
			NetDialContext:   (&net.Dialer{Timeout: cfg.Timeout}).DialContext,
			HandshakeTimeout: cfg.Timeout,
			ReadBufferSize:   wcBufSize,
			WriteBufferSize:  wcBufSize,
		},
	}
	var (
		// opened: every socket connected (or failed to); talked: every
		// socket is done with its messages; wg: every socket is closed.
		opened, talked, wg sync.WaitGroup
		open               atomic.Int64
		started            = make(chan struct{})
		lats               = make([][]uint32, cfg.Sockets) // microseconds, per socket
	)
	opened.Add(cfg.Sockets)
	talked.Add(cfg.Sockets)
	wg.Add(cfg.Sockets)
	for i := range cfg.Sockets {
		go func() {
			defer wg.Done()
			s := &wcSocket{pool: p, name: "socket " + strconv.Itoa(i+1)}
			ok := s.open()
			if ok {
				open.Add(1)
			}
			opened.Done()
			<-started
			if ok {
				lats[i] = s.run()
			}
			talked.Done()
			if s.close() {
				p.closedCleanly.Add(1)
			}
		}()
	}
	opened.Wait()
	start, stopClock := r.startClock()
	defer stopClock()
	close(started)
	talked.Wait()
	elapsed := time.Since(start) // the closing handshakes are not part of it
	wg.Wait()
	rep := r.report(lats, elapsed)
	rep.Endpoint, rep.Conns, rep.Users = cfg.socketURL, cfg.Sockets, cfg.Sockets
	rep.Webchat, rep.Sockets, rep.ConnectFailures, rep.ClosedCleanly = true, int(open.Load()), p.connectFailures.Load(), p.closedCleanly.Load()
	return rep, nil
}

// wcPool is what a run's sockets share.
type wcPool struct {
	r               *loadRun
	dialer          *websocket.Dialer
	hello           []byte
	dials           chan struct{} // a semaphore of wcDialers
	connectFailures atomic.Int64
	closedCleanly   atomic.Int64 // at the end: the server answered the close frame
}

// wcSocket is one socket of the run, its visitor and where they are in the
// script. Only its own goroutine uses it.
type wcSocket struct {
	pool *wcPool
	name string
	ws   *websocket.Conn // nil: closed
	user loadUser        // sender: the visitor id
	seq  uint64          // the highest seq received
	sent int             // messages sent, for their client ids
}

// open connects and says hello as a new visitor; false: it could not (a
// connect failure, counted), or the run is over.
func (s *wcSocket) open() bool {
	err := s.connect()
	if err == nil {
		return true
	}
	if s.pool.r.ctx.Err() == nil {
		s.pool.connectFailures.Add(1)
		s.pool.r.fail(s.name, 0, fmt.Errorf("connecting: %w", err))
	}
	return false
}

func (s *wcSocket) connect() error {
	r := s.pool.r
	select {
	case s.pool.dials <- struct{}{}:
		defer func() { <-s.pool.dials }()
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	defer cancel()
	ws, resp, err := s.pool.dialer.DialContext(ctx, r.cfg.socketURL, nil)
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("%w (%s)", err, resp.Status)
		}
		return err
	}
	ws.SetReadLimit(wcMaxFrame)
	deadline := time.Now().Add(r.cfg.Timeout)
	ws.SetWriteDeadline(deadline)
	ws.SetReadDeadline(deadline)
	s.ws = ws
	if err := ws.WriteMessage(websocket.TextMessage, s.pool.hello); err != nil {
		s.close()
		return err
	}
	f, err := s.read()
	switch {
	case err != nil:
	case f.Type == "error":
		err = fmt.Errorf("error frame instead of a welcome: %s: %s", f.Code, f.Message)
	case f.Type != "welcome" || f.Contact.Visitor == "":
		err = fmt.Errorf("a %q frame instead of a welcome with a visitor", f.Type)
	}
	if err != nil {
		s.close()
		return err
	}
	s.user = loadUser{sender: f.Contact.Visitor}
	s.seq = 0
	return nil
}

// run talks until the run is over; it returns the latencies of the
// messages that counted.
func (s *wcSocket) run() []uint32 {
	r := s.pool.r
	var lat []uint32
	for r.claim() {
		if s.ws == nil && !s.open() {
			break
		}
		d, err := s.turn()
		if err != nil {
			r.fail(s.name+" (visitor "+s.user.sender+")", s.user.turn, err)
			s.close() // and start over as a new visitor
			continue
		}
		lat = appendLatency(lat, d)
	}
	return lat
}

// turn sends the user's next message and reads the frames of its turn —
// typing, the echo of the message, the bot's replies (each checked as it
// comes), the ack — until it has the ack and every reply. Every frame is
// read within --timeout of the send.
func (s *wcSocket) turn() (time.Duration, error) {
	u := &s.user
	t, text, payload, err := u.next()
	if err != nil {
		return 0, err
	}
	s.sent++
	id := "m" + strconv.Itoa(s.sent)
	b, err := json.Marshal(wcMessage{Type: "message", ID: id, Text: text, Payload: payload})
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	deadline := t0.Add(s.pool.r.cfg.Timeout)
	s.ws.SetWriteDeadline(deadline)
	s.ws.SetReadDeadline(deadline)
	if err := s.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		return 0, fmt.Errorf("sending: %w", err)
	}
	var (
		got    []reply
		last   time.Time
		acked  bool
		echoed bool
	)
	for range wcMaxTurnFrames + len(t.want) {
		f, err := s.read()
		if err != nil {
			return 0, fmt.Errorf("waiting for the turn (ack %t, echo %t, %d of %d replies): %w", acked, echoed, len(got), len(t.want), err)
		}
		switch f.Type {
		case "typing":
		case "ack":
			if f.ID != id || f.Duplicate || acked {
				return 0, fmt.Errorf("ack of %q (duplicate %t), want one of %q", f.ID, f.Duplicate, id)
			}
			acked = true
		case "message":
			if f.Seq <= s.seq {
				return 0, fmt.Errorf("message seq %d after seq %d: out of order or repeated", f.Seq, s.seq)
			}
			s.seq = f.Seq
			switch f.Author {
			case "user":
				if f.ID != id || echoed || len(got) > 0 {
					return 0, fmt.Errorf("user message %q (id %q) where the echo of %q was due", f.Text, f.ID, id)
				}
				echoed = true
			case "bot":
				if !echoed {
					return 0, fmt.Errorf("bot message %q before the echo of the user's message", f.Text)
				}
				if len(got) == len(t.want) {
					return 0, fmt.Errorf("reply %d %q, want %d replies", len(got)+1, f.Text, len(t.want))
				}
				g := reply{Text: f.Text, Buttons: append(f.Buttons, f.QuickReplies...)}
				if err := checkReply(len(got), g, t.want[len(got)]); err != nil {
					return 0, err
				}
				got = append(got, g)
				last = time.Now()
			default:
				return 0, fmt.Errorf("message of author %q", f.Author)
			}
		case "error":
			return 0, fmt.Errorf("error frame: %s: %s", f.Code, f.Message)
		default:
			return 0, fmt.Errorf("unexpected %q frame", f.Type)
		}
		if acked && len(got) == len(t.want) {
			u.advance(got)
			return last.Sub(t0), nil
		}
	}
	return 0, fmt.Errorf("more than %d frames in one turn", wcMaxTurnFrames+len(t.want))
}

func (s *wcSocket) read() (wcFrame, error) {
	var f wcFrame
	typ, data, err := s.ws.ReadMessage()
	if err != nil {
		return f, err
	}
	if typ != websocket.TextMessage {
		return f, errors.New("a binary frame")
	}
	if decodeFrame(data, &f) {
		return f, nil
	}
	f = wcFrame{}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("a frame that is not JSON: %v: %.200s", err, data)
	}
	return f, nil
}

// close sends a close frame, waits a little for the server's, and closes
// the connection; true: the server answered with a normal close.
func (s *wcSocket) close() bool {
	ws := s.ws
	if ws == nil {
		return false
	}
	s.ws = nil
	defer ws.Close()
	if ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(wcCloseWait)) != nil {
		return false
	}
	ws.SetReadDeadline(time.Now().Add(wcCloseWait))
	for range wcMaxDrain {
		if _, _, err := ws.NextReader(); err != nil {
			return websocket.IsCloseError(err, websocket.CloseNormalClosure)
		}
	}
	return false
}
