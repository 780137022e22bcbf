package convo

// Conversation test files: YAML files that script a conversation with a bot
// and say what the bot must answer. `switchboard test` runs them.
//
//	bot: support.yaml                  # relative to this file, or the bot itself as a mapping
//	now: "2026-03-02 10:00"            # optional; the clock every test starts at
//	seed: 1                            # optional; the engine's random seed
//	contact: {name: Ann}               # optional; the default contact of every test
//	http:                              # optional: fake responses for JSON blocks, shared by the tests
//	  - {method: GET, url: "https://orders.example.com/api/orders/12345", status: 200, body: {status: shipped}}
//	  - {url: /orders\.example\.com\/api\/orders\/99999/, status: 404, body: {error: not found}}
//	  - {url: "https://slow.example.com/x", delay: 2s, headers: {Retry-After: "5"}, body: plain text}
//	tests:
//	  - name: tracks an order          # unique in the file; default "test N"
//	    contact: {id: c1, channel: webchat, name: Ann, status: new, attributes: {plan: gold}, tags: [vip]}
//	    now: 2026-03-05T09:00:00Z      # optional, per test; so is seed
//	    skip: not ready yet            # optional: true, or the reason
//	    http: [{url: "https://api.example.com/x", status: 500}]  # optional: this test's own fakes
//	    steps:
//	      - user: hi                                        # the user sends text
//	      - user: {text: hi, payload: p}                    # text and/or payload
//	      - user: {attachment: {url: "https://x/y.jpg", kind: image}}  # or attachments: [...]
//	      - user: {button: Track my order}                  # tap a button or quick reply by title
//	      - bot: "Hi Ann!"                                  # the next message's text
//	      - bot: /order number/i                            # ... matching a regex
//	      - bot: {text: "How can I help?", buttons: [Track my order, {title: Site, url: /example/}],
//	              quick_replies: [Yes, {title: No, payload: no}]}
//	      - bot: {image: URL}   # also {media: URL}, {file: URL}, {gallery: [Title, {title: T, subtitle: S, image: URL}]}
//	      - bot: {file: {url: /\.pdf$/, caption: Our catalogue., name: catalogue.pdf}}  # media and image too; also kind
//	      - bot: [Hi Ann!, /help/]                          # the next two messages
//	      - event: {name: page_visit, data: {url: /pricing}} # or event: NAME
//	      - wait: 10m                                       # or wait: {until: "2026-03-02 18:00"}
//	      - no_reply: true
//	      - handover: {queue: support, priority: high}      # also note, message, form: {…}; or handover: true
//	      - handover_end: resolved                          # or no_agent, timeout
//	      - notification: {name: new_lead, data: {email: ann@example.com}}  # or notification: NAME
//	      - expect: {vars.order: "12345", contact.tags: [vip, customer], session.waiting: false}
//
// How a test runs:
//
//   - Every test starts from a new contact and an empty session at a fixed
//     clock, 2026-03-02T10:00:00Z unless the file or the test says `now:`,
//     with a fixed random seed, so a test gives the same result every run.
//     Times without a zone offset are in the bot's time zone.
//   - Tests never reach the network. Without any http: list every request
//     of a JSON block fails like a network failure ("no network in
//     conversation tests: add an http: fake"), which takes its on_error.
//     With one (in the test, the file or both), the test gets a real HTTP
//     server on 127.0.0.1, closed when the test ends, and the engine a
//     client that sends every request there, whatever its host (path and
//     query kept, the original URL in the X-Switchboard-Original-Url
//     header). The test's fakes, then the file's, are tried in order: the
//     first whose method (any when not given) and url (the exact URL, or a
//     /regex/ searched in it) match answers, with status (default 200),
//     headers and body: a mapping, list, number or bool is sent as JSON
//     (Content-Type application/json), text as it is (text/plain), no body
//     as nothing. delay (at most 30s, real time) holds the answer back; a
//     JSON block's timeout gives up on it. A request no fake matches gets
//     a 502 and fails the step that made it: "unexpected HTTP request GET
//     https://…; the test's http: list has no fake for it". A fake of the
//     test that answered nothing fails the test at its end ("http fake …
//     was never requested"); a fake of the file, when no test of the file
//     requested it, fails the file as a result of its own, named "the
//     file's http fakes" (checked only when every test ran and passed). A
//     failure found after the last step has Step 0 and kind http.
//   - The bot's messages queue up as they are sent; each `bot` step takes the
//     next one from the queue and compares it (a list of expectations takes
//     as many). Input steps (`user`, `event`, `handover_end`) first discard
//     whatever is still queued: a test need not check every message. `wait`
//     keeps the queue, and adds what due timers send. `no_reply` fails when
//     anything is still queued.
//   - A bot mapping checks only the keys it gives; a list given (buttons,
//     quick_replies, gallery) must match in length and order.
//   - A string expectation is exact text, or a regular expression written
//     /like this/ with optional flags i, m, s and U after the closing slash.
//   - `user: {button: Title}` looks for the title among the buttons, quick
//     replies and gallery buttons the bot has sent, newest first (exact
//     title first, then ignoring case), and taps it: the message carries the
//     button's title and payload. Link buttons cannot be tapped.
//   - `handover` compares the given fields with the latest live-chat request
//     no earlier handover step has checked (form: only the values it
//     gives); `handover_end` fails when no handover is open.
//   - `notification` looks for the oldest notification (from TRIGGER) of
//     that name that no earlier notification step has checked and whose
//     data has the given values (keys not given are not compared).
//   - `expect` paths: vars.NAME[.KEY…], contact.name, contact.status,
//     contact.channel, contact.id, contact.attributes.NAME (or
//     contact.NAME), contact.tags (compared as a set), session.waiting
//     (true while a block waits) and session.skill (the current skill, ""
//     when idle). null expects the value unset. Numbers and text differ:
//     "12345" is not 12345.
//   - After every engine step the session goes through the session codec
//     (flows.MarshalSession/UnmarshalSession) the way the runtime stores it.
//   - Unknown keys, wrong shapes and bad values are errors reported at their
//     file:line:col before anything runs; so are the bot's load errors.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
)

// DefaultNow is the clock a test starts at unless its file says otherwise:
// Monday 2 March 2026, 10:00 UTC.
var DefaultNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// DefaultSeed is the random seed of a test unless its file says otherwise.
const DefaultSeed = 1

// MaxTestSteps bounds the steps of one test.
const MaxTestSteps = 10_000

// maxTestNodes bounds the YAML values a test file may expand to (aliases
// count each time they are used).
const maxTestNodes = 1_000_000

// RunOptions tune RunFile.
type RunOptions struct {
	// Filter, when set, runs only the tests whose names it matches.
	Filter *regexp.Regexp
	// Engine gives the limits the bot runs with; nil means the defaults.
	// Each test gets an engine of its own with those limits and an HTTP
	// client that answers from the test's http: fakes, or fails every
	// request when there are none, so tests never reach the network. Only
	// an Engine with an HTTP client of its own is used as it is, by the
	// tests without an http: list.
	Engine *engine.Engine
	// RoundTrip replaces the session codec round trip done after every step
	// (SessionRoundTrip). Tests of the runner use it.
	RoundTrip func(*flows.Session) (*flows.Session, error)
	// NoRoundTrip turns the round trip off.
	NoRoundTrip bool
}

// FileResult is what running one test file gave.
type FileResult struct {
	Path string
	// Bot is the path of the bot file, or the test file for an inline bot.
	Bot string
	// Warnings are the bot's load warnings.
	Warnings flows.Diagnostics
	Tests    []TestResult
}

// Passed counts the tests that passed.
func (r *FileResult) Passed() int { return r.count(func(t *TestResult) bool { return t.Passed() }) }

// Failed counts the tests that failed.
func (r *FileResult) Failed() int {
	return r.count(func(t *TestResult) bool { return t.Failure != nil })
}

// Skipped counts the tests marked skip.
func (r *FileResult) Skipped() int { return r.count(func(t *TestResult) bool { return t.Skipped }) }

func (r *FileResult) count(f func(*TestResult) bool) int {
	n := 0
	for i := range r.Tests {
		if f(&r.Tests[i]) {
			n++
		}
	}
	return n
}

// TestResult is the outcome of one test.
type TestResult struct {
	Name string
	// Line is where the test starts in the test file.
	Line int
	// Skipped is set for a test marked skip; SkipReason says why.
	Skipped    bool
	SkipReason string
	// Failure is nil when the test passed.
	Failure *Failure
	// Transcript is the conversation as it ran, one line per input or
	// message, up to the failing step.
	Transcript []string
	Elapsed    time.Duration
}

// Passed reports whether the test ran and passed.
func (t *TestResult) Passed() bool { return !t.Skipped && t.Failure == nil }

// Failure says which step of a test failed and how.
type Failure struct {
	// File, Line and Col are the failing step's position in the test file.
	File      string
	Line, Col int
	// Step is the 1-based number of the step within its test.
	Step int
	// Kind is the step's key: bot, user, expect…
	Kind    string
	Message string
	// Expected and Actual are what the step wanted and what happened, one
	// line each, for side-by-side display. Either may be empty.
	Expected []string
	Actual   []string
}

func (f *Failure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: step %d (%s): %s", f.File, f.Line, f.Col, f.Step, f.Kind, f.Message)
	if len(f.Expected) > 0 || len(f.Actual) > 0 {
		b.WriteString("\n  expected:")
		for _, l := range f.Expected {
			b.WriteString("\n    " + l)
		}
		b.WriteString("\n  actual:")
		for _, l := range f.Actual {
			b.WriteString("\n    " + l)
		}
	}
	return b.String()
}

// SessionRoundTrip passes a session through the session codec
// (flows.MarshalSession and flows.UnmarshalSession), as the runtime's store
// does between steps. RunFile uses it unless RunOptions say otherwise.
func SessionRoundTrip(s *flows.Session) (*flows.Session, error) {
	b, err := flows.MarshalSession(s)
	if err != nil {
		return nil, err
	}
	return flows.UnmarshalSession(b)
}

// TestFile is a parsed conversation test file.
type TestFile struct {
	Path string
	// BotPath is the bot file, or Path for an inline bot.
	BotPath  string
	Bot      *flows.Bot
	Warnings flows.Diagnostics
	Tests    []*Test
	// http is the file's http: list, shared by its tests; hasHTTP is set
	// when the file has one, even empty.
	http     []*httpFake
	hasHTTP  bool
	httpLine int
}

// Test is one scripted conversation.
type Test struct {
	Name       string
	Line       int
	Skip       bool
	SkipReason string
	now        time.Time
	seed       uint64
	contact    *flows.Contact
	steps      []*step
	http       []*httpFake
	hasHTTP    bool
}

// ParseTestFile reads a test file and loads its bot. Every problem comes
// back as a diagnostic at its position (file:line:col: message), the bot's
// warnings included; the file is nil when there is an error.
func ParseTestFile(path string) (*TestFile, flows.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, flows.Diagnostics{{File: path, Line: 1, Col: 1, Severity: flows.SevError, Message: err.Error()}}
	}
	return ParseTest(path, src)
}

// ParseTest parses a test file's bytes; path names it in diagnostics and
// anchors a relative bot path.
func ParseTest(path string, src []byte) (*TestFile, flows.Diagnostics) {
	p := &parser{path: path, src: src, loc: time.UTC}
	tf := p.parse()
	p.diags.Sort()
	if p.diags.HasErrors() {
		return nil, p.diags
	}
	return tf, p.diags
}

// RunFile parses and runs a test file. The error is a flows.Diagnostics
// when the file (or its bot) has errors: then nothing ran and the result
// holds only the path. A failing test is not an error: see the result.
func RunFile(path string, opts RunOptions) (*FileResult, error) {
	res := &FileResult{Path: path}
	tf, ds := ParseTestFile(path)
	if tf == nil {
		return res, ds
	}
	return tf.Run(opts), nil
}

// Run runs the file's tests.
func (tf *TestFile) Run(opts RunOptions) *FileResult {
	res := &FileResult{Path: tf.Path, Bot: tf.BotPath, Warnings: tf.Warnings}
	used := map[*httpFake]int{}
	all := true // every test ran and passed
	for _, t := range tf.Tests {
		if opts.Filter != nil && !opts.Filter.MatchString(t.Name) {
			all = false
			continue
		}
		tr := t.run(tf, opts, used)
		all = all && tr.Passed()
		res.Tests = append(res.Tests, tr)
	}
	if all {
		if tr := tf.unusedFakes(used); tr != nil {
			res.Tests = append(res.Tests, *tr)
		}
	}
	return res
}

// unusedFakes fails the file when one of its own http fakes, shared by its
// tests, answered no request of any of them. It is checked only when every
// test ran and passed: a test left out or failing early may be the one that
// needs the fake.
func (tf *TestFile) unusedFakes(used map[*httpFake]int) *TestResult {
	var unused []*httpFake
	for _, f := range tf.http {
		if used[f] == 0 {
			unused = append(unused, f)
		}
	}
	if len(unused) == 0 {
		return nil
	}
	f := unused[0]
	fail := &Failure{
		File: tf.Path, Line: f.line, Col: f.col, Kind: "http",
		Message: fmt.Sprintf("http fake %s was never requested by any test of the file (remove the fake, or check its method and url)", f),
	}
	if len(unused) > 1 {
		fail.Expected = []string{"every fake requested"}
		for _, u := range unused {
			fail.Actual = append(fail.Actual, fmt.Sprintf("line %d: %s never requested", u.line, u))
		}
	}
	return &TestResult{Name: "the file's http fakes", Line: tf.httpLine, Failure: fail}
}

// ---------------------------------------------------------------------------
// Steps

type stepKind string

const (
	stepUser        stepKind = "user"
	stepBot         stepKind = "bot"
	stepEvent       stepKind = "event"
	stepWait        stepKind = "wait"
	stepNoReply     stepKind = "no_reply"
	stepHandover    stepKind = "handover"
	stepHandoverEnd stepKind = "handover_end"
	stepExpect      stepKind = "expect"
	stepNotify      stepKind = "notification"
)

var stepKinds = []string{"user", "bot", "event", "wait", "no_reply", "handover", "handover_end", "notification", "expect"}

type step struct {
	kind      stepKind
	line, col int

	// user
	msg    flows.Content
	button string
	// bot
	bots []*botExpect
	// event
	event string
	data  map[string]any
	// wait
	wait    time.Duration
	until   time.Time
	waitSrc string
	// handover: the fields to compare, and the form's values
	handover map[string]string
	form     []*valueExpect
	// handover_end
	outcome string
	// expect
	expects []*valueExpect
	// notification: the name, and the data keys to compare
	note     string
	noteData []*valueExpect
}

// textMatch is an exact text or a /regular expression/.
type textMatch struct {
	src string
	re  *regexp.Regexp
}

func (m *textMatch) match(s string) bool {
	if m.re != nil {
		return m.re.MatchString(s)
	}
	return m.src == s
}

func (m *textMatch) String() string {
	if m.re != nil {
		return m.src
	}
	return quoteIfNeeded(m.src)
}

// choiceExpect is an expected button, quick reply or gallery card.
type choiceExpect struct {
	title    textMatch
	payload  *textMatch
	url      *textMatch
	subtitle *textMatch // cards
	image    *textMatch // cards
}

// botExpect is what one bot message must look like; nil fields are not
// checked.
type botExpect struct {
	text         *textMatch
	buttons      []choiceExpect
	hasButtons   bool
	quickReplies []choiceExpect
	hasQuick     bool
	gallery      []choiceExpect
	hasGallery   bool
	image        *mediaExpect
	media        *mediaExpect
	file         *mediaExpect
}

// mediaExpect is an expected image, clip or file: its URL, and the caption,
// name and kind when given.
type mediaExpect struct {
	url, caption, name, kind *textMatch
}

func (e *mediaExpect) match(m *flows.Media) bool {
	return m != nil &&
		(e.url == nil || e.url.match(m.URL)) &&
		(e.caption == nil || e.caption.match(m.Caption)) &&
		(e.name == nil || e.name.match(m.Name)) &&
		(e.kind == nil || e.kind.match(m.Kind))
}

func (e *mediaExpect) String() string {
	var parts []string
	for _, f := range []struct {
		k string
		m *textMatch
	}{{"", e.url}, {"caption", e.caption}, {"name", e.name}, {"kind", e.kind}} {
		if f.m == nil {
			continue
		}
		if f.k == "" {
			parts = append(parts, f.m.String())
		} else {
			parts = append(parts, f.k+" "+f.m.String())
		}
	}
	return strings.Join(parts, ", ")
}

// describeMedia shows a message's image, clip or file like mediaExpect.
func describeMedia(m *flows.Media) string {
	s := m.URL
	if m.Caption != "" {
		s += ", caption " + quoteIfNeeded(m.Caption)
	}
	return s
}

type valueExpect struct {
	path      string
	line, col int
	want      any
}

// ---------------------------------------------------------------------------
// HTTP fakes

// MaxHTTPDelay bounds a fake's delay: a JSON block waits 30s at most.
const MaxHTTPDelay = 30 * time.Second

// OriginalURLHeader carries the URL a JSON block asked for to the fake
// server, whose own address replaces the request's scheme and host.
const OriginalURLHeader = "X-Switchboard-Original-Url"

// errNoNetwork is what every HTTP request of a test without an http: list
// fails with: like a network failure, it takes the JSON block's on_error.
var errNoNetwork = errors.New("no network in conversation tests: add an http: fake")

// offlineHTTP fails every request with errNoNetwork.
type offlineHTTP struct{}

func (offlineHTTP) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, errNoNetwork
}

// httpFake is one entry of an http: list: the response to requests whose
// method and URL match.
type httpFake struct {
	line, col   int
	method      string // "" matches any method
	url         textMatch
	status      int
	body        []byte
	contentType string
	headers     map[string]string
	delay       time.Duration
	fileLevel   bool
}

func (f *httpFake) matches(method, u string) bool {
	return (f.method == "" || f.method == method) && f.url.match(u)
}

func (f *httpFake) String() string {
	m := f.method
	if m == "" {
		m = "any"
	}
	return m + " " + f.url.String()
}

// fakeHTTP is the fake web of one test: a real HTTP server on 127.0.0.1
// that answers from the fakes, and a client whose transport sends every
// request to it, whatever its host.
type fakeHTTP struct {
	fakes     []*httpFake // the test's, then the file's: the first match answers
	srv       *httptest.Server
	transport *http.Transport
	done      chan struct{}

	mu         sync.Mutex
	used       map[*httpFake]int
	unexpected []string // requests no fake matched, since the last drain
	log        []string // transcript lines, since the last drain
}

func startFakeHTTP(fakes []*httpFake) *fakeHTTP {
	h := &fakeHTTP{fakes: fakes, done: make(chan struct{}), used: map[*httpFake]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	h.transport = &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}
	return h
}

// client is the engine's HTTP client for the test.
func (h *fakeHTTP) client() flows.HTTPDoer {
	target, _ := url.Parse(h.srv.URL)
	return &http.Client{Transport: &redirectTransport{base: h.transport, target: target}}
}

// redirectTransport sends every request to the fake server, keeping its
// path and query, with the original URL in OriginalURLHeader.
type redirectTransport struct {
	base   http.RoundTripper
	target *url.URL
}

func (t *redirectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	u := *req.URL
	u.Scheme, u.Host, u.User = t.target.Scheme, t.target.Host, nil
	out.URL, out.Host = &u, ""
	out.Header.Set(OriginalURLHeader, req.URL.String())
	return t.base.RoundTrip(out)
}

func (h *fakeHTTP) serve(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	orig := r.Header.Get(OriginalURLHeader)
	if orig == "" {
		http.Error(w, "this server answers the JSON blocks of a conversation test only", http.StatusBadRequest)
		return
	}
	what := r.Method + " " + orig
	var fake *httpFake
	for _, f := range h.fakes {
		if f.matches(r.Method, orig) {
			fake = f
			break
		}
	}
	h.mu.Lock()
	if fake == nil {
		h.unexpected = append(h.unexpected, what)
		h.log = append(h.log, "http: "+what+" → 502 (no fake)")
	} else {
		h.used[fake]++
		h.log = append(h.log, fmt.Sprintf("http: %s → %d", what, fake.status))
	}
	h.mu.Unlock()
	if fake == nil {
		http.Error(w, "unexpected request: the test's http: list has no fake for "+what, http.StatusBadGateway)
		return
	}
	if fake.delay > 0 {
		tm := time.NewTimer(fake.delay)
		defer tm.Stop()
		select {
		case <-tm.C:
		case <-r.Context().Done():
			return // the client gave up: a JSON block timed out
		case <-h.done:
			return
		}
	}
	for k, v := range fake.headers {
		w.Header().Set(k, v)
	}
	if fake.contentType != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", fake.contentType)
	}
	w.WriteHeader(fake.status)
	_, _ = w.Write(fake.body)
}

// drain returns the transcript lines and unexpected requests since the
// last drain.
func (h *fakeHTTP) drain() (log, unexpected []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	log, unexpected = h.log, h.unexpected
	h.log, h.unexpected = nil, nil
	return log, unexpected
}

// timesUsed says how many requests a fake answered.
func (h *fakeHTTP) timesUsed(f *httpFake) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.used[f]
}

// close stops the server: delayed answers are abandoned, running handlers
// are waited for and every connection is closed.
func (h *fakeHTTP) close() {
	close(h.done)
	h.srv.Close()
	h.transport.CloseIdleConnections()
}

func describeFakes(fakes []*httpFake) []string {
	if len(fakes) == 0 {
		return []string{"(no http fakes)"}
	}
	out := make([]string, len(fakes))
	for i, f := range fakes {
		out[i] = "a fake for " + f.String()
	}
	return out
}

// ---------------------------------------------------------------------------
// Running

type tester struct {
	tf        *TestFile
	t         *Test
	c         *Conversation
	pending   []flows.Content
	history   []flows.Content
	handovers []flows.HandoverRequest
	checked   int // handover requests checked so far
	notes     []flows.Notification
	noted     []bool // which notifications a step has checked
	script    []string
	web       *fakeHTTP // nil without http: lists
	fakes     []*httpFake
	// unexpected are the requests of the current step no fake matched.
	unexpected []string
}

// engine gives the test its engine: the limits of opts.Engine, and an HTTP
// client that answers from the fakes, or fails every request when the test
// and its file have no http: list. A caller's engine with an HTTP client of
// its own is used as it is for tests without an http: list.
func (t *Test) engine(opts RunOptions, client flows.HTTPDoer, faked bool) *engine.Engine {
	if opts.Engine != nil && opts.Engine.HTTP != nil && !faked {
		return opts.Engine
	}
	eng := engine.New(client)
	if opts.Engine != nil {
		eng.Limits = opts.Engine.Limits
	}
	return eng
}

// run runs the test; used counts the requests each file-level fake answered.
func (t *Test) run(tf *TestFile, opts RunOptions, used map[*httpFake]int) TestResult {
	start := time.Now()
	res := TestResult{Name: t.Name, Line: t.Line, Skipped: t.Skip, SkipReason: t.SkipReason}
	if t.Skip {
		return res
	}
	ts := &tester{tf: tf, t: t}
	var client flows.HTTPDoer = offlineHTTP{}
	faked := t.hasHTTP || tf.hasHTTP
	if faked {
		ts.fakes = append(append(ts.fakes, t.http...), tf.http...)
		ts.web = startFakeHTTP(ts.fakes)
		client = ts.web.client()
		defer func() {
			if ts.web != nil {
				ts.web.close()
			}
		}()
	}
	c := New(tf.Bot, t.engine(opts, client, faked), t.contact.Clone(), t.now)
	c.Seed = t.seed
	switch {
	case opts.NoRoundTrip:
	case opts.RoundTrip != nil:
		c.RoundTrip = opts.RoundTrip
	default:
		c.RoundTrip = SessionRoundTrip
	}
	ts.c = c
	c.OnSprint = func(sp *flows.Sprint) {
		if sp.Handover != nil {
			ts.handovers = append(ts.handovers, *sp.Handover)
		}
		for _, n := range sp.Notifications {
			ts.notes = append(ts.notes, n)
			ts.noted = append(ts.noted, false)
		}
	}
	for i, s := range t.steps {
		ts.unexpected = nil
		f := ts.step(s)
		if len(ts.unexpected) > 0 {
			// A request without a fake is the cause of whatever else
			// went wrong in the step.
			f = ts.unexpectedFailure()
		}
		if f != nil {
			f.File, f.Line, f.Col, f.Step, f.Kind = tf.Path, s.line, s.col, i+1, string(s.kind)
			res.Failure = f
			break
		}
	}
	if ts.web != nil {
		// Close the server first: a handler still running (a request the
		// flow gave up on) is waited for, so every request is counted.
		ts.web.close()
		log, unexpected := ts.web.drain()
		ts.script = append(ts.script, log...)
		if res.Failure == nil && len(unexpected) > 0 {
			ts.unexpected = unexpected
			f := ts.unexpectedFailure()
			f.File, f.Line, f.Col, f.Kind = tf.Path, t.Line, 1, "http"
			res.Failure = f
		}
		for _, f := range tf.http {
			used[f] += ts.web.timesUsed(f)
		}
		if res.Failure == nil {
			res.Failure = ts.unusedFake()
		}
		ts.web = nil
	}
	res.Transcript = ts.script
	res.Elapsed = time.Since(start)
	return res
}

func (ts *tester) unexpectedFailure() *Failure {
	actual := []string{ts.unexpected[0]}
	if n := len(ts.unexpected) - 1; n > 0 {
		actual = append(actual, fmt.Sprintf("(and %d more unexpected request%s)", n, plural(n)))
	}
	return &Failure{
		Message:  fmt.Sprintf("unexpected HTTP request %s; the test's http: list has no fake for it", ts.unexpected[0]),
		Expected: describeFakes(ts.fakes),
		Actual:   actual,
	}
}

// unusedFake fails a test that declared a fake of its own and never
// requested it.
func (ts *tester) unusedFake() *Failure {
	for _, f := range ts.t.http {
		if ts.web.timesUsed(f) == 0 {
			return &Failure{
				File: ts.tf.Path, Line: f.line, Col: f.col, Kind: "http",
				Message: fmt.Sprintf("http fake %s was never requested: the bot made no such request (remove the fake, or check its method and url)", f),
			}
		}
	}
	return nil
}

// pollHTTP moves what the fake server saw into the transcript and notes
// the requests no fake matched.
func (ts *tester) pollHTTP() {
	if ts.web == nil {
		return
	}
	log, unexpected := ts.web.drain()
	ts.script = append(ts.script, log...)
	ts.unexpected = append(ts.unexpected, unexpected...)
}

func (ts *tester) received(msgs []flows.Content, err error) *Failure {
	ts.pollHTTP()
	for _, m := range msgs {
		ts.script = append(ts.script, "bot: "+oneLine(m))
	}
	ts.pending = append(ts.pending, msgs...)
	ts.history = append(ts.history, msgs...)
	if err != nil {
		return &Failure{Message: err.Error()}
	}
	return nil
}

func (ts *tester) step(s *step) *Failure {
	c := ts.c
	switch s.kind {
	case stepUser:
		ts.pending = nil
		msg := s.msg
		if s.button != "" {
			b, offered := ts.findButton(s.button)
			if b == nil {
				return &Failure{
					Message:  fmt.Sprintf("the bot offered no button or quick reply titled %q", s.button),
					Expected: []string{"a button " + quoteIfNeeded(s.button)},
					Actual:   orNone(offered, "(no buttons offered)"),
				}
			}
			if b.URL != "" {
				return &Failure{Message: fmt.Sprintf("button %q is a link to %s; only buttons with a payload or goto can be tapped", b.Title, b.URL)}
			}
			msg = flows.Content{Text: b.Title, Payload: b.Payload}
			ts.script = append(ts.script, "user: ["+b.Title+"]")
		} else {
			ts.script = append(ts.script, "user: "+oneLine(msg))
		}
		return ts.received(c.Send(msg))
	case stepEvent:
		ts.pending = nil
		ts.script = append(ts.script, "event: "+s.event)
		return ts.received(c.Event(s.event, cloneData(s.data)))
	case stepHandoverEnd:
		ts.pending = nil
		if c.Handover == nil {
			return &Failure{Message: "no live-chat handover is open to end", Expected: []string{"an open handover"}, Actual: []string{"(none)"}}
		}
		ts.script = append(ts.script, "handover ends: "+s.outcome)
		return ts.received(c.EndHandover(s.outcome))
	case stepWait:
		if !s.until.IsZero() {
			if s.until.Before(c.Now) {
				return &Failure{Message: fmt.Sprintf("wait until %s is in the past: the clock is at %s", s.waitSrc, c.Now.In(ts.tf.Bot.Location).Format("2006-01-02 15:04:05 MST"))}
			}
			ts.script = append(ts.script, "wait until "+s.waitSrc)
			return ts.received(c.AdvanceTo(s.until))
		}
		ts.script = append(ts.script, "wait "+s.waitSrc)
		return ts.received(c.Advance(s.wait))
	case stepBot:
		for _, want := range s.bots {
			want := want
			if len(ts.pending) == 0 {
				return &Failure{
					Message:  "the bot sent no message here",
					Expected: want.describe(),
					Actual:   []string{"(no message)"},
				}
			}
			got := ts.pending[0]
			ts.pending = ts.pending[1:]
			if what := want.mismatch(&got); what != "" {
				return &Failure{Message: what, Expected: want.describe(), Actual: describeMessage(&got)}
			}
		}
	case stepNoReply:
		if len(ts.pending) > 0 {
			actual := describeMessage(&ts.pending[0])
			if n := len(ts.pending) - 1; n > 0 {
				actual = append(actual, fmt.Sprintf("(and %d more message%s)", n, plural(n)))
			}
			return &Failure{Message: "the bot sent a message no step expected", Expected: []string{"(no message)"}, Actual: actual}
		}
	case stepHandover:
		if len(ts.handovers) == ts.checked {
			return &Failure{
				Message:  "no live-chat request was made",
				Expected: describeHandoverWant(s.handover, s.form),
				Actual:   []string{"(no request)"},
			}
		}
		got := ts.handovers[len(ts.handovers)-1]
		ts.checked = len(ts.handovers)
		have := map[string]string{"queue": got.Queue, "priority": got.Priority, "note": got.Note, "message": got.Message}
		var exp, act []string
		differs := false
		for _, k := range sortedKeys(s.handover) {
			exp = append(exp, k+": "+quoteIfNeeded(s.handover[k]))
			act = append(act, k+": "+quoteIfNeeded(have[k]))
			if have[k] != s.handover[k] {
				differs = true
			}
		}
		for _, e := range s.form {
			v := dig(got.Form, e.path)
			exp = append(exp, "form."+e.path+": "+formatValue(e.want))
			act = append(act, "form."+e.path+": "+formatValue(v))
			if !sameValue(e.want, v) {
				differs = true
			}
		}
		if differs {
			return &Failure{Message: "the live-chat request differs", Expected: exp, Actual: act}
		}
	case stepNotify:
		return ts.checkNotification(s)
	case stepExpect:
		var exp, act []string
		bad := 0
		for _, e := range s.expects {
			got := ts.lookup(e.path)
			ok := false
			if e.path == "contact.tags" {
				ok = sameSet(e.want, got)
			} else {
				ok = sameValue(e.want, got)
			}
			if !ok {
				bad++
				exp = append(exp, e.path+": "+formatValue(e.want))
				act = append(act, e.path+": "+formatValue(got))
			}
		}
		if bad > 0 {
			what := "a value differs"
			if bad > 1 {
				what = fmt.Sprintf("%d values differ", bad)
			}
			return &Failure{Message: what, Expected: exp, Actual: act}
		}
	}
	return nil
}

// checkNotification finds the oldest notification of the step's name that
// no earlier step has checked and whose data has the step's values.
func (ts *tester) checkNotification(s *step) *Failure {
	first := -1
	for i, n := range ts.notes {
		if ts.noted[i] || n.Name != s.note {
			continue
		}
		if first < 0 {
			first = i
		}
		if ts.noteDataDiffers(s, n) == nil {
			ts.noted[i] = true
			return nil
		}
	}
	want := []string{"notification " + quoteIfNeeded(s.note)}
	for _, e := range s.noteData {
		want = append(want, "data."+e.path+": "+formatValue(e.want))
	}
	if first < 0 {
		var raised []string
		for i, n := range ts.notes {
			if !ts.noted[i] {
				raised = append(raised, quoteIfNeeded(n.Name))
			}
		}
		actual := []string{"(no notification)"}
		if len(raised) > 0 {
			actual = []string{"notifications " + strings.Join(raised, ", ")}
		}
		return &Failure{Message: fmt.Sprintf("no notification %s was raised", quoteIfNeeded(s.note)), Expected: want, Actual: actual}
	}
	return &Failure{Message: "the notification's data differs", Expected: want, Actual: append([]string{"notification " + quoteIfNeeded(s.note)}, ts.noteDataDiffers(s, ts.notes[first])...)}
}

// noteDataDiffers lists the step's data values as the notification has
// them, or nil when they are all the same.
func (ts *tester) noteDataDiffers(s *step, n flows.Notification) []string {
	var got []string
	bad := false
	for _, e := range s.noteData {
		v := dig(n.Data, e.path)
		got = append(got, "data."+e.path+": "+formatValue(v))
		if !sameValue(e.want, v) {
			bad = true
		}
	}
	if !bad {
		return nil
	}
	return got
}

// findButton finds a tappable choice by title among everything the bot
// sent, newest first: an exact title, else one that differs only in case.
// It also returns the titles on offer, for the failure message.
func (ts *tester) findButton(title string) (*flows.Button, []string) {
	var all []flows.Button
	for i := len(ts.history) - 1; i >= 0; i-- {
		m := &ts.history[i]
		all = append(all, m.Buttons...)
		all = append(all, m.QuickReplies...)
		for _, card := range m.Gallery {
			all = append(all, card.Buttons...)
		}
	}
	for i := range all {
		if all[i].Title == title {
			return &all[i], nil
		}
	}
	for i := range all {
		if strings.EqualFold(all[i].Title, title) {
			return &all[i], nil
		}
	}
	seen := map[string]bool{}
	var titles []string
	for _, b := range all {
		if !seen[b.Title] {
			seen[b.Title] = true
			titles = append(titles, quoteIfNeeded(b.Title))
		}
	}
	return nil, titles
}

// lookup reads an expect path: vars.X[.Y…], contact.name|status|channel|id|
// tags, contact.attributes.X[.Y…] (or contact.X for an attribute),
// session.waiting, session.skill.
func (ts *tester) lookup(path string) any {
	c := ts.c
	head, rest, _ := strings.Cut(path, ".")
	switch head {
	case "vars":
		var vars map[string]any
		if c.Session != nil {
			vars = c.Session.Vars
		}
		return dig(vars, rest)
	case "contact":
		ct := c.Contact
		switch rest {
		case "name":
			return ct.Name
		case "status":
			return ct.Status
		case "channel":
			return ct.Channel
		case "id":
			return ct.ID
		case "tags":
			return ct.Tags
		}
		if a, ok := strings.CutPrefix(rest, "attributes."); ok {
			return dig(ct.Attributes, a)
		}
		return dig(ct.Attributes, rest)
	case "session":
		s := c.Session
		switch rest {
		case "waiting":
			return s != nil && s.Wait != nil
		case "skill":
			if s == nil || s.Current() == nil {
				return ""
			}
			return s.Current().Skill
		}
	}
	return nil
}

// dig follows a dotted path into nested maps.
func dig(m map[string]any, path string) any {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		mm, ok := normalize(cur).(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[part]
	}
	return cur
}

// ---------------------------------------------------------------------------
// Comparing and describing

func (b *botExpect) mismatch(m *flows.Content) string {
	if b.text != nil && !b.text.match(m.Text) {
		return "the bot's message text differs"
	}
	if b.hasButtons && !choicesMatch(b.buttons, m.Buttons) {
		return "the message's buttons differ"
	}
	if b.hasQuick && !choicesMatch(b.quickReplies, m.QuickReplies) {
		return "the message's quick replies differ"
	}
	if b.hasGallery && !cardsMatch(b.gallery, m.Gallery) {
		return "the message's gallery differs"
	}
	if b.image != nil && !b.image.match(m.Image) {
		return "the message's image differs"
	}
	if b.media != nil && !b.media.match(m.Media) {
		return "the message's media differs"
	}
	if b.file != nil && !b.file.match(m.File) {
		return "the message's file differs"
	}
	return ""
}

func choicesMatch(want []choiceExpect, got []flows.Button) bool {
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		g := got[i]
		if !w.title.match(g.Title) ||
			(w.payload != nil && !w.payload.match(g.Payload)) ||
			(w.url != nil && !w.url.match(g.URL)) {
			return false
		}
	}
	return true
}

func cardsMatch(want []choiceExpect, got []flows.Card) bool {
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		g := got[i]
		if !w.title.match(g.Title) ||
			(w.subtitle != nil && !w.subtitle.match(g.Subtitle)) ||
			(w.image != nil && !w.image.match(g.Image)) {
			return false
		}
	}
	return true
}

func (b *botExpect) describe() []string {
	var out []string
	if b.text != nil {
		out = append(out, "text: "+b.text.String())
	}
	if b.hasButtons {
		out = append(out, "buttons: "+describeChoices(b.buttons))
	}
	if b.hasQuick {
		out = append(out, "quick replies: "+describeChoices(b.quickReplies))
	}
	if b.hasGallery {
		out = append(out, "gallery: "+describeChoices(b.gallery))
	}
	if b.image != nil {
		out = append(out, "image: "+b.image.String())
	}
	if b.media != nil {
		out = append(out, "media: "+b.media.String())
	}
	if b.file != nil {
		out = append(out, "file: "+b.file.String())
	}
	if len(out) == 0 {
		out = append(out, "(any message)")
	}
	return out
}

func describeChoices(cs []choiceExpect) string {
	if len(cs) == 0 {
		return "(none)"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		s := c.title.String()
		if c.payload != nil {
			s += " → " + c.payload.String()
		}
		if c.url != nil {
			s += " → " + c.url.String()
		}
		parts[i] = s
	}
	return strings.Join(parts, " | ")
}

func describeButtons(bs []flows.Button) string {
	if len(bs) == 0 {
		return "(none)"
	}
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = quoteIfNeeded(b.Title)
	}
	return strings.Join(parts, " | ")
}

// describeMessage lists what a bot message carries, one part a line, in the
// same words describe uses for expectations.
func describeMessage(m *flows.Content) []string {
	var out []string
	if m.Text != "" || (len(m.Buttons) == 0 && len(m.QuickReplies) == 0 && m.Image == nil && m.Media == nil && m.File == nil && len(m.Gallery) == 0) {
		out = append(out, "text: "+quoteIfNeeded(m.Text))
	}
	if len(m.Buttons) > 0 {
		out = append(out, "buttons: "+describeButtons(m.Buttons))
	}
	if len(m.QuickReplies) > 0 {
		out = append(out, "quick replies: "+describeButtons(m.QuickReplies))
	}
	if len(m.Gallery) > 0 {
		titles := make([]string, len(m.Gallery))
		for i, c := range m.Gallery {
			titles[i] = quoteIfNeeded(c.Title)
		}
		out = append(out, "gallery: "+strings.Join(titles, " | "))
	}
	if m.Image != nil {
		out = append(out, "image: "+describeMedia(m.Image))
	}
	if m.Media != nil {
		out = append(out, "media: "+describeMedia(m.Media))
	}
	if m.File != nil {
		out = append(out, "file: "+describeMedia(m.File))
	}
	return out
}

// oneLine describes a message in one transcript line.
func oneLine(m flows.Content) string {
	parts := []string{}
	if m.Text != "" {
		parts = append(parts, m.Text)
	}
	for _, b := range m.Buttons {
		parts = append(parts, "["+b.Title+"]")
	}
	for _, b := range m.QuickReplies {
		parts = append(parts, "("+b.Title+")")
	}
	for _, c := range m.Gallery {
		parts = append(parts, "[card "+c.Title+"]")
	}
	for _, x := range []struct {
		kind string
		m    *flows.Media
	}{{"image", m.Image}, {"media", m.Media}, {"file", m.File}} {
		if x.m != nil {
			parts = append(parts, "["+x.kind+" "+x.m.URL+"]")
			if x.m.Caption != "" {
				parts = append(parts, x.m.Caption)
			}
		}
	}
	for _, a := range m.Attachments {
		parts = append(parts, "[attachment "+a.URL+"]")
	}
	if m.Payload != "" && m.Text == "" {
		parts = append(parts, "(payload "+m.Payload+")")
	}
	return strings.Join(parts, " ")
}

func describeHandoverWant(w map[string]string, form []*valueExpect) []string {
	if len(w) == 0 && len(form) == 0 {
		return []string{"a live-chat request"}
	}
	var out []string
	for _, k := range sortedKeys(w) {
		out = append(out, k+": "+quoteIfNeeded(w[k]))
	}
	for _, e := range form {
		out = append(out, "form."+e.path+": "+formatValue(e.want))
	}
	return out
}

func orNone(ss []string, none string) []string {
	if len(ss) == 0 {
		return []string{none}
	}
	return []string{strings.Join(ss, ", ")}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// quoteIfNeeded quotes text that would be ambiguous bare: empty, padded,
// multi-line or looking like a number, bool or regex.
func quoteIfNeeded(s string) string {
	if s == "" || strings.TrimSpace(s) != s || strings.ContainsAny(s, "\n\t\"") ||
		looksLikeRegex(s) || s == "true" || s == "false" || s == "null" {
		return strconv.Quote(s)
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.Quote(s)
	}
	return s
}

var regexLitRe = regexp.MustCompile(`^/(.+)/([imsU]*)$`)

func looksLikeRegex(s string) bool { return regexLitRe.MatchString(s) }

// normalize turns a value into its JSON shape: numbers become float64,
// structs and typed maps become map[string]any, times become text.
func normalize(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64, map[string]any:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	case time.Time:
		return x.Format(time.RFC3339)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Sprint(v)
	}
	return out
}

func sameValue(want, got any) bool {
	if t, ok := got.(time.Time); ok {
		if s, ok := want.(string); ok {
			return s == t.Format(time.RFC3339) || s == engine.Format(t) || s == t.Format("2006-01-02")
		}
	}
	return deepEqual(normalize(want), normalize(got))
}

func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := normalize(b).([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(normalize(x[i]), normalize(y[i])) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := normalize(b).(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !deepEqual(normalize(v), normalize(w)) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || (math.IsNaN(x) && math.IsNaN(y)))
	}
	return a == b
}

// sameSet compares two lists as sets of their formatted items.
func sameSet(want, got any) bool {
	set := func(v any) (map[string]bool, bool) {
		if v == nil {
			return map[string]bool{}, true
		}
		l, ok := normalize(v).([]any)
		if !ok {
			return nil, false
		}
		m := map[string]bool{}
		for _, x := range l {
			m[fmt.Sprint(x)] = true
		}
		return m, true
	}
	a, ok1 := set(want)
	b, ok2 := set(got)
	if !ok1 || !ok2 || len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// formatValue shows a value the way it would be written in a test file,
// with its kind where text and numbers could be confused.
func formatValue(v any) string {
	v = normalize(v)
	switch x := v.(type) {
	case nil:
		return "(not set)"
	case string:
		if _, err := strconv.ParseFloat(x, 64); err == nil {
			return strconv.Quote(x) + " (text)"
		}
		return strconv.Quote(x)
	case float64:
		return engine.Format(x) + " (a number)"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func cloneData(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// ---------------------------------------------------------------------------
// Parsing

type parser struct {
	path  string
	src   []byte
	diags flows.Diagnostics
	loc   *time.Location
	nodes int
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	p.diags = append(p.diags, flows.Diagnostic{File: p.path, Line: line, Col: col, Severity: flows.SevError, Message: fmt.Sprintf(format, args...)})
}

type field struct {
	key, val *yaml.Node
}

// mapping checks that n is a mapping whose keys are among allowed and
// returns its entries by key; it reports unknown and duplicate keys.
func (p *parser) mapping(n *yaml.Node, what string, allowed ...string) (map[string]field, []string, bool) {
	n = p.resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping of %s; found %s", what, strings.Join(allowed, ", "), kindWord(n))
		return nil, nil, false
	}
	out := map[string]field{}
	var order []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], p.resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			p.errorf(k, "keys must be plain names; YAML complex keys and merge keys (<<) are not supported")
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.errorf(k, "key %q is defined twice in %s: remove one", k.Value, what)
			continue
		}
		if allowed != nil && !contains(allowed, k.Value) {
			p.errorf(k, "unknown key %q in %s%s; the keys are: %s", k.Value, what, flows.DidYouMean(k.Value, allowed), strings.Join(allowed, ", "))
			continue
		}
		out[k.Value] = field{k, v}
		order = append(order, k.Value)
	}
	return out, order, true
}

func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return p.resolve(n.Content[0])
	}
	return n
}

func (p *parser) parse() *TestFile {
	tf := &TestFile{Path: p.path}
	if len(p.src) > flows.MaxFileSize {
		p.errorf(nil, "file is %d bytes; the limit is %d", len(p.src), flows.MaxFileSize)
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(p.src, &doc); err != nil {
		pos, msg := flows.YAMLError(p.src, err)
		p.errorf(&yaml.Node{Line: pos.Line, Column: pos.Col}, "%s", msg)
		return nil
	}
	if len(doc.Content) == 0 {
		p.errorf(nil, "the test file is empty: it needs a bot and a list of tests")
		return nil
	}
	root := doc.Content[0]
	fields, order, ok := p.mapping(root, "a test file", "bot", "now", "seed", "contact", "http", "tests")
	if !ok {
		return nil
	}
	bf, hasBot := fields["bot"]
	if !hasBot {
		p.errorf(root, "the test file needs a bot: the path of a bot file, or the bot itself as a mapping")
	} else {
		var next *yaml.Node
		for i, k := range order {
			if k == "bot" && i+1 < len(order) {
				next = fields[order[i+1]].key
			}
		}
		p.loadBot(tf, root, bf, next)
	}
	if tf.Bot != nil {
		p.loc = tf.Bot.Location
	}
	now, seed := DefaultNow, uint64(DefaultSeed)
	if f, ok := fields["now"]; ok {
		if t, ok := p.time(f.val, "now"); ok {
			now = t
		}
	}
	if f, ok := fields["seed"]; ok {
		seed = p.seed(f.val)
	}
	contact := &flows.Contact{ID: "contact-1", Channel: "test"}
	if f, ok := fields["contact"]; ok {
		if c := p.contact(f.val, tf.Bot); c != nil {
			contact = c
		}
	}
	if f, ok := fields["http"]; ok {
		tf.http, tf.hasHTTP, tf.httpLine = p.httpFakes(f.val, true), true, f.key.Line
	}
	tests, ok := fields["tests"]
	if !ok {
		p.errorf(root, "the test file has no tests: add a tests list")
		return tf
	}
	list := tests.val
	if list.Kind != yaml.SequenceNode {
		p.errorf(list, "tests must be a list of tests; found %s", kindWord(list))
		return tf
	}
	if len(list.Content) == 0 {
		p.errorf(tests.key, "tests is empty: add a test")
	}
	names := map[string]int{}
	for i, tn := range list.Content {
		t := p.test(p.resolve(tn), i, tf.Bot, now, seed, contact)
		if t == nil {
			continue
		}
		if prev, dup := names[t.Name]; dup {
			p.errorf(tn, "test name %q is already used at line %d: test names must be unique", t.Name, prev)
		}
		names[t.Name] = t.Line
		tf.Tests = append(tf.Tests, t)
	}
	return tf
}

// loadBot loads the bot a test file names, or the inline bot it holds.
func (p *parser) loadBot(tf *TestFile, root *yaml.Node, bf field, next *yaml.Node) {
	v := bf.val
	var (
		bot *flows.Bot
		ds  flows.Diagnostics
	)
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Value == "" || v.ShortTag() == "!!null" {
			p.errorf(v, "bot needs the path of a bot file, or the bot itself as a mapping")
			return
		}
		path := v.Value
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(p.path), path)
		}
		tf.BotPath = path
		if _, err := os.Stat(path); err != nil {
			p.errorf(v, "bot file %s: %v", path, errors.Unwrap(err))
			return
		}
		bot, ds = flows.LoadFile(path)
	case yaml.MappingNode:
		tf.BotPath = p.path
		src := p.inlineBotSource(root, bf, next)
		bot, ds = flows.Load(p.path, src)
	default:
		p.errorf(v, "bot must be the path of a bot file or a bot mapping; found %s", kindWord(v))
		return
	}
	for _, d := range ds {
		if d.Severity == flows.SevError {
			p.diags = append(p.diags, d)
		} else {
			tf.Warnings = append(tf.Warnings, d)
			p.diags = append(p.diags, d)
		}
	}
	if bot == nil {
		if tf.BotPath != p.path {
			p.errorf(v, "bot %s does not load: see its errors", v.Value)
		}
		return
	}
	tf.Bot = bot
}

// inlineBotSource cuts the inline bot out of the test file so that its
// lines and columns stay those of the test file: everything else is blanked
// out. A bot without an id gets one on the line of the bot: key.
func (p *parser) inlineBotSource(root *yaml.Node, bf field, next *yaml.Node) []byte {
	v := bf.val
	lines := strings.SplitAfter(string(p.src), "\n")
	first, col := v.Line-1, v.Column-1
	last := len(lines) - 1
	if next != nil {
		last = next.Line - 2
	}
	if root.Style&yaml.FlowStyle != 0 || first < 0 || first >= len(lines) || last < first ||
		(next != nil && next.Line <= v.Line) || col > len(lines[first]) {
		// The bot shares lines with other keys: fall back to re-encoding
		// it, which loses its positions.
		b, err := yaml.Marshal(v)
		if err != nil {
			return nil
		}
		return b
	}
	var b strings.Builder
	for i := 0; i < len(lines); i++ {
		switch {
		case i < first || i > last:
			if strings.HasSuffix(lines[i], "\n") {
				b.WriteString("\n")
			}
		case i == first:
			prefix := []rune(lines[i])
			if col > len(prefix) {
				col = len(prefix)
			}
			b.WriteString(strings.Repeat(" ", col) + string(prefix[col:]))
		default:
			b.WriteString(lines[i])
		}
	}
	out := b.String()
	if _, hasID := mappingEntry(v, "id"); !hasID && v.Style&yaml.FlowStyle == 0 && bf.key.Line < v.Line {
		// Put an id on the bot: line, which is blank now.
		ls := strings.SplitAfter(out, "\n")
		ls[bf.key.Line-1] = strings.Repeat(" ", col) + "id: inline\n"
		out = strings.Join(ls, "")
	}
	return []byte(out)
}

func mappingEntry(m *yaml.Node, key string) (*yaml.Node, bool) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1], true
		}
	}
	return nil, false
}

var timeLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// time parses a point in time: RFC 3339, or a date and time without zone
// in the bot's time zone.
func (p *parser) time(n *yaml.Node, what string) (time.Time, bool) {
	if n.Kind == yaml.ScalarNode && n.Value != "" {
		if t, err := time.Parse(time.RFC3339, n.Value); err == nil {
			return t, true
		}
		for _, l := range timeLayouts {
			if t, err := time.ParseInLocation(l, n.Value, p.loc); err == nil {
				return t, true
			}
		}
	}
	p.errorf(n, "%s must be a time like \"2026-03-02 10:00\" (in the bot's time zone) or 2026-03-02T10:00:00Z; found %s", what, kindWord(n))
	return time.Time{}, false
}

func (p *parser) seed(n *yaml.Node) uint64 {
	s, err := strconv.ParseUint(n.Value, 10, 64)
	if n.Kind != yaml.ScalarNode || err != nil {
		p.errorf(n, "seed must be a whole number; found %s", kindWord(n))
		return DefaultSeed
	}
	return s
}

func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		p.errorf(n, "%s must be text; found %s", what, kindWord(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) contact(n *yaml.Node, bot *flows.Bot) *flows.Contact {
	fs, _, ok := p.mapping(n, "contact", "id", "channel", "name", "status", "attributes", "tags")
	if !ok {
		return nil
	}
	c := &flows.Contact{ID: "contact-1", Channel: "test"}
	for key, ptr := range map[string]*string{"id": &c.ID, "channel": &c.Channel, "name": &c.Name, "status": &c.Status} {
		if f, ok := fs[key]; ok {
			if s, ok := p.str(f.val, "contact "+key); ok {
				*ptr = s
			}
		}
	}
	if f, ok := fs["attributes"]; ok {
		attrs, _, ok := p.mapping(f.val, "contact attributes")
		if ok {
			c.Attributes = map[string]any{}
			for name, a := range attrs {
				v, ok := p.value(a.val)
				if !ok {
					continue
				}
				if bot != nil {
					if decl, ok := bot.Attribute(name); ok {
						cv, err := decl.Convert(v)
						if err != nil {
							p.errorf(a.val, "%v", err)
							continue
						}
						v = cv
					}
				}
				c.Attributes[name] = v
			}
		}
	}
	if f, ok := fs["tags"]; ok {
		c.Tags = p.strings(f.val, "contact tags")
	}
	return c
}

func (p *parser) strings(n *yaml.Node, what string) []string {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list of text; found %s", what, kindWord(n))
		return nil
	}
	out := []string{}
	for _, e := range n.Content {
		if s, ok := p.str(p.resolve(e), what+" items"); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) test(n *yaml.Node, i int, bot *flows.Bot, now time.Time, seed uint64, contact *flows.Contact) *Test {
	fs, _, ok := p.mapping(n, "a test", "name", "contact", "now", "seed", "skip", "http", "steps")
	if !ok {
		return nil
	}
	t := &Test{Name: fmt.Sprintf("test %d", i+1), Line: n.Line, now: now, seed: seed, contact: contact}
	if f, ok := fs["name"]; ok {
		if s, ok := p.str(f.val, "name"); ok && strings.TrimSpace(s) != "" {
			t.Name = s
		} else if ok {
			p.errorf(f.val, "name is empty")
		}
	}
	if f, ok := fs["contact"]; ok {
		if c := p.contact(f.val, bot); c != nil {
			t.contact = c
		}
	}
	if f, ok := fs["now"]; ok {
		if tm, ok := p.time(f.val, "now"); ok {
			t.now = tm
		}
	}
	if f, ok := fs["seed"]; ok {
		t.seed = p.seed(f.val)
	}
	if f, ok := fs["http"]; ok {
		t.http, t.hasHTTP = p.httpFakes(f.val, false), true
	}
	if f, ok := fs["skip"]; ok {
		switch {
		case f.val.ShortTag() == "!!bool":
			t.Skip = f.val.Value == "true"
		case f.val.Kind == yaml.ScalarNode && f.val.Value != "":
			t.Skip, t.SkipReason = true, f.val.Value
		default:
			p.errorf(f.val, "skip must be true, false or the reason the test is skipped")
		}
	}
	f, ok := fs["steps"]
	if !ok {
		p.errorf(n, "test %q has no steps", t.Name)
		return t
	}
	if f.val.Kind != yaml.SequenceNode {
		p.errorf(f.val, "steps must be a list; found %s", kindWord(f.val))
		return t
	}
	if len(f.val.Content) == 0 {
		p.errorf(f.val, "test %q has no steps", t.Name)
		return t
	}
	if len(f.val.Content) > MaxTestSteps {
		p.errorf(f.key, "test %q has %d steps; the limit is %d", t.Name, len(f.val.Content), MaxTestSteps)
		return t
	}
	for _, sn := range f.val.Content {
		if s := p.step(p.resolve(sn)); s != nil {
			t.steps = append(t.steps, s)
		}
	}
	return t
}

func (p *parser) step(n *yaml.Node) *step {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		p.errorf(n, "a step is a mapping with one key, one of %s; found %s", strings.Join(stepKinds, ", "), kindWord(n))
		return nil
	}
	if len(n.Content) > 2 {
		p.errorf(n.Content[2], "a step has exactly one key; this one also has %q: make it a step of its own", n.Content[2].Value)
		return nil
	}
	k, v := n.Content[0], p.resolve(n.Content[1])
	if !contains(stepKinds, k.Value) {
		p.errorf(k, "unknown step %q%s; steps are: %s", k.Value, flows.DidYouMean(k.Value, stepKinds), strings.Join(stepKinds, ", "))
		return nil
	}
	s := &step{kind: stepKind(k.Value), line: k.Line, col: k.Column}
	before := len(p.diags)
	switch s.kind {
	case stepUser:
		p.userStep(s, v)
	case stepBot:
		if v.Kind == yaml.SequenceNode {
			if len(v.Content) == 0 {
				p.errorf(v, "bot: [] expects nothing: use no_reply: true")
			}
			for _, e := range v.Content {
				if b := p.botExpect(p.resolve(e)); b != nil {
					s.bots = append(s.bots, b)
				}
			}
		} else if b := p.botExpect(v); b != nil {
			s.bots = []*botExpect{b}
		}
	case stepEvent:
		p.eventStep(s, v)
	case stepWait:
		p.waitStep(s, v)
	case stepNoReply:
		if v.ShortTag() != "!!bool" || v.Value != "true" {
			p.errorf(v, "write no_reply: true")
		}
	case stepHandover:
		s.handover = map[string]string{}
		if v.ShortTag() == "!!bool" && v.Value == "true" {
			break
		}
		fs, _, ok := p.mapping(v, "handover", "queue", "priority", "note", "message", "form")
		if ok {
			for key, f := range fs {
				if key == "form" {
					s.form = p.formExpect(f.val)
					continue
				}
				if str, ok := p.str(f.val, "handover "+key); ok {
					s.handover[key] = str
				}
			}
		}
	case stepHandoverEnd:
		outcomes := []string{flows.HandoverResolved, flows.HandoverNoAgent, flows.HandoverTimeout}
		if v.Kind != yaml.ScalarNode || !contains(outcomes, v.Value) {
			p.errorf(v, "handover_end must be one of %s; found %s", strings.Join(outcomes, ", "), kindWord(v))
		}
		s.outcome = v.Value
	case stepNotify:
		p.notificationStep(s, v)
	case stepExpect:
		fs, order, ok := p.mapping(v, "expect")
		if ok && len(order) == 0 {
			p.errorf(v, "expect is empty: add paths like vars.order or contact.tags")
		}
		for _, path := range order {
			f := fs[path]
			if msg := checkPath(path); msg != "" {
				p.errorf(f.key, "%s", msg)
				continue
			}
			want, ok := p.value(f.val)
			if !ok {
				continue
			}
			if path == "contact.tags" {
				if _, isList := want.([]any); !isList && want != nil {
					p.errorf(f.val, "contact.tags must be a list of tags")
					continue
				}
			}
			if path == "session.waiting" {
				if _, isBool := want.(bool); !isBool {
					p.errorf(f.val, "session.waiting must be true or false")
					continue
				}
			}
			s.expects = append(s.expects, &valueExpect{path: path, line: f.key.Line, col: f.key.Column, want: want})
		}
	}
	if len(p.diags) > before {
		return nil
	}
	return s
}

var pathPartRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkPath says what is wrong with an expect path, or nothing.
func checkPath(path string) string {
	bad := fmt.Sprintf("unknown expect path %q: paths are vars.NAME, contact.name, contact.status, contact.channel, contact.id, contact.tags, contact.attributes.NAME (or contact.NAME), session.waiting and session.skill", path)
	head, rest, _ := strings.Cut(path, ".")
	validParts := func(s string) bool {
		if s == "" {
			return false
		}
		for _, part := range strings.Split(s, ".") {
			if !pathPartRe.MatchString(part) {
				return false
			}
		}
		return true
	}
	switch head {
	case "vars":
		if validParts(rest) {
			return ""
		}
	case "contact":
		if a, ok := strings.CutPrefix(rest, "attributes."); ok {
			if validParts(a) {
				return ""
			}
		} else if rest != "attributes" && validParts(rest) {
			return ""
		}
	case "session":
		if rest == "waiting" || rest == "skill" {
			return ""
		}
	}
	return bad
}

func (p *parser) userStep(s *step, v *yaml.Node) {
	if v.Kind == yaml.ScalarNode {
		if v.ShortTag() == "!!null" {
			p.errorf(v, "user needs the text the user sends, or a mapping with button, text, payload or attachment")
			return
		}
		s.msg = flows.Content{Text: v.Value}
		return
	}
	fs, _, ok := p.mapping(v, "user", "text", "payload", "button", "attachment", "attachments")
	if !ok {
		return
	}
	if f, ok := fs["button"]; ok {
		if len(fs) > 1 {
			p.errorf(f.key, "button taps the button with that title: it takes no text, payload or attachment beside it")
			return
		}
		if str, ok := p.str(f.val, "button"); ok {
			if str == "" {
				p.errorf(f.val, "button needs the title of the button to tap")
			}
			s.button = str
		}
		return
	}
	if f, ok := fs["text"]; ok {
		s.msg.Text, _ = p.str(f.val, "text")
	}
	if f, ok := fs["payload"]; ok {
		s.msg.Payload, _ = p.str(f.val, "payload")
	}
	if f, ok := fs["attachment"]; ok {
		if m, ok := p.media(f.val, "attachment"); ok {
			s.msg.Attachments = append(s.msg.Attachments, m)
		}
	}
	if f, ok := fs["attachments"]; ok {
		if f.val.Kind != yaml.SequenceNode {
			p.errorf(f.val, "attachments must be a list; found %s", kindWord(f.val))
		} else {
			for _, e := range f.val.Content {
				if m, ok := p.media(p.resolve(e), "attachment"); ok {
					s.msg.Attachments = append(s.msg.Attachments, m)
				}
			}
		}
	}
	if s.msg.Text == "" && s.msg.Payload == "" && len(s.msg.Attachments) == 0 {
		p.errorf(v, "the user sends nothing: give text, payload or an attachment")
	}
}

func (p *parser) media(n *yaml.Node, what string) (flows.Media, bool) {
	if n.Kind == yaml.ScalarNode {
		u, ok := p.str(n, what)
		return flows.Media{URL: u}, ok && u != ""
	}
	fs, _, ok := p.mapping(n, what, "url", "kind", "name", "mime", "size", "caption")
	if !ok {
		return flows.Media{}, false
	}
	var m flows.Media
	for key, ptr := range map[string]*string{"url": &m.URL, "kind": &m.Kind, "name": &m.Name, "mime": &m.MIME, "caption": &m.Caption} {
		if f, ok := fs[key]; ok {
			*ptr, _ = p.str(f.val, what+" "+key)
		}
	}
	if f, ok := fs["size"]; ok {
		size, err := strconv.ParseInt(f.val.Value, 10, 64)
		if err != nil || size < 0 {
			p.errorf(f.val, "size must be a number of bytes")
		}
		m.Size = size
	}
	if m.URL == "" {
		p.errorf(n, "%s needs a url", what)
		return m, false
	}
	if m.Kind != "" && !contains([]string{"image", "audio", "video", "file"}, m.Kind) {
		p.errorf(fs["kind"].val, "kind must be image, audio, video or file")
	}
	return m, true
}

func (p *parser) eventStep(s *step, v *yaml.Node) {
	if v.Kind == yaml.ScalarNode {
		if s.event, _ = p.str(v, "event"); s.event == "" {
			p.errorf(v, "event needs a name")
		}
		return
	}
	fs, _, ok := p.mapping(v, "event", "name", "data")
	if !ok {
		return
	}
	f, ok := fs["name"]
	if !ok {
		p.errorf(v, "event needs a name")
		return
	}
	s.event, _ = p.str(f.val, "event name")
	if f, ok := fs["data"]; ok {
		d, ok := p.value(f.val)
		if m, isMap := d.(map[string]any); ok && isMap {
			s.data = m
		} else if ok && d != nil {
			p.errorf(f.val, "event data must be a mapping; found %s", kindWord(f.val))
		}
	}
}

// formExpect parses the values a handover's form must have.
func (p *parser) formExpect(n *yaml.Node) []*valueExpect {
	fs, order, ok := p.mapping(n, "handover form")
	if !ok {
		return nil
	}
	out := []*valueExpect{}
	for _, k := range order {
		if !pathPartRe.MatchString(k) {
			p.errorf(fs[k].key, "form keys are names; %q is not one", k)
			continue
		}
		if want, ok := p.value(fs[k].val); ok {
			out = append(out, &valueExpect{path: k, line: fs[k].key.Line, col: fs[k].key.Column, want: want})
		}
	}
	return out
}

func (p *parser) notificationStep(s *step, v *yaml.Node) {
	if v.Kind == yaml.ScalarNode {
		if s.note, _ = p.str(v, "notification"); s.note == "" {
			p.errorf(v, "notification needs the name a TRIGGER block raises")
		}
		return
	}
	fs, _, ok := p.mapping(v, "notification", "name", "data")
	if !ok {
		return
	}
	f, ok := fs["name"]
	if !ok {
		p.errorf(v, "notification needs the name a TRIGGER block raises")
		return
	}
	s.note, _ = p.str(f.val, "notification name")
	if f, ok := fs["data"]; ok {
		data, order, ok := p.mapping(f.val, "notification data")
		if !ok {
			return
		}
		for _, k := range order {
			if !pathPartRe.MatchString(k) {
				p.errorf(data[k].key, "notification data keys are names; %q is not one", k)
				continue
			}
			if want, ok := p.value(data[k].val); ok {
				s.noteData = append(s.noteData, &valueExpect{path: k, line: data[k].key.Line, col: data[k].key.Column, want: want})
			}
		}
	}
}

func (p *parser) waitStep(s *step, v *yaml.Node) {
	if v.Kind == yaml.ScalarNode {
		d, err := flows.ParseDuration(v.Value)
		if err != nil {
			p.errorf(v, "wait: %v", err)
			return
		}
		if d > 366*24*time.Hour {
			p.errorf(v, "wait: %s is longer than a year", v.Value)
			return
		}
		s.wait, s.waitSrc = d, v.Value
		return
	}
	fs, _, ok := p.mapping(v, "wait", "until")
	if !ok {
		return
	}
	f, ok := fs["until"]
	if !ok {
		p.errorf(v, "wait takes a duration (wait: 10m) or a time (wait: {until: \"2026-03-02 18:00\"})")
		return
	}
	if t, ok := p.time(f.val, "until"); ok {
		s.until, s.waitSrc = t, f.val.Value
	}
}

// httpMethods are the methods a fake may name.
var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// httpFakes parses an http: list of fake responses.
func (p *parser) httpFakes(n *yaml.Node, fileLevel bool) []*httpFake {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "http must be a list of fake responses, like - {url: \"https://api.example.com/x\", body: {ok: true}}; found %s", kindWord(n))
		return nil
	}
	out := []*httpFake{}
	for _, e := range n.Content {
		e = p.resolve(e)
		fs, _, ok := p.mapping(e, "an http fake", "method", "url", "status", "body", "headers", "delay")
		if !ok {
			continue
		}
		f := &httpFake{line: e.Line, col: e.Column, status: http.StatusOK, fileLevel: fileLevel}
		before := len(p.diags)
		if v, ok := fs["method"]; ok {
			if m, ok := p.str(v.val, "method"); ok {
				f.method = strings.ToUpper(m)
				if !contains(httpMethods, f.method) {
					p.errorf(v.val, "method must be one of %s; found %s", strings.Join(httpMethods, ", "), kindWord(v.val))
				}
			}
		}
		if v, ok := fs["url"]; !ok {
			p.errorf(e, "an http fake needs the url it answers: the exact URL, or a /regular expression/")
		} else if m := p.match(v.val, "url"); m != nil {
			f.url = *m
			if m.re == nil {
				u, err := url.Parse(m.src)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					p.errorf(v.val, "url %s is not an http or https URL: write the whole address, or a /regular expression/", quoteIfNeeded(m.src))
				}
			}
		}
		if v, ok := fs["status"]; ok {
			st, err := strconv.Atoi(v.val.Value)
			if v.val.Kind != yaml.ScalarNode || err != nil || st < 100 || st > 599 {
				p.errorf(v.val, "status must be an HTTP status code from 100 to 599; found %s", kindWord(v.val))
			}
			f.status = st
		}
		if v, ok := fs["headers"]; ok {
			hs, order, ok := p.mapping(v.val, "http fake headers")
			if ok {
				f.headers = map[string]string{}
				for _, name := range order {
					h := hs[name]
					val, ok := p.str(h.val, "header "+name)
					if !ok {
						continue
					}
					if !headerNameRe.MatchString(name) {
						p.errorf(h.key, "%q is not a valid header name: use letters, digits and -", name)
					} else if strings.ContainsAny(val, "\r\n") {
						p.errorf(h.val, "header %s contains a line break", name)
					}
					f.headers[http.CanonicalHeaderKey(name)] = val
				}
			}
		}
		if v, ok := fs["body"]; ok {
			body, ok := p.value(v.val)
			switch b := body.(type) {
			case nil:
			case string:
				f.body, f.contentType = []byte(b), "text/plain; charset=utf-8"
			default:
				if ok {
					data, err := json.Marshal(b)
					if err != nil {
						p.errorf(v.val, "body cannot be sent as JSON: %v", err)
					}
					f.body, f.contentType = data, "application/json"
				}
			}
		}
		if v, ok := fs["delay"]; ok {
			d, err := flows.ParseDuration(v.val.Value)
			switch {
			case v.val.Kind != yaml.ScalarNode || err != nil:
				p.errorf(v.val, "delay must be a duration like 500ms or 2s; found %s", kindWord(v.val))
			case d > MaxHTTPDelay:
				p.errorf(v.val, "delay %s is too long: a fake may wait at most %s (a JSON block gives up after 30s at most)", v.val.Value, MaxHTTPDelay)
			}
			f.delay = d
		}
		if len(p.diags) == before {
			out = append(out, f)
		}
	}
	return out
}

// headerNameRe is the token syntax of HTTP header names.
var headerNameRe = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// match parses an exact text or a /regex/flags.
func (p *parser) match(n *yaml.Node, what string) *textMatch {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		p.errorf(n, "%s must be text or a /regular expression/; found %s", what, kindWord(n))
		return nil
	}
	m := &textMatch{src: n.Value}
	if sm := regexLitRe.FindStringSubmatch(n.Value); sm != nil {
		expr := sm[1]
		if sm[2] != "" {
			expr = "(?" + sm[2] + ")" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			p.errorf(n, "%s: %s is not a valid regular expression: %v", what, n.Value, err)
			return nil
		}
		m.re = re
	}
	return m
}

func (p *parser) botExpect(n *yaml.Node) *botExpect {
	b := &botExpect{}
	if n.Kind == yaml.ScalarNode {
		if b.text = p.match(n, "bot"); b.text == nil {
			return nil
		}
		return b
	}
	fs, _, ok := p.mapping(n, "bot", "text", "buttons", "quick_replies", "image", "media", "file", "gallery")
	if !ok {
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n, "bot: {} checks nothing: give text, buttons, quick_replies, image, media, file or gallery")
	}
	if f, ok := fs["text"]; ok {
		b.text = p.match(f.val, "text")
	}
	b.image, b.media, b.file = p.mediaExpect(fs, "image"), p.mediaExpect(fs, "media"), p.mediaExpect(fs, "file")
	if f, ok := fs["buttons"]; ok {
		b.hasButtons = true
		b.buttons = p.choices(f.val, "buttons", "title", "payload", "url")
	}
	if f, ok := fs["quick_replies"]; ok {
		b.hasQuick = true
		b.quickReplies = p.choices(f.val, "quick_replies", "title", "payload")
	}
	if f, ok := fs["gallery"]; ok {
		b.hasGallery = true
		b.gallery = p.choices(f.val, "gallery", "title", "subtitle", "image")
	}
	return b
}

// mediaExpect parses an expected image, clip or file: its URL, or a
// mapping of url, caption, name and kind.
func (p *parser) mediaExpect(fs map[string]field, key string) *mediaExpect {
	f, ok := fs[key]
	if !ok {
		return nil
	}
	if f.val.Kind != yaml.MappingNode {
		if m := p.match(f.val, key); m != nil {
			return &mediaExpect{url: m}
		}
		return nil
	}
	ms, order, ok := p.mapping(f.val, key, "url", "caption", "name", "kind")
	if !ok {
		return nil
	}
	if len(order) == 0 {
		p.errorf(f.val, "%s: {} checks nothing: give url, caption, name or kind", key)
		return nil
	}
	e := &mediaExpect{}
	for k, ptr := range map[string]**textMatch{"url": &e.url, "caption": &e.caption, "name": &e.name, "kind": &e.kind} {
		if m, ok := ms[k]; ok {
			*ptr = p.match(m.val, key+" "+k)
		}
	}
	return e
}

// choices parses a list of titles, or of mappings with the given keys.
func (p *parser) choices(n *yaml.Node, what string, keys ...string) []choiceExpect {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list of titles; found %s", what, kindWord(n))
		return nil
	}
	out := []choiceExpect{}
	for _, e := range n.Content {
		e = p.resolve(e)
		var c choiceExpect
		if e.Kind == yaml.ScalarNode {
			m := p.match(e, what+" title")
			if m == nil {
				continue
			}
			c.title = *m
			out = append(out, c)
			continue
		}
		fs, _, ok := p.mapping(e, what+" item", keys...)
		if !ok {
			continue
		}
		f, ok := fs["title"]
		if !ok {
			p.errorf(e, "%s item needs a title", what)
			continue
		}
		m := p.match(f.val, "title")
		if m == nil {
			continue
		}
		c.title = *m
		for key, ptr := range map[string]**textMatch{"payload": &c.payload, "url": &c.url, "subtitle": &c.subtitle, "image": &c.image} {
			if f, ok := fs[key]; ok {
				*ptr = p.match(f.val, key)
			}
		}
		out = append(out, c)
	}
	return out
}

// value converts a YAML value to its JSON shape: numbers are float64,
// timestamps stay text.
func (p *parser) value(n *yaml.Node) (any, bool) {
	return p.valueDepth(n, 0)
}

func (p *parser) valueDepth(n *yaml.Node, depth int) (any, bool) {
	p.nodes++
	if p.nodes > maxTestNodes {
		if p.nodes == maxTestNodes+1 {
			p.errorf(n, "the test file has more than %d values (aliases count each time they are used)", maxTestNodes)
		}
		return nil, false
	}
	if depth > 64 {
		p.errorf(n, "values nest deeper than 64 levels")
		return nil, false
	}
	n = p.resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		fs, order, ok := p.mapping(n, "a mapping")
		if !ok {
			return nil, false
		}
		m := make(map[string]any, len(order))
		for _, k := range order {
			v, ok := p.valueDepth(fs[k].val, depth+1)
			if !ok {
				return nil, false
			}
			m[k] = v
		}
		return m, true
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, ok := p.valueDepth(e, depth+1)
			if !ok {
				return nil, false
			}
			l = append(l, v)
		}
		return l, true
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, true
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				return b, true
			}
		case "!!int", "!!float":
			var f float64
			if err := n.Decode(&f); err == nil {
				return f, true
			}
		}
		return n.Value, true
	}
	p.errorf(n, "unsupported YAML value")
	return nil, false
}

func kindWord(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:37] + "…"
		}
		return strconv.Quote(v)
	}
	return "this"
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// FormatColumns lays two lists of lines side by side under the headings
// "expected" and "actual", each line indented by indent. Long lines are
// cut at width characters per column.
func FormatColumns(expected, actual []string, indent string, width int) string {
	if width < 10 {
		width = 10
	}
	left := []string{"expected"}
	left = append(left, expected...)
	right := []string{"actual"}
	right = append(right, actual...)
	w := 0
	for _, l := range left {
		if n := len([]rune(l)); n > w {
			w = n
		}
	}
	w = min(w, width)
	var b bytes.Buffer
	for i := 0; i < max(len(left), len(right)); i++ {
		l, r := "", ""
		if i < len(left) {
			l = cut(left[i], width)
		}
		if i < len(right) {
			r = cut(right[i], width)
		}
		pad := w - len([]rune(l))
		line := indent + l + strings.Repeat(" ", max(pad, 0)) + " | " + r
		b.WriteString(strings.TrimRight(line, " ") + "\n")
		if i == 0 {
			b.WriteString(indent + strings.Repeat("-", w) + "-+-" + strings.Repeat("-", min(max(w, 6), width)) + "\n")
		}
	}
	return b.String()
}

func cut(s string, width int) string {
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	return string(r[:width-1]) + "…"
}
