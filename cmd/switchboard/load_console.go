package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/runtime/live"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
)

// loadMaxConsoles bounds --console.
const loadMaxConsoles = 500

// consoles are agent consoles open during a REST load: each socket of /ws
// watches one load user's conversation, the way an agent has a
// conversation open, and times how long after the user's message was sent
// the console got it (the message event is published at its commit, before
// the REST answer, so this is an upper bound of commit → console).
type consoles struct {
	run     *loadRun
	sockets []*websocket.Conn
	// sent[i] is when watched user i's message in flight was sent (Unix
	// nanoseconds); 0 between messages.
	sent   []atomic.Int64
	byID   map[string]int // contact id → watched user
	mu     sync.Mutex
	lat    []uint32 // microseconds
	events atomic.Int64
	wg     sync.WaitGroup
}

// openConsoles signs in and opens one socket per watched sender.
func openConsoles(r *loadRun, hc *fasthttp.HostClient, senders []string) (*consoles, error) {
	cfg := r.cfg
	token, err := signIn(hc, cfg)
	if err != nil {
		return nil, err
	}
	c := &consoles{run: r, sent: make([]atomic.Int64, len(senders)), byID: map[string]int{}}
	dialer := websocket.Dialer{HandshakeTimeout: cfg.Timeout, Subprotocols: []string{live.Subprotocol, "bearer." + token}}
	for i, s := range senders {
		id := pipeline.ContactID(cfg.Bot, "rest", s)
		c.byID[id] = i
		u := url.URL{Scheme: "ws", Host: cfg.hostname, Path: live.Path, RawQuery: "contact=" + url.QueryEscape(id)}
		ctx, cancel := context.WithTimeout(r.ctx, cfg.Timeout)
		ws, resp, err := dialer.DialContext(ctx, u.String(), nil)
		cancel()
		if err != nil {
			if resp != nil {
				err = fmt.Errorf("%w (%s)", err, resp.Status)
			}
			c.close()
			return nil, fmt.Errorf("opening console socket %d: %w", i+1, err)
		}
		c.sockets = append(c.sockets, ws)
	}
	for _, ws := range c.sockets {
		c.wg.Add(1)
		go c.read(ws)
	}
	return c, nil
}

// signIn gets a session token for the admin account.
func signIn(hc *fasthttp.HostClient, cfg loadConfig) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": "admin@localhost", "password": cfg.AdminPassword})
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("/api/v1/auth/login")
	req.Header.SetHost(cfg.hostname)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.SetBody(body)
	if err := hc.DoTimeout(req, resp, cfg.Timeout); err != nil {
		return "", fmt.Errorf("signing in for --console: %w", err)
	}
	var lr struct{ Token string }
	if resp.StatusCode() != fasthttp.StatusOK || json.Unmarshal(resp.Body(), &lr) != nil || lr.Token == "" {
		return "", fmt.Errorf("signing in for --console as admin@localhost: %d %s (set --admin-password or SWITCHBOARD_ADMIN_PASSWORD)", resp.StatusCode(), bytes.TrimSpace(resp.Body()))
	}
	return lr.Token, nil
}

// sending records that watched user i (-1: none) sends a message now.
func (c *consoles) sending(i int) {
	if c != nil && i >= 0 {
		c.sent[i].Store(time.Now().UnixNano())
	}
}

func (c *consoles) read(ws *websocket.Conn) {
	defer c.wg.Done()
	var ev struct {
		Type    string
		Contact struct{ ID string }
		Message *struct{ Direction string }
	}
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return // closed at the end of the run, or by the server
		}
		now := time.Now().UnixNano()
		ev.Message = nil
		if json.Unmarshal(b, &ev) != nil || ev.Type != live.TypeMessage || ev.Message == nil || ev.Message.Direction != "in" {
			continue
		}
		i, ok := c.byID[ev.Contact.ID]
		if !ok {
			continue
		}
		sent := c.sent[i].Swap(0)
		if sent == 0 {
			continue
		}
		c.events.Add(1)
		c.mu.Lock()
		c.lat = appendLatency(c.lat, time.Duration(now-sent))
		c.mu.Unlock()
	}
}

// close closes the sockets and waits for their readers.
func (c *consoles) close() {
	for _, ws := range c.sockets {
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		ws.Close()
	}
	c.wg.Wait()
}

// report adds the consoles' figures to rep.
func (c *consoles) report(rep *loadReport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	all := slices.Clone(c.lat)
	slices.Sort(all)
	rep.Consoles, rep.ConsoleEvents = len(c.sockets), c.events.Load()
	rep.ConsoleP50, rep.ConsoleP99, rep.ConsoleMax = quantileMicros(all, 0.5), quantileMicros(all, 0.99), quantileMicros(all, 1)
}
