package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Bounds of a load run, whatever the flags say.
const (
	loadMaxMessages = 10_000_000
	loadMaxDuration = 10 * time.Minute
	loadMaxUsers    = 1_000_000
	loadMaxConns    = 1024
)

// cmdLoad drives many distinct users through the REST channel of a running
// server, checks every reply against the support bot's script, and reports
// throughput and latency. It only talks to loopback addresses.
func cmdLoad(st stdio, args []string) int {
	fs := newFlags(st, "load")
	rawURL := fs.String("url", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	bot := fs.String("bot", "support", "bot to talk to (the script is the support example bot's); empty: the default bot")
	users := fs.Int("users", 10000, "distinct users (senders)")
	conns := fs.Int("conns", 64, "connections, each with one message in flight")
	messages := fs.Int("messages", 0, "messages to send in all; 0 with no --duration means 100000")
	duration := fs.Duration("duration", 0, "run for this long instead of a message count (at most 10m)")
	timeout := fs.Duration("timeout", 10*time.Second, "time limit of one request")
	maxErrors := fs.Int("max-errors", 100, "stop after this many errors")
	rest, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(rest) != 0 {
		fmt.Fprintf(st.err, "switchboard load: unexpected arguments %s\n", strings.Join(rest, " "))
		return exitUsage
	}
	cfg := loadConfig{Bot: *bot, Users: *users, Conns: *conns, Messages: *messages, Duration: *duration, Timeout: *timeout, MaxErrors: *maxErrors}
	if err := cfg.check(*rawURL); err != nil {
		fmt.Fprintf(st.err, "switchboard load: %v\n", err)
		return exitUsage
	}
	rep, err := runLoad(st.ctx, cfg, st.out)
	if err != nil {
		fmt.Fprintf(st.err, "switchboard load: %v\n", err)
		return exitFail
	}
	rep.print(st.out)
	if rep.Errors > 0 {
		fmt.Fprintf(st.err, "switchboard load: %s; first: %s\n", plural(int(rep.Errors), "error"), rep.FirstError)
		return exitFail
	}
	return exitOK
}

type loadConfig struct {
	Bot                      string
	Users, Conns, Messages   int
	Duration, Timeout        time.Duration
	MaxErrors                int
	addr, endpoint, hostname string
}

func (c *loadConfig) check(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("--url %q: want http://HOST:PORT", rawURL)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); !(host == "localhost" || ip != nil && ip.IsLoopback()) {
		return fmt.Errorf("--url %q: the load tool only talks to loopback addresses (127.0.0.1, ::1, localhost)", rawURL)
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	c.addr = net.JoinHostPort(host, port)
	c.hostname = u.Host
	base := strings.TrimSuffix(u.Path, "/")
	if c.Bot == "" {
		c.endpoint = base + "/webhooks/rest/webhook"
	} else {
		c.endpoint = base + "/webhooks/rest/" + url.PathEscape(c.Bot) + "/webhook"
	}
	switch {
	case c.Users < 1 || c.Users > loadMaxUsers:
		return fmt.Errorf("--users must be between 1 and %d", loadMaxUsers)
	case c.Conns < 1 || c.Conns > loadMaxConns:
		return fmt.Errorf("--conns must be between 1 and %d", loadMaxConns)
	case c.Messages < 0 || c.Messages > loadMaxMessages:
		return fmt.Errorf("--messages must be between 1 and %d", loadMaxMessages)
	case c.Duration < 0 || c.Duration > loadMaxDuration:
		return fmt.Errorf("--duration must be at most %s", loadMaxDuration)
	case c.Timeout <= 0:
		return errors.New("--timeout must be positive")
	}
	if c.Messages == 0 && c.Duration == 0 {
		c.Messages = 100_000
	}
	if c.Messages == 0 {
		c.Messages = loadMaxMessages
	}
	if c.Duration == 0 {
		c.Duration = loadMaxDuration
	}
	if c.MaxErrors < 1 {
		c.MaxErrors = 1
	}
	return nil
}

// reply is the part of a REST reply the script checks.
type reply struct {
	RecipientID string `json:"recipient_id"`
	Text        string `json:"text"`
	Buttons     []struct {
		Title   string `json:"title"`
		Payload string `json:"payload"`
	} `json:"buttons"`
}

// turn is one scripted exchange: what the user sends (a text, or the
// payload of the button with that title in the previous answer) and the
// replies expected, text and button titles.
type turn struct {
	say, tap string
	want     []wantReply
}

type wantReply struct {
	text    string
	buttons []string
}

var (
	menuButtons = []string{"Track my order", "Questions", "Talk to a human", "Pricing"}
	menuReply   = wantReply{"How can I help?", menuButtons}
)

// supportScript is the conversation every user has with the support
// example bot: the greeting once, then questions → shipping → main menu
// round and round.
var supportScript = []turn{
	{say: "hi", want: []wantReply{{"Hi there! I'm Acme's assistant.", nil}, menuReply}},
	{tap: "Questions", want: []wantReply{{"What would you like to know?", []string{"Opening hours", "Returns", "Shipping"}}}},
	{tap: "Shipping", want: []wantReply{{"Shipping is free from 50 EUR; otherwise it's 4.90 EUR.", nil}, {"Anything else?", []string{"Main menu", "No thanks"}}}},
	{tap: "Main menu", want: []wantReply{menuReply}},
}

// loopFrom is the turn the script goes back to after its last.
const loopFrom = 1

type loadUser struct {
	sender string
	turn   int
	last   []reply
}

type loadReport struct {
	Endpoint   string
	Users      int
	Conns      int
	Messages   int64
	Errors     int64
	FirstError string
	Elapsed    time.Duration
	P50, P90   time.Duration
	P99, Max   time.Duration
}

func (r *loadReport) print(w io.Writer) {
	rate := 0.0
	if r.Elapsed > 0 {
		rate = float64(r.Messages) / r.Elapsed.Seconds()
	}
	fmt.Fprintf(w, "messages:  %d in %.2fs (%d users, %d connections)\n", r.Messages, r.Elapsed.Seconds(), r.Users, r.Conns)
	fmt.Fprintf(w, "rate:      %.0f messages/s\n", rate)
	fmt.Fprintf(w, "latency:   p50 %s  p90 %s  p99 %s  max %s\n", fmtDur(r.P50), fmtDur(r.P90), fmtDur(r.P99), fmtDur(r.Max))
	fmt.Fprintf(w, "errors:    %d\n", r.Errors)
}

func fmtDur(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

// runLoad runs the load and returns its report; the error is for a run
// that could not start.
func runLoad(ctx context.Context, cfg loadConfig, progress io.Writer) (*loadReport, error) {
	var runID [4]byte
	rand.Read(runID[:])
	prefix := "load-" + hex.EncodeToString(runID[:]) + "-"
	hc := &fasthttp.HostClient{
		Addr:                          cfg.addr,
		MaxConns:                      cfg.Conns,
		ReadTimeout:                   cfg.Timeout,
		WriteTimeout:                  cfg.Timeout,
		MaxIdleConnDuration:           time.Minute,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
	}
	defer hc.CloseIdleConnections()
	// One request first: a server that is not there fails fast.
	if err := probe(hc, cfg); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "load: http://%s%s, %d users, %d connections, up to %d messages or %s\n", cfg.hostname, cfg.endpoint, cfg.Users, cfg.Conns, cfg.Messages, cfg.Duration)

	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var (
		claimed  atomic.Int64
		errCount atomic.Int64
		firstMu  sync.Mutex
		firstErr string
		wg       sync.WaitGroup
	)
	fail := func(u *loadUser, err error) {
		if n := errCount.Add(1); n == 1 {
			firstMu.Lock()
			firstErr = fmt.Sprintf("user %s, turn %d: %v", u.sender, u.turn, err)
			firstMu.Unlock()
		}
		if errCount.Load() >= int64(cfg.MaxErrors) {
			cancel()
		}
	}
	lats := make([][]uint32, cfg.Conns) // microseconds, per worker
	start := time.Now()
	for w := 0; w < cfg.Conns; w++ {
		// Worker w owns users w, w+conns, ...: each user has one message
		// in flight at a time, so its conversation stays in order.
		var mine []*loadUser
		for i := w; i < cfg.Users; i += cfg.Conns {
			mine = append(mine, &loadUser{sender: prefix + strconv.Itoa(i)})
		}
		if len(mine) == 0 {
			continue
		}
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			lat := make([]uint32, 0, 1024)
			body := make([]byte, 0, 256)
			for i := 0; ctx.Err() == nil; i++ {
				if claimed.Add(1) > int64(cfg.Messages) {
					break
				}
				u := mine[i%len(mine)]
				t := supportScript[u.turn]
				msg := t.say
				if t.tap != "" {
					var err error
					if msg, err = payloadOf(u.last, t.tap); err != nil {
						fail(u, err)
						u.turn, u.last = 0, nil // start over with a new sender
						u.sender += "r"
						continue
					}
				}
				body = appendRequest(body[:0], u.sender, msg)
				req.Reset()
				req.SetRequestURI(cfg.endpoint)
				req.Header.SetHost(cfg.hostname)
				req.Header.SetMethod(fasthttp.MethodPost)
				req.Header.SetContentType("application/json")
				req.SetBody(body)
				resp.Reset()
				t0 := time.Now()
				err := hc.DoTimeout(req, resp, cfg.Timeout)
				d := time.Since(t0)
				if err == nil {
					err = checkTurn(resp, u, t)
				}
				if err != nil {
					fail(u, err)
					u.turn, u.last = 0, nil
					u.sender += "r"
					continue
				}
				lat = append(lat, uint32(min(d.Microseconds(), int64(^uint32(0)))))
				if u.turn++; u.turn == len(supportScript) {
					u.turn = loopFrom
				}
			}
			lats[w] = lat
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []uint32
	for _, l := range lats {
		all = append(all, l...)
	}
	slices.Sort(all)
	q := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		i := int(p*float64(len(all))+0.5) - 1
		i = max(0, min(i, len(all)-1))
		return time.Duration(all[i]) * time.Microsecond
	}
	rep := &loadReport{
		Endpoint: cfg.endpoint, Users: cfg.Users, Conns: cfg.Conns,
		Messages: int64(len(all)), Errors: errCount.Load(), FirstError: firstErr, Elapsed: elapsed,
		P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: q(1),
	}
	return rep, nil
}

func probe(hc *fasthttp.HostClient, cfg loadConfig) error {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("/readyz")
	req.Header.SetHost(cfg.hostname)
	if err := hc.DoTimeout(req, resp, cfg.Timeout); err != nil {
		return fmt.Errorf("no server at http://%s: %v", cfg.hostname, err)
	}
	if resp.StatusCode() != 200 {
		return fmt.Errorf("server at http://%s is not ready: %d %s", cfg.hostname, resp.StatusCode(), resp.Body())
	}
	return nil
}

func appendRequest(b []byte, sender, msg string) []byte {
	b = append(b, `{"sender":`...)
	b = strconv.AppendQuote(b, sender)
	b = append(b, `,"message":`...)
	b = strconv.AppendQuote(b, msg)
	return append(b, '}')
}

func payloadOf(last []reply, title string) (string, error) {
	for _, r := range last {
		for _, b := range r.Buttons {
			if b.Title == title {
				return b.Payload, nil
			}
		}
	}
	return "", fmt.Errorf("no button %q in the previous answer", title)
}

// checkTurn checks an answer against the script, and keeps it for the
// next turn's buttons.
func checkTurn(resp *fasthttp.Response, u *loadUser, t turn) error {
	if resp.StatusCode() != 200 {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode(), resp.Body())
	}
	var got []reply
	if err := json.Unmarshal(resp.Body(), &got); err != nil {
		return fmt.Errorf("answer is not JSON: %v: %.200s", err, resp.Body())
	}
	if len(got) != len(t.want) {
		return fmt.Errorf("%d replies, want %d: %.300s", len(got), len(t.want), resp.Body())
	}
	for i, w := range t.want {
		g := got[i]
		if g.Text != w.text {
			return fmt.Errorf("reply %d is %q, want %q", i+1, g.Text, w.text)
		}
		if g.RecipientID != u.sender {
			return fmt.Errorf("reply %d is for %q, want %q", i+1, g.RecipientID, u.sender)
		}
		if len(g.Buttons) != len(w.buttons) {
			return fmt.Errorf("reply %d has %d buttons, want %d", i+1, len(g.Buttons), len(w.buttons))
		}
		for j, b := range w.buttons {
			if g.Buttons[j].Title != b {
				return fmt.Errorf("reply %d button %d is %q, want %q", i+1, j+1, g.Buttons[j].Title, b)
			}
		}
	}
	u.last = got
	return nil
}
