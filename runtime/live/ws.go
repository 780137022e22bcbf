package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/router"
	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/runtime/access"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// Subprotocol is the WebSocket subprotocol of /ws. A browser, which cannot
// set an Authorization header on a WebSocket, passes its token as a second
// offered subprotocol: new WebSocket(url, ["switchboard.v1", "bearer." +
// token]). The server answers with Subprotocol only, never echoing the
// token, and the token stays out of URLs and so out of access logs.
const Subprotocol = "switchboard.v1"

// bearerProtocol prefixes the token offered as a subprotocol.
const bearerProtocol = "bearer."

// Config configures a Server. Hub and Authenticate are required.
type Config struct {
	Hub *Hub
	// Authenticate checks the credentials of an upgrade request and
	// returns who they are; an error refuses the socket (401; 503 when the
	// store is closed or slow). TokenAuth and CookieOrTokenAuth make one.
	// A principal that does not see every bot (a manager, an agent) gets
	// the events of its bots only, whatever the socket subscribes to.
	Authenticate func(ctx *fasthttp.RequestCtx) (*access.Principal, error)
	// Scope is the scope a socket needs: one of the principal's scopes
	// must be it or imply it (read < write < admin). "" means read.
	Scope string
	// AllowedOrigins are the browser origins that may open a socket; empty
	// allows any (the token is the guard). A socket opened without a
	// bearer token (authenticated by a cookie, which a browser sends
	// whatever page opens the socket) needs an Origin: the server's own
	// or one of these ("*" does not count), against cross-site WebSocket
	// hijacking.
	AllowedOrigins []string
	// Buffer is each socket's event buffer; a socket that falls this far
	// behind is closed (1013, try again later) rather than slow the
	// pipeline. 0 means DefaultBuffer.
	Buffer int
	// PingInterval and PongWait: the server pings every PingInterval and
	// closes a socket that sends nothing (pongs included) for PongWait. 0
	// means 25 s and 60 s.
	PingInterval, PongWait time.Duration
	// WriteTimeout bounds one frame's write; a client that does not read
	// is cut off. 0 means 10 s.
	WriteTimeout time.Duration
	// MaxFrame bounds a client frame in bytes (1009 closes a socket that
	// sends more). 0 means 4 KiB.
	MaxFrame int64
	// OnConnect, when set, is told of each socket a principal opens, once
	// it is authenticated and upgraded, and the function it returns (if
	// any) when the socket ends: live chat counts agents' open consoles
	// as their presence.
	OnConnect func(p *access.Principal) (closed func())
	Log       *slog.Logger
}

// eventTypes are the types of the hub's events.
var eventTypes = []string{TypeContact, TypeMessage, TypeHandover, TypeHandoverEnd}

// Server serves GET /ws: a socket streams the hub's events as JSON text
// frames, one event per frame. The client may send
//
//	{"type":"subscribe","bot":"…","contact":"…","types":["handover"]}
//
// to narrow the stream (see Filter: with neither contact nor types,
// everything; contact, that conversation; types, those events of every
// conversation; both, either). The initial filter comes from the ?bot=,
// ?contact= and ?types= (comma-separated) query arguments, else
// everything; the server answers {"type":"subscribed","bot","contact",
// "types"} and applies the filter from the next event on. A manager's or
// agent's socket gets the events of its own bots only, and an agent's the
// handovers of its teams' queues only, whatever it asks for. Errors are
// {"type":"error","error":{"code","message"}}; a socket that falls behind
// gets the error too_slow and a close frame 1013 (try again later).
type Server struct {
	cfg      Config
	upgrader websocket.FastHTTPUpgrader

	mu     sync.Mutex
	closed bool
	live   map[*wsConn]struct{}
	wg     sync.WaitGroup
}

// NewServer returns a Server; Mount it on a router.
func NewServer(cfg Config) *Server {
	if cfg.Scope == "" {
		cfg.Scope = "read"
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 25 * time.Second
	}
	if cfg.PongWait <= 0 {
		cfg.PongWait = 60 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = 4 << 10
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Server{cfg: cfg, live: map[*wsConn]struct{}{}}
	s.upgrader = websocket.FastHTTPUpgrader{
		HandshakeTimeout: 10 * time.Second,
		Subprotocols:     []string{Subprotocol},
		// The server's own pages (the console) may always open a socket;
		// AllowedOrigins are the others.
		CheckOrigin: func(ctx *fasthttp.RequestCtx) bool {
			origin := string(ctx.Request.Header.Peek("Origin"))
			return len(cfg.AllowedOrigins) == 0 || origin == "" || s.sameOrigin(ctx) || slices.Contains(cfg.AllowedOrigins, "*")
		},
		Error: func(ctx *fasthttp.RequestCtx, status int, reason error) {
			web.Error(ctx, status, "websocket_handshake", reason.Error(), nil)
		},
	}
	return s
}

// Path is where the socket is served.
const Path = "/ws"

// Mount adds GET /ws to r.
func (s *Server) Mount(r *router.Router) { r.GET(Path, s.socket) }

// BearerToken returns the token of an upgrade request: from
// "Authorization: Bearer <token>", else from an offered subprotocol
// "bearer.<token>"; "" when there is none.
func BearerToken(ctx *fasthttp.RequestCtx) string {
	authz := string(ctx.Request.Header.Peek("Authorization"))
	if scheme, tok, ok := strings.Cut(authz, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(tok)
	}
	for _, p := range strings.Split(string(ctx.Request.Header.Peek("Sec-WebSocket-Protocol")), ",") {
		if tok, ok := strings.CutPrefix(strings.TrimSpace(p), bearerProtocol); ok {
			return tok
		}
	}
	return ""
}

// TokenAuth makes an Authenticate hook of a function that checks a token
// (the API's Authenticate), finding the token with BearerToken.
func TokenAuth(check func(token string) (*access.Principal, error)) func(*fasthttp.RequestCtx) (*access.Principal, error) {
	return func(ctx *fasthttp.RequestCtx) (*access.Principal, error) { return check(BearerToken(ctx)) }
}

// CookieOrTokenAuth is TokenAuth that, for a request without a bearer
// token, checks the token in the cookie named cookie instead (the API's
// session cookie, for the console in a browser). The Server then requires
// a same-origin Origin (see Config.AllowedOrigins).
func CookieOrTokenAuth(check func(token string) (*access.Principal, error), cookie string) func(*fasthttp.RequestCtx) (*access.Principal, error) {
	return func(ctx *fasthttp.RequestCtx) (*access.Principal, error) {
		if tok := BearerToken(ctx); tok != "" {
			return check(tok)
		}
		return check(string(ctx.Request.Header.Cookie(cookie)))
	}
}

// sameOrigin reports whether a socket opened with ambient credentials (a
// cookie) comes from a page the server trusts: an Origin naming this
// server (its Host, over https when the request came over TLS) or one of
// AllowedOrigins. Browsers always send Origin on a WebSocket handshake.
func (s *Server) sameOrigin(ctx *fasthttp.RequestCtx) bool {
	origin := string(ctx.Request.Header.Peek("Origin"))
	if origin == "" {
		return false
	}
	if slices.Contains(s.cfg.AllowedOrigins, origin) {
		return true
	}
	host := string(ctx.Host())
	return host != "" && (origin == "https://"+host || (!ctx.IsTLS() && origin == "http://"+host))
}

// OpenSockets is how many sockets are open.
func (s *Server) OpenSockets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// Close sends a close frame (1001, going away) to every socket, refuses new
// ones, and waits for the sockets' goroutines, up to ctx's end.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	all := make([]*wsConn, 0, len(s.live))
	for c := range s.live {
		all = append(all, c)
	}
	s.mu.Unlock()
	for _, c := range all {
		c.shutdown(websocket.CloseGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) socket(ctx *fasthttp.RequestCtx) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		ctx.Response.Header.Set("Retry-After", "5")
		web.Error(ctx, fasthttp.StatusServiceUnavailable, "shutting_down", "the server is shutting down: retry shortly", nil)
		return
	}
	if s.cfg.Authenticate == nil {
		web.Error(ctx, fasthttp.StatusUnauthorized, "unauthorized", "sockets are not enabled: no authentication is configured", nil)
		return
	}
	p, err := s.cfg.Authenticate(ctx)
	if err == nil && p == nil {
		err = errors.New("no principal")
	}
	if err != nil {
		if errors.Is(err, store.ErrClosed) || errors.Is(err, context.DeadlineExceeded) {
			ctx.Response.Header.Set("Retry-After", "5")
			web.Error(ctx, fasthttp.StatusServiceUnavailable, "unavailable", "the token could not be checked: retry shortly", nil)
			return
		}
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="switchboard"`)
		web.Error(ctx, fasthttp.StatusUnauthorized, "unauthorized", "/ws needs a token (Authorization: Bearer <token>, or the subprotocol bearer.<token> next to "+Subprotocol+"): "+err.Error(), nil)
		return
	}
	if BearerToken(ctx) == "" && !s.sameOrigin(ctx) {
		web.Error(ctx, fasthttp.StatusForbidden, "bad_origin", "a socket signed in by cookie must be opened by a page of this server (Origin)", nil)
		return
	}
	if !p.Can(s.cfg.Scope) {
		web.Error(ctx, fasthttp.StatusForbidden, "forbidden", fmt.Sprintf("/ws needs the %s scope; the token has %s", s.cfg.Scope, strings.Join(p.Scopes, ", ")), nil)
		return
	}
	// The principal's bots bound every filter of the socket.
	var bots []string
	if seen, all := p.BotSet(); !all {
		if len(seen) == 0 {
			web.Error(ctx, fasthttp.StatusForbidden, "no_bots", "this account works on no bot, so it has no events to see: ask an admin to give it one", nil)
			return
		}
		bots = slices.Clone(seen)
	}
	args := ctx.QueryArgs()
	f := Filter{Bot: string(args.Peek("bot")), Contact: string(args.Peek("contact")), Bots: bots}
	if t := string(args.Peek("types")); t != "" {
		f.Types = strings.Split(t, ",")
		f.Types = f.Types[:min(len(f.Types), len(eventTypes))]
	}
	if p.Restricted() {
		f.SeesQueue = p.SeesQueue
	}
	s.mu.Lock()
	closed = s.closed
	if !closed {
		s.wg.Add(1) // the reader, in the upgrade handler
	}
	s.mu.Unlock()
	if closed {
		web.Error(ctx, fasthttp.StatusServiceUnavailable, "shutting_down", "the server is shutting down: retry shortly", nil)
		return
	}
	err = s.upgrader.Upgrade(ctx, func(ws *websocket.Conn) {
		defer s.wg.Done()
		if s.cfg.OnConnect != nil {
			if closed := s.cfg.OnConnect(p); closed != nil {
				defer closed()
			}
		}
		s.serveConn(ws, f)
	})
	if err != nil {
		s.wg.Done()
	}
}

// wsConn is one socket: its reader runs in the upgrade handler, its writer
// (events and pings) in a goroutine of its own. Writes are serialised by
// wmu; once gone is set (the handler is returning, and fasthttp will reuse
// the connection) nothing touches ws.
type wsConn struct {
	s   *Server
	ws  *websocket.Conn
	sub *Subscription
	// bots bounds the socket's filters: the principal's bots (nil: all);
	// seesQueue the handovers it gets (nil: all).
	bots      []string
	seesQueue func(bot, queue string) bool

	wmu  sync.Mutex
	gone bool

	done      chan struct{}
	closeOnce sync.Once
}

type (
	clientFrame struct {
		Type    string   `json:"type"`
		Bot     string   `json:"bot"`
		Contact string   `json:"contact"`
		Types   []string `json:"types"`
	}
	subscribedFrame struct {
		Type    string   `json:"type"`
		Bot     string   `json:"bot"`
		Contact string   `json:"contact"`
		Types   []string `json:"types,omitempty"`
	}
	// errorFrame has the shape of the server's HTTP errors, under "error"
	// (an event's "message" is a message).
	errorFrame struct {
		Type  string `json:"type"`
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
)

// maxBadFrames is how many unusable frames a socket may send before it is
// closed.
const maxBadFrames = 10

func (s *Server) serveConn(ws *websocket.Conn, f Filter) {
	defer ws.Close()
	ws.SetReadLimit(s.cfg.MaxFrame)
	c := &wsConn{s: s, ws: ws, bots: f.Bots, seesQueue: f.SeesQueue, done: make(chan struct{})}
	defer func() {
		c.wmu.Lock()
		c.gone = true
		c.wmu.Unlock()
	}()
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.live[c] = struct{}{}
		s.wg.Add(1) // the writer
	}
	s.mu.Unlock()
	if closed {
		c.shutdown(websocket.CloseGoingAway, "server shutting down")
		return
	}
	c.sub = s.cfg.Hub.Subscribe(f, s.cfg.Buffer)
	written := make(chan struct{})
	go func() {
		defer s.wg.Done()
		defer close(written)
		c.writeLoop()
	}()
	defer func() {
		c.end()
		<-written
		c.sub.Close()
		s.mu.Lock()
		delete(s.live, c)
		s.mu.Unlock()
	}()
	ws.SetReadDeadline(time.Now().Add(s.cfg.PongWait))
	ws.SetPongHandler(func(string) error {
		return ws.SetReadDeadline(time.Now().Add(s.cfg.PongWait))
	})
	c.readLoop()
}

func (c *wsConn) readLoop() {
	bad := 0
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.shutdown(websocket.CloseMessageTooBig, "frame too large")
			}
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(c.s.cfg.PongWait))
		var f clientFrame
		switch {
		case typ != websocket.TextMessage:
			err = errors.New("frames are JSON text messages")
		default:
			if err = json.Unmarshal(data, &f); err == nil && f.Type != "subscribe" {
				err = fmt.Errorf(`unknown frame type %q: send {"type":"subscribe","bot":"…","contact":"…"}`, f.Type)
			}
		}
		if err != nil {
			if bad++; bad > maxBadFrames {
				c.sendError("bad_frame", "too many unusable frames")
				c.shutdown(websocket.ClosePolicyViolation, "bad_frame")
				return
			}
			c.sendError("bad_frame", err.Error())
			continue
		}
		f.Types = f.Types[:min(len(f.Types), len(eventTypes))]
		c.sub.SetFilter(Filter{Bot: f.Bot, Contact: f.Contact, Types: f.Types, Bots: c.bots, SeesQueue: c.seesQueue})
		if c.writeJSON(subscribedFrame{Type: "subscribed", Bot: f.Bot, Contact: f.Contact, Types: f.Types}) != nil {
			return
		}
	}
}

// writeLoop sends the subscription's events and pings until the socket
// ends or the subscription is dropped.
func (c *wsConn) writeLoop() {
	t := time.NewTicker(c.s.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case ev, ok := <-c.sub.C:
			if !ok {
				err := c.sub.Err()
				if errors.Is(err, ErrSlow) {
					c.s.cfg.Log.Warn("live: socket fell behind; closed", "buffer", cap(c.sub.ch))
					c.sendError("too_slow", "the socket fell behind the events and was closed: reconnect and reload")
					c.shutdown(websocket.CloseTryAgainLater, "too slow")
				} else {
					c.shutdown(websocket.CloseGoingAway, "server shutting down")
				}
				return
			}
			if c.write(websocket.TextMessage, ev.JSON) != nil {
				return
			}
		case <-t.C:
			if c.write(websocket.PingMessage, nil) != nil {
				return
			}
		}
	}
}

var errConnGone = errors.New("live: connection gone")

func (c *wsConn) write(typ int, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.gone {
		return errConnGone
	}
	deadline := time.Now().Add(c.s.cfg.WriteTimeout)
	var err error
	if typ == websocket.PingMessage {
		err = c.ws.WriteControl(typ, b, deadline)
	} else {
		c.ws.SetWriteDeadline(deadline)
		err = c.ws.WriteMessage(typ, b)
	}
	if err != nil {
		c.end()
	}
	return err
}

func (c *wsConn) writeJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.write(websocket.TextMessage, b)
}

func (c *wsConn) sendError(code, msg string) {
	f := errorFrame{Type: "error"}
	f.Error.Code, f.Error.Message = code, msg
	c.writeJSON(f)
}

// end closes the connection, which ends the reader; the writer sees done.
func (c *wsConn) end() {
	c.closeOnce.Do(func() {
		close(c.done)
		web.CloseSocket(c.ws)
	})
}

// shutdown sends a close frame, then ends the connection.
func (c *wsConn) shutdown(code int, reason string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.gone {
		return
	}
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	c.end()
}
