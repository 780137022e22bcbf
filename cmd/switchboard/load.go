package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
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
	loadMaxSockets  = 20_000
)

// cmdLoad drives many distinct users through the REST channel (or, with
// --webchat, the web chat WebSocket) of a running server, checks every
// reply against the support bot's script, and reports throughput and
// latency. It only talks to loopback addresses.
func cmdLoad(st stdio, args []string) int {
	fs := newFlags(st, "load")
	rawURL := fs.String("url", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	bot := fs.String("bot", "support", "bot to talk to (the script is the support example bot's); empty: the default bot (REST only)")
	users := fs.Int("users", 10000, "distinct users (senders) of the REST mode")
	conns := fs.Int("conns", 64, "connections of the REST mode, each with one message in flight")
	webchat := fs.Bool("webchat", false, "drive the web chat WebSocket (/webchat/socket) instead of the REST channel")
	sockets := fs.Int("sockets", 2000, "web chat sockets, each a distinct visitor with one message in flight (with --webchat)")
	messages := fs.Int("messages", 0, "messages to send in all; 0 with no --duration means 100000")
	duration := fs.Duration("duration", 0, "run for this long instead of a message count (at most 10m)")
	timeout := fs.Duration("timeout", 10*time.Second, "time limit of one request (REST), of one connect or turn (web chat)")
	maxErrors := fs.Int("max-errors", 100, "stop after this many errors")
	hook := fs.String("hook", "", "drive a plugin channel's webhook (/hooks/{bot}/{channel}) with the example echo channel's requests instead of the REST channel")
	sink := fs.String("sink", "", "with --hook: be the echo channel's provider on this loopback address (the channel's config url) and count the replies")
	console := fs.Int("console", 0, "open this many agent consoles (/ws sockets) during a REST load, each watching one user's conversation, and time their message events")
	adminPassword := fs.String("admin-password", os.Getenv("SWITCHBOARD_ADMIN_PASSWORD"), "password of admin@localhost, to sign the consoles in (env SWITCHBOARD_ADMIN_PASSWORD)")
	rest, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(rest) != 0 {
		fmt.Fprintf(st.err, "switchboard load: unexpected arguments %s\n", strings.Join(rest, " "))
		return exitUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var usage string
	switch {
	case *webchat && (set["users"] || set["conns"]):
		usage = "--users and --conns are for the REST mode: with --webchat, each of the --sockets is one visitor"
	case !*webchat && set["sockets"]:
		usage = "--sockets goes with --webchat"
	case *hook != "" && (*webchat || *console > 0):
		usage = "--hook drives a plugin webhook: not with --webchat or --console"
	case *sink != "" && *hook == "":
		usage = "--sink goes with --hook"
	}
	if usage != "" {
		fmt.Fprintf(st.err, "switchboard load: %s\n", usage)
		return exitUsage
	}
	cfg := loadConfig{Hook: *hook, Sink: *sink, Console: *console, AdminPassword: *adminPassword, Bot: *bot, Users: *users, Conns: *conns, Webchat: *webchat, Sockets: *sockets,
		Messages: *messages, Duration: *duration, Timeout: *timeout, MaxErrors: *maxErrors}
	if err := cfg.check(*rawURL); err != nil {
		fmt.Fprintf(st.err, "switchboard load: %v\n", err)
		return exitUsage
	}
	run := runLoad
	switch {
	case cfg.Webchat:
		run = runLoadWebchat
	case cfg.Hook != "":
		run = runLoadHook
	}
	rep, err := run(st.ctx, cfg, st.out)
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
	Bot                    string
	Users, Conns, Messages int
	Webchat                bool
	Sockets                int
	Duration, Timeout      time.Duration
	MaxErrors              int
	// Hook is a plugin channel's webhook path (hook mode); Sink the
	// loopback address of the provider the load tool plays.
	Hook, Sink string
	// Console is the number of agent consoles watching (REST mode).
	Console                  int
	AdminPassword            string
	addr, endpoint, hostname string
	socketURL                string // ws://…/webchat/socket
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
	c.socketURL = (&url.URL{Scheme: "ws", Host: u.Host, Path: base + "/webchat/socket"}).String()
	switch {
	case c.Users < 1 || c.Users > loadMaxUsers:
		return fmt.Errorf("--users must be between 1 and %d", loadMaxUsers)
	case c.Conns < 1 || c.Conns > loadMaxConns:
		return fmt.Errorf("--conns must be between 1 and %d", loadMaxConns)
	case c.Sockets < 1 || c.Sockets > loadMaxSockets:
		return fmt.Errorf("--sockets must be between 1 and %d", loadMaxSockets)
	case c.Hook != "" && (!strings.HasPrefix(c.Hook, "/hooks/") || strings.ContainsAny(c.Hook, "?# ")):
		return fmt.Errorf("--hook %q: a webhook path like /hooks/relay/e1", c.Hook)
	case c.Console < 0 || c.Console > loadMaxConsoles || c.Console > c.Users:
		return fmt.Errorf("--console must be between 0 and %d, and at most --users", loadMaxConsoles)
	case c.Console > 0 && (c.Webchat || c.Bot == ""):
		return errors.New("--console goes with a REST load of one --bot")
	case c.Webchat && c.Bot == "":
		return errors.New("--webchat needs a --bot: a web chat visitor talks to one bot")
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

// reply is the part of a bot reply the script checks: a REST reply, or a
// web chat message frame (whose quick replies count as buttons after its
// buttons, as the REST channel renders them).
type reply struct {
	RecipientID string        `json:"recipient_id"`
	Text        string        `json:"text"`
	Buttons     []replyButton `json:"buttons"`
}

type replyButton struct {
	Title   string `json:"title"`
	Payload string `json:"payload"`
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

// loadUser is where one user is in the script.
type loadUser struct {
	sender string
	turn   int
	last   []reply
	// watch is the user's console slot (--console), -1 for none.
	watch int
}

// next is the user's next turn and what they send: the text of the turn,
// or the title of the button they tap and its payload (from the previous
// answer).
func (u *loadUser) next() (t turn, text, payload string, err error) {
	t = supportScript[u.turn]
	if t.tap == "" {
		return t, t.say, "", nil
	}
	payload, err = payloadOf(u.last, t.tap)
	return t, t.tap, payload, err
}

// advance moves the user past a turn whose replies, got, were right.
func (u *loadUser) advance(got []reply) {
	u.last = got
	if u.turn++; u.turn == len(supportScript) {
		u.turn = loopFrom
	}
}

// restart starts the script over, for a new sender or visitor.
func (u *loadUser) restart() { u.turn, u.last = 0, nil }

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
	// Web chat: Sockets were open when the messages started;
	// ConnectFailures in all (reconnects after an error included);
	// ClosedCleanly at the end (the server answered the close frame).
	Webchat         bool
	Sockets         int
	ConnectFailures int64
	ClosedCleanly   int64
	// Sink: the replies the provider (--sink) got.
	Sink        bool
	SinkReplies int64
	// Consoles watching, the message events they timed, and the times.
	Consoles                           int
	ConsoleEvents                      int64
	ConsoleP50, ConsoleP99, ConsoleMax time.Duration
}

func (r *loadReport) print(w io.Writer) {
	rate := 0.0
	if r.Elapsed > 0 {
		rate = float64(r.Messages) / r.Elapsed.Seconds()
	}
	if r.Webchat {
		fmt.Fprintf(w, "messages:  %d in %.2fs (%d sockets)\n", r.Messages, r.Elapsed.Seconds(), r.Conns)
	} else {
		fmt.Fprintf(w, "messages:  %d in %.2fs (%d users, %d connections)\n", r.Messages, r.Elapsed.Seconds(), r.Users, r.Conns)
	}
	fmt.Fprintf(w, "rate:      %.0f messages/s\n", rate)
	fmt.Fprintf(w, "latency:   p50 %s  p90 %s  p99 %s  max %s\n", fmtDur(r.P50), fmtDur(r.P90), fmtDur(r.P99), fmtDur(r.Max))
	if r.Webchat {
		fmt.Fprintf(w, "sockets:   %d open, %d connect failures, %d closed cleanly\n", r.Sockets, r.ConnectFailures, r.ClosedCleanly)
	}
	if r.Sink {
		fmt.Fprintf(w, "provider:  %d replies delivered through the plugin\n", r.SinkReplies)
	}
	if r.Consoles > 0 {
		fmt.Fprintf(w, "consoles:  %d sockets, %d message events, send → console p50 %s  p99 %s  max %s\n", r.Consoles, r.ConsoleEvents, fmtDur(r.ConsoleP50), fmtDur(r.ConsoleP99), fmtDur(r.ConsoleMax))
	}
	fmt.Fprintf(w, "errors:    %d\n", r.Errors)
}

func fmtDur(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

// loadRun is the state both modes share: the message quota, the errors,
// and the end of the run (a message count, --duration, --max-errors, or
// the caller's context).
type loadRun struct {
	cfg      loadConfig
	ctx      context.Context
	cancel   context.CancelFunc
	claimed  atomic.Int64
	errCount atomic.Int64
	firstMu  sync.Mutex
	firstErr string
}

func newLoadRun(ctx context.Context, cfg loadConfig) *loadRun {
	r := &loadRun{cfg: cfg}
	r.ctx, r.cancel = context.WithCancel(ctx)
	return r
}

// startClock starts --duration; it returns the start time, and the stop
// of the timer.
func (r *loadRun) startClock() (time.Time, func() bool) {
	t := time.AfterFunc(r.cfg.Duration, r.cancel)
	return time.Now(), t.Stop
}

// claim takes one message of the quota; false: the run is over.
func (r *loadRun) claim() bool {
	return r.ctx.Err() == nil && r.claimed.Add(1) <= int64(r.cfg.Messages)
}

// fail counts an error (of who, at turn), keeps the first, and ends the
// run at --max-errors.
func (r *loadRun) fail(who string, turn int, err error) {
	if n := r.errCount.Add(1); n == 1 {
		r.firstMu.Lock()
		r.firstErr = fmt.Sprintf("%s, turn %d: %v", who, turn, err)
		r.firstMu.Unlock()
	}
	if r.errCount.Load() >= int64(r.cfg.MaxErrors) {
		r.cancel()
	}
}

// report makes the report of the latencies (microseconds, one slice per
// worker) of the messages that counted.
func (r *loadRun) report(lats [][]uint32, elapsed time.Duration) *loadReport {
	var all []uint32
	for _, l := range lats {
		all = append(all, l...)
	}
	slices.Sort(all)
	q := func(p float64) time.Duration { return quantileMicros(all, p) }
	r.firstMu.Lock()
	defer r.firstMu.Unlock()
	return &loadReport{
		Endpoint: r.cfg.endpoint, Users: r.cfg.Users, Conns: r.cfg.Conns,
		Messages: int64(len(all)), Errors: r.errCount.Load(), FirstError: r.firstErr, Elapsed: elapsed,
		P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: q(1),
	}
}

// quantileMicros is the p quantile of sorted latencies in microseconds.
func quantileMicros(sorted []uint32, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return time.Duration(sorted[i]) * time.Microsecond
}

// appendLatency adds d to a worker's latencies, in microseconds.
func appendLatency(lat []uint32, d time.Duration) []uint32 {
	return append(lat, uint32(min(max(d.Microseconds(), 0), int64(^uint32(0)))))
}

// runID is a random prefix that keeps one run's senders apart from
// another's.
func runID() string {
	var id [4]byte
	rand.Read(id[:])
	return "load-" + hex.EncodeToString(id[:]) + "-"
}

// hostClient is the HTTP client of the server, for the probe and the
// REST mode.
func hostClient(cfg loadConfig) *fasthttp.HostClient {
	return &fasthttp.HostClient{
		Addr:                          cfg.addr,
		MaxConns:                      cfg.Conns,
		ReadTimeout:                   cfg.Timeout,
		WriteTimeout:                  cfg.Timeout,
		MaxIdleConnDuration:           time.Minute,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
	}
}

// runLoad runs the load and returns its report; the error is for a run
// that could not start.
func runLoad(ctx context.Context, cfg loadConfig, progress io.Writer) (*loadReport, error) {
	prefix := runID()
	hc := hostClient(cfg)
	defer hc.CloseIdleConnections()
	// One request first: a server that is not there fails fast.
	if err := probe(hc, cfg); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "load: http://%s%s, %d users, %d connections, up to %d messages or %s\n", cfg.hostname, cfg.endpoint, cfg.Users, cfg.Conns, cfg.Messages, cfg.Duration)

	r := newLoadRun(ctx, cfg)
	defer r.cancel()
	var cons *consoles
	if cfg.Console > 0 {
		// Consoles watch the first users.
		watched := make([]string, cfg.Console)
		for i := range watched {
			watched[i] = prefix + strconv.Itoa(i)
		}
		var err error
		if cons, err = openConsoles(r, hc, watched); err != nil {
			return nil, err
		}
	}
	var wg sync.WaitGroup
	lats := make([][]uint32, cfg.Conns) // microseconds, per worker
	start, stopClock := r.startClock()
	defer stopClock()
	for w := 0; w < cfg.Conns; w++ {
		// Worker w owns users w, w+conns, ...: each user has one message
		// in flight at a time, so its conversation stays in order.
		var mine []*loadUser
		for i := w; i < cfg.Users; i += cfg.Conns {
			u := &loadUser{sender: prefix + strconv.Itoa(i), watch: -1}
			if i < cfg.Console {
				u.watch = i
			}
			mine = append(mine, u)
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
			for i := 0; r.claim(); i++ {
				u := mine[i%len(mine)]
				failed := func(err error) {
					r.fail("user "+u.sender, u.turn, err)
					u.restart() // with a new sender, whom no console watches
					u.sender += "r"
					u.watch = -1
				}
				t, msg, payload, err := u.next()
				if err != nil {
					failed(err)
					continue
				}
				if t.tap != "" {
					msg = payload // the REST channel takes a tap's payload as the message
				}
				body = appendRequest(body[:0], u.sender, msg)
				req.Reset()
				req.SetRequestURI(cfg.endpoint)
				req.Header.SetHost(cfg.hostname)
				req.Header.SetMethod(fasthttp.MethodPost)
				req.Header.SetContentType("application/json")
				req.SetBody(body)
				resp.Reset()
				cons.sending(u.watch)
				t0 := time.Now()
				err = hc.DoTimeout(req, resp, cfg.Timeout)
				d := time.Since(t0)
				var got []reply
				if err == nil {
					got, err = checkTurn(resp, u, t)
				}
				if err != nil {
					failed(err)
					continue
				}
				lat = appendLatency(lat, d)
				u.advance(got)
			}
			lats[w] = lat
		}(w)
	}
	wg.Wait()
	rep := r.report(lats, time.Since(start))
	if cons != nil {
		// Events of the last messages are under way: give them a moment.
		time.Sleep(200 * time.Millisecond)
		cons.close()
		cons.report(rep)
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

// checkTurn checks a REST answer against the script and returns its
// replies.
func checkTurn(resp *fasthttp.Response, u *loadUser, t turn) ([]reply, error) {
	if resp.StatusCode() != 200 {
		return nil, fmt.Errorf("status %d: %.200s", resp.StatusCode(), resp.Body())
	}
	got, ok := decodeReplies(resp.Body())
	if !ok {
		got = nil
		if err := json.Unmarshal(resp.Body(), &got); err != nil {
			return nil, fmt.Errorf("answer is not JSON: %v: %.200s", err, resp.Body())
		}
	}
	if len(got) != len(t.want) {
		return nil, fmt.Errorf("%d replies, want %d: %.300s", len(got), len(t.want), resp.Body())
	}
	for i, w := range t.want {
		if err := checkReply(i, got[i], w); err != nil {
			return nil, err
		}
		if got[i].RecipientID != u.sender {
			return nil, fmt.Errorf("reply %d is for %q, want %q", i+1, got[i].RecipientID, u.sender)
		}
	}
	return got, nil
}

// checkReply checks the text and button titles of the turn's reply i
// (from 0).
func checkReply(i int, g reply, w wantReply) error {
	if g.Text != w.text {
		return fmt.Errorf("reply %d is %q, want %q", i+1, g.Text, w.text)
	}
	if len(g.Buttons) != len(w.buttons) {
		return fmt.Errorf("reply %d has %d buttons, want %d", i+1, len(g.Buttons), len(w.buttons))
	}
	for j, b := range w.buttons {
		if g.Buttons[j].Title != b {
			return fmt.Errorf("reply %d button %d is %q, want %q", i+1, j+1, g.Buttons[j].Title, b)
		}
	}
	return nil
}
