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
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

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
