package convo_test

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/convo"
)

func runFile(t *testing.T, path string, opts convo.RunOptions) *convo.FileResult {
	t.Helper()
	res, err := convo.RunFile(path, opts)
	if err != nil {
		t.Fatalf("%s does not run:\n%v", path, err)
	}
	return res
}

func TestPassingFile(t *testing.T) {
	res := runFile(t, "testdata/support.test.yaml", convo.RunOptions{})
	for _, tr := range res.Tests {
		if tr.Failure != nil {
			t.Errorf("%s failed:\n%v\ntranscript:\n  %s", tr.Name, tr.Failure, strings.Join(tr.Transcript, "\n  "))
		}
	}
	if p, f, s := res.Passed(), res.Failed(), res.Skipped(); p != 6 || f != 0 || s != 1 {
		t.Errorf("passed %d, failed %d, skipped %d; want 6, 0, 1", p, f, s)
	}
	if res.Tests[len(res.Tests)-1].SkipReason != "the bot does not greet in French yet" {
		t.Errorf("skip reason = %q", res.Tests[len(res.Tests)-1].SkipReason)
	}
}

func TestInlineBot(t *testing.T) {
	res := runFile(t, "testdata/inline.test.yaml", convo.RunOptions{})
	if len(res.Tests) != 1 || !res.Tests[0].Passed() {
		t.Fatalf("inline bot test did not pass: %+v", res.Tests)
	}
	if res.Bot != "testdata/inline.test.yaml" {
		t.Errorf("Bot = %q, want the test file", res.Bot)
	}
}

// TestWrongTextFails guards against a runner that passes everything: a bot
// step whose text differs from what the bot said must fail, at that step.
func TestWrongTextFails(t *testing.T) {
	res := runFile(t, "testdata/failing.test.yaml", convo.RunOptions{Filter: regexp.MustCompile(`^wrong text$`)})
	if len(res.Tests) != 1 {
		t.Fatalf("ran %d tests, want 1", len(res.Tests))
	}
	f := res.Tests[0].Failure
	if f == nil {
		t.Fatal("a test expecting the wrong text passed")
	}
	if f.Step != 2 || f.Line != 7 || f.Col != 9 || f.Kind != "bot" || f.File != "testdata/failing.test.yaml" {
		t.Errorf("failure at %s:%d:%d step %d (%s); want testdata/failing.test.yaml:7:9 step 2 (bot)", f.File, f.Line, f.Col, f.Step, f.Kind)
	}
	if got := strings.Join(f.Expected, "\n"); got != "text: Hello Ann!" {
		t.Errorf("expected = %q", got)
	}
	if got := strings.Join(f.Actual, "\n"); got != "text: Hi there!" {
		t.Errorf("actual = %q", got)
	}
	want := "testdata/failing.test.yaml:7:9: step 2 (bot): the bot's message text differs\n  expected:\n    text: Hello Ann!\n  actual:\n    text: Hi there!"
	if f.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", f.Error(), want)
	}
}

// TestFailures checks how each test of failing.test.yaml fails.
func TestFailures(t *testing.T) {
	type want struct {
		line, step int
		kind, msg  string
		expected   string
		actual     string
	}
	wants := map[string]want{
		"wrong text":                    {7, 2, "bot", "the bot's message text differs", "text: Hello Ann!", "text: Hi there!"},
		"wrong buttons":                 {13, 3, "bot", "the message's buttons differ", "buttons: Track my order | Talk to a robot | Our website", "text: How can I help?\nbuttons: Track my order | Talk to a human | Our website"},
		"message nobody expected":       {19, 3, "no_reply", "the bot sent a message no step expected", "(no message)", "text: How can I help?\nbuttons: Track my order | Talk to a human | Our website"},
		"bot said nothing":              {26, 4, "bot", "the bot sent no message here", "text: Anything else?", "(no message)"},
		"no such button":                {31, 2, "user", `the bot offered no button or quick reply titled "Cancel my order"`, "a button Cancel my order", "Track my order, Talk to a human, Our website"},
		"link buttons cannot be tapped": {36, 2, "user", `button "Our website" is a link to https://example.com; only buttons with a payload or goto can be tapped`, "", ""},
		"wrong values":                  {44, 4, "expect", "2 values differ", "vars.order: 12345 (a number)\ncontact.tags: [\"vip\"]", "vars.order: \"12345\" (text)\ncontact.tags: [\"vip\", \"customer\"]"},
		"no handover":                   {49, 2, "handover", "no live-chat request was made", "queue: support", "(no request)"},
		"wrong handover":                {55, 3, "handover", "the live-chat request differs", "priority: high\nqueue: billing", "priority: high\nqueue: support"},
		"no handover to end":            {60, 2, "handover_end", "no live-chat handover is open to end", "an open handover", "(none)"},
		"wait in the past":              {64, 1, "wait", "wait until 2026-03-01 10:00 is in the past: the clock is at 2026-03-02 10:00:00 UTC", "", ""},
	}
	res := runFile(t, "testdata/failing.test.yaml", convo.RunOptions{})
	if len(res.Tests) != len(wants) {
		t.Errorf("ran %d tests, want %d", len(res.Tests), len(wants))
	}
	if res.Passed() != 0 {
		t.Errorf("%d tests of failing.test.yaml passed; every one must fail", res.Passed())
	}
	for _, tr := range res.Tests {
		w, ok := wants[tr.Name]
		if !ok {
			t.Errorf("unexpected test %q", tr.Name)
			continue
		}
		f := tr.Failure
		if f == nil {
			t.Errorf("%s: passed, want a failure", tr.Name)
			continue
		}
		got := want{f.Line, f.Step, f.Kind, f.Message, strings.Join(f.Expected, "\n"), strings.Join(f.Actual, "\n")}
		if got != w {
			t.Errorf("%s:\n got %#v\nwant %#v", tr.Name, got, w)
		}
	}
}

func TestFileErrors(t *testing.T) {
	cases := map[string]string{
		"bad_bot": `testdata/bad_bot.test.yaml:1:6: bot broken.yaml does not load: see its errors
testdata/broken.yaml:4:7: unknown block type "txt" (did you mean "text"?)`,
		"missing_bot":  `testdata/missing_bot.test.yaml:1:6: bot file testdata/no-such-bot.yaml: no such file or directory`,
		"bad_syntax":   `testdata/bad_syntax.test.yaml:5:1: YAML syntax: did not find expected ',' or '}' (inside {…} or […], text ending in "?" must be quoted: write "How can I help?")`,
		"inline_error": `testdata/inline_error.test.yaml:6:37: unknown goto target "nowhere": no skill or block id has that name`,
		"bad_keys": `testdata/bad_keys.test.yaml:2:1: unknown key "timeout" in a test file; the keys are: bot, now, seed, contact, http, tests
testdata/bad_keys.test.yaml:5:5: unknown key "contakt" in a test (did you mean "contact"?); the keys are: name, contact, now, seed, skip, http, steps
testdata/bad_keys.test.yaml:7:9: unknown step "usr" (did you mean "user"?); steps are: user, bot, event, wait, no_reply, handover, handover_end, notification, expect
testdata/bad_keys.test.yaml:9:9: a step has exactly one key; this one also has "bot": make it a step of its own
testdata/bad_keys.test.yaml:10:15: unknown key "txt" in bot (did you mean "text"?); the keys are: text, buttons, quick_replies, image, media, file, gallery
testdata/bad_keys.test.yaml:11:15: wait: "ten minutes" is not a duration: write a number and a unit, like 30s, 10m, 2h or 1d
testdata/bad_keys.test.yaml:12:18: unknown expect path "vars": paths are vars.NAME, contact.name, contact.status, contact.channel, contact.id, contact.tags, contact.attributes.NAME (or contact.NAME), session.waiting and session.skill
testdata/bad_keys.test.yaml:12:27: unknown expect path "contact.attributes": paths are vars.NAME, contact.name, contact.status, contact.channel, contact.id, contact.tags, contact.attributes.NAME (or contact.NAME), session.waiting and session.skill
testdata/bad_keys.test.yaml:12:50: unknown expect path "session.mood": paths are vars.NAME, contact.name, contact.status, contact.channel, contact.id, contact.tags, contact.attributes.NAME (or contact.NAME), session.waiting and session.skill
testdata/bad_keys.test.yaml:13:23: handover_end must be one of resolved, no_agent, timeout; found "finished"
testdata/bad_keys.test.yaml:14:14: bot: /([a-z/ is not a valid regular expression: error parsing regexp: missing closing ]: ` + "`[a-z`" + `
testdata/bad_keys.test.yaml:15:16: button taps the button with that title: it takes no text, payload or attachment beside it
testdata/bad_keys.test.yaml:16:19: write no_reply: true
testdata/bad_keys.test.yaml:17:9: a step is a mapping with one key, one of user, bot, event, wait, no_reply, handover, handover_end, notification, expect; found "hi"
testdata/bad_keys.test.yaml:18:5: test name "typos everywhere" is already used at line 4: test names must be unique
testdata/bad_keys.test.yaml:19:12: test "typos everywhere" has no steps`,
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := convo.RunFile("testdata/"+name+".test.yaml", convo.RunOptions{})
			if err == nil {
				t.Fatalf("ran without error: %+v", res)
			}
			var ds flows.Diagnostics
			if !errors.As(err, &ds) {
				t.Fatalf("error is %T, want flows.Diagnostics", err)
			}
			if got := ds.Error(); got != want {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", got, want)
			}
			if res == nil || len(res.Tests) != 0 {
				t.Errorf("result = %+v, want a result with no tests", res)
			}
		})
	}
}

// parse parses a test file held in a string, as if it were in testdata.
func parse(t *testing.T, src string) (*convo.TestFile, flows.Diagnostics) {
	t.Helper()
	return convo.ParseTest("testdata/inmemory.test.yaml", []byte(src))
}

func runSrc(t *testing.T, src string, opts convo.RunOptions) *convo.FileResult {
	t.Helper()
	tf, ds := parse(t, src)
	if tf == nil {
		t.Fatalf("does not parse:\n%v", ds)
	}
	return tf.Run(opts)
}

func TestFilter(t *testing.T) {
	res := runFile(t, "testdata/support.test.yaml", convo.RunOptions{Filter: regexp.MustCompile(`human|pictures`)})
	var names []string
	for _, tr := range res.Tests {
		names = append(names, tr.Name)
	}
	if got := strings.Join(names, ","); got != "talks to a human,pictures" {
		t.Errorf("ran %s", got)
	}
}

// TestRoundTrip checks the session goes through the codec after every step
// and that a codec failure fails the step.
func TestRoundTrip(t *testing.T) {
	calls := 0
	res := runFile(t, "testdata/support.test.yaml", convo.RunOptions{
		Filter: regexp.MustCompile(`^tracks an order$`),
		RoundTrip: func(s *flows.Session) (*flows.Session, error) {
			calls++
			return convo.SessionRoundTrip(s)
		},
	})
	if !res.Tests[0].Passed() {
		t.Fatalf("failed: %v", res.Tests[0].Failure)
	}
	// 4 messages plus the timer: five engine steps.
	if calls != 5 {
		t.Errorf("round trip ran %d times, want 5", calls)
	}
	res = runFile(t, "testdata/support.test.yaml", convo.RunOptions{
		Filter:    regexp.MustCompile(`^tracks an order$`),
		RoundTrip: func(*flows.Session) (*flows.Session, error) { return nil, errors.New("boom") },
	})
	f := res.Tests[0].Failure
	if f == nil || f.Step != 1 || f.Message != "session round trip: boom" {
		t.Errorf("failure = %v, want step 1 to fail with the codec error", f)
	}
}

func TestClockAndSeed(t *testing.T) {
	const src = `
bot:
  timezone: Europe/Berlin
  skills:
    /start:
      - text: "It is {{ now }}"
      - text: [one, two, three, four, five, six, seven, eight]
tests:
  - name: default clock
    steps:
      - user: hi
      - bot: It is 2026-03-02 11:00
  - name: clock in the bot's zone
    now: "2026-06-01 08:30"
    steps:
      - user: hi
      - bot: It is 2026-06-01 08:30
  - name: clock with an offset
    now: 2026-06-01T08:30:00Z
    steps:
      - user: hi
      - bot: It is 2026-06-01 10:30
  - name: random variant
    steps:
      - user: hi
      - wait: 1m
`
	a := runSrc(t, src, convo.RunOptions{})
	for _, tr := range a.Tests {
		if !tr.Passed() {
			t.Errorf("%s: %v", tr.Name, tr.Failure)
		}
	}
	// The same file gives the same conversation every time.
	for i := 0; i < 3; i++ {
		b := runSrc(t, src, convo.RunOptions{})
		got := strings.Join(b.Tests[3].Transcript, "\n")
		if want := strings.Join(a.Tests[3].Transcript, "\n"); got != want {
			t.Fatalf("run %d differs:\n%s\nwant\n%s", i, got, want)
		}
	}
}

func TestEventsAndHandoverOutcomes(t *testing.T) {
	const src = `
bot:
  skills:
    /start:
      - waitfor: payment_ok
        save: payment
        timeout: 1h
        on_timeout: late
      - text: "Paid {{ payment.amount }}"
      - live_chat: billing
        message: ""
        on_no_agent: offline
      - text: Resolved.
    late:
      - text: Too late.
    offline:
      - text: Nobody is there.
tests:
  - name: event data reaches the flow
    steps:
      - user: hi
      - event: {name: payment_ok, data: {amount: 12.5}}
      - bot: Paid 12.5
      - handover: true
      - handover_end: no_agent
      - bot: Nobody is there.
      - expect: {vars.payment: {amount: 12.5}, session.waiting: false}
  - name: timeout
    steps:
      - user: hi
      - wait: 59m
      - no_reply: true
      - wait: 1m
      - bot: Too late.
`
	res := runSrc(t, src, convo.RunOptions{})
	for _, tr := range res.Tests {
		if !tr.Passed() {
			t.Errorf("%s: %v\n%s", tr.Name, tr.Failure, strings.Join(tr.Transcript, "\n"))
		}
	}
}

func TestParseErrorsDoNotPanic(t *testing.T) {
	for _, src := range []string{
		"", "   ", "[]", "bot", "bot: [1]", "tests: 3", "bot: support.yaml\ntests: [1, [2], {}]",
		"bot: support.yaml\ntests:\n  - steps: [{user: {}}, {bot: [[]]}, {expect: 1}, {event: {}}, {wait: {}}, {handover: 1}]",
		"bot: {}\ntests: []", "bot: {skills: 1}", "a: &a [*a]", "bot: support.yaml\ncontact: {attributes: {plan: platinum}}\ntests: [{steps: [{user: hi}]}]",
		"\t- x", "bot: support.yaml\ntests:\n  - steps:\n      - user: {attachment: {kind: photo}}\n",
	} {
		tf, ds := parse(t, src)
		if tf != nil || !ds.HasErrors() {
			t.Errorf("%q parsed without errors", src)
		}
		for _, d := range ds {
			if d.Line < 1 || d.Col < 1 || d.File == "" {
				t.Errorf("%q: diagnostic without a position: %+v", src, d)
			}
		}
	}
}

func TestAttributeConversion(t *testing.T) {
	_, ds := parse(t, "bot: support.yaml\ncontact: {attributes: {plan: platinum}}\ntests: [{steps: [{user: hi}]}]")
	want := "testdata/inmemory.test.yaml:2:30: attribute plan is one of free, gold; \"platinum\" is not"
	if ds.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", ds.Error(), want)
	}
}

func TestStepLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("bot: support.yaml\ntests:\n  - name: long\n    steps:\n")
	for i := 0; i <= convo.MaxTestSteps; i++ {
		b.WriteString("      - no_reply: true\n")
	}
	_, ds := parse(t, b.String())
	want := fmt.Sprintf("testdata/inmemory.test.yaml:4:5: test \"long\" has %d steps; the limit is %d", convo.MaxTestSteps+1, convo.MaxTestSteps)
	if ds.Error() != want {
		t.Errorf("got %s", ds.Error())
	}
}

func TestFormatColumns(t *testing.T) {
	got := convo.FormatColumns([]string{"text: Hello Ann!"}, []string{"text: Hi there!", "buttons: A | B"}, "  ", 40)
	want := "" +
		"  expected         | actual\n" +
		"  -----------------+-----------------\n" +
		"  text: Hello Ann! | text: Hi there!\n" +
		"                   | buttons: A | B\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func FuzzParseTest(f *testing.F) {
	for _, s := range []string{
		"bot: support.yaml\ntests:\n  - steps:\n      - user: hi\n      - bot: /Hi/i\n",
		"bot:\n  skills:\n    /start:\n      - text: hi\ntests: [{steps: [{user: x}, {bot: hi}, {wait: 1m}, {expect: {vars.a: 1}}]}]\n",
		"bot:\n  skills:\n    /start:\n      - json: https://a.example/x\n        save: r\n      - trigger: t\nhttp: [{url: /x/, body: {a: 1}, headers: {X-A: b}}]\ntests: [{http: [{method: GET, url: \"https://a.example/y\", status: 404}], steps: [{user: x}, {notification: t}, {bot: {file: {caption: c}}}, {handover: {form: {a: 1}}}]}]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tf, ds := convo.ParseTest("testdata/fuzz.test.yaml", []byte(src))
		if (tf == nil) != ds.HasErrors() {
			t.Fatalf("file %v with errors %v", tf != nil, ds.HasErrors())
		}
		if tf != nil {
			tf.Run(convo.RunOptions{})
		}
	})
}

// httpBot calls an order API and says what came back.
const httpBot = `
bot:
  skills:
    /start:
      - text: Order number?
      - listen: order
      - json: "https://orders.example.com/api/orders/{{ order }}?lang=en"
        timeout: 300ms
        save: info
        save_status: code
        save_error: problem
        on_error: failed
      - text: "Order {{ order }} is {{ info.status }}, due {{ info.eta }}."
      - goto: /start
    failed:
      - text: "Lookup failed ({{ code }}): {{ problem }}"
      - goto: /start
`

// runHTTP runs httpBot with the given file-level lines (http: …) and tests.
func runHTTP(t *testing.T, file, tests string, opts convo.RunOptions) *convo.FileResult {
	t.Helper()
	return runSrc(t, httpBot+file+"tests:\n"+tests, opts)
}

func mustPass(t *testing.T, res *convo.FileResult) {
	t.Helper()
	for _, tr := range res.Tests {
		if !tr.Passed() && !tr.Skipped {
			t.Errorf("%s: %v\n  %s", tr.Name, tr.Failure, strings.Join(tr.Transcript, "\n  "))
		}
	}
}

func TestHTTPFakeAnswers(t *testing.T) {
	res := runHTTP(t, `http:
  - {method: GET, url: "https://orders.example.com/api/orders/12345?lang=en", status: 200, body: {status: shipped, eta: "2026-03-05"}}
`, `
  - name: answered and saved
    steps:
      - user: hi
      - user: "12345"
      - bot: Order 12345 is shipped, due 2026-03-05.
      - expect: {vars.code: 200, vars.info: {status: shipped, eta: "2026-03-05"}, vars.problem: ""}
  - name: a test's own fake comes first, a regex matches
    http:
      - {url: '/\/orders\/1234[0-9]\?/', body: {status: lost, eta: never}}
    steps:
      - user: hi
      - user: "12345"
      - bot: ["Order 12345 is lost, due never.", "Order number?"]
      - user: "12346"
      - bot: Order 12346 is lost, due never.
  - name: text bodies and headers
    http:
      - url: /99999/
        status: 503
        headers: {Retry-After: "30", Content-Type: text/x-plain}
        body: down for maintenance
    steps:
      - user: hi
      - user: "99999"
      - bot: "Lookup failed (503): GET https://orders.example.com/api/orders/99999?lang=en: the server answered 503 Service Unavailable"
      - expect: {vars.info: down for maintenance}
`, convo.RunOptions{})
	mustPass(t, res)
	if len(res.Tests) != 3 {
		t.Fatalf("%d results, want 3", len(res.Tests))
	}
	tr := strings.Join(res.Tests[0].Transcript, "\n")
	if want := "user: 12345\nhttp: GET https://orders.example.com/api/orders/12345?lang=en → 200\nbot: Order 12345 is shipped"; !strings.Contains(tr, want) {
		t.Errorf("transcript lacks %q:\n%s", want, tr)
	}
}

func TestHTTPFakeErrorStatusTakesOnError(t *testing.T) {
	res := runHTTP(t, "", `
  - name: not found
    http:
      - {url: '/orders\.example\.com\/api\/orders\/99999/', status: 404, body: {error: not found}}
    steps:
      - user: hi
      - user: "99999"
      - bot: /^Lookup failed \(404\)/
      - expect: {vars.code: 404, vars.info: {error: not found}}
`, convo.RunOptions{})
	mustPass(t, res)
}

func TestHTTPWithoutFakesIsOffline(t *testing.T) {
	res := runHTTP(t, "", `
  - name: offline
    steps:
      - user: hi
      - user: "12345"
      - bot: "Lookup failed (0): GET https://orders.example.com/api/orders/12345?lang=en: no network in conversation tests: add an http: fake"
`, convo.RunOptions{})
	mustPass(t, res)
}

func TestHTTPUnexpectedRequestFails(t *testing.T) {
	res := runHTTP(t, `http:
  - {method: POST, url: "https://orders.example.com/api/orders/12345?lang=en"}
`, `
  - name: wrong method
    steps:
      - user: hi
      - user: "12345"
      - bot: /Lookup failed/
`, convo.RunOptions{})
	if len(res.Tests) != 1 {
		t.Fatalf("%d results, want 1", len(res.Tests))
	}
	f := res.Tests[0].Failure
	if f == nil {
		t.Fatal("a request without a fake passed")
	}
	want := "testdata/inmemory.test.yaml:25:9: step 2 (user): unexpected HTTP request GET https://orders.example.com/api/orders/12345?lang=en; the test's http: list has no fake for it\n" +
		"  expected:\n    a fake for POST https://orders.example.com/api/orders/12345?lang=en\n" +
		"  actual:\n    GET https://orders.example.com/api/orders/12345?lang=en"
	if f.Error() != want {
		t.Errorf("failure:\n%s\nwant:\n%s", f.Error(), want)
	}
	// The file's fake was not used, but the test failed: no second failure.
	if len(res.Tests) != 1 {
		t.Errorf("results: %+v", res.Tests)
	}
}

func TestHTTPUnusedFakes(t *testing.T) {
	const fileFakes = `http:
  - {url: "https://orders.example.com/api/orders/11111?lang=en", body: {status: new}}
  - {url: "https://orders.example.com/api/orders/22222?lang=en", body: {status: old}}
`
	const tests = `
  - name: uses the first file fake
    steps:
      - user: hi
      - user: "11111"
      - bot: /is new/
  - name: declares a fake it never needs
    http:
      - {url: "https://orders.example.com/api/orders/33333?lang=en", body: {status: new}}
      - {method: GET, url: /44444/}
    steps:
      - user: hi
      - user: "33333"
      - bot: /Order 33333/
`
	res := runHTTP(t, fileFakes, tests, convo.RunOptions{})
	if len(res.Tests) != 2 {
		t.Fatalf("%d results, want 2 (a test failed, so the file's fakes are not checked)", len(res.Tests))
	}
	if !res.Tests[0].Passed() {
		t.Errorf("first test: %v", res.Tests[0].Failure)
	}
	want := "testdata/inmemory.test.yaml:31:9: step 0 (http): http fake GET /44444/ was never requested: the bot made no such request (remove the fake, or check its method and url)"
	if f := res.Tests[1].Failure; f == nil || f.Error() != want {
		t.Errorf("second test: %v\nwant %s", f, want)
	}

	// Every test passes, but the second file fake served nobody.
	res = runHTTP(t, fileFakes, tests[:strings.Index(tests, "  - name: declares")], convo.RunOptions{})
	if len(res.Tests) != 2 || !res.Tests[0].Passed() {
		t.Fatalf("results: %+v", res.Tests)
	}
	tr := res.Tests[1]
	want = "testdata/inmemory.test.yaml:20:5: step 0 (http): http fake any https://orders.example.com/api/orders/22222?lang=en was never requested by any test of the file (remove the fake, or check its method and url)"
	if tr.Name != "the file's http fakes" || tr.Line != 18 || tr.Failure == nil || tr.Failure.Error() != want {
		t.Errorf("got %q line %d: %v\nwant %s", tr.Name, tr.Line, tr.Failure, want)
	}
	if res.Failed() != 1 {
		t.Errorf("failed = %d, want 1", res.Failed())
	}

	// With a filter the file's fakes are not checked: a test left out may
	// be the one that needs them.
	res = runHTTP(t, fileFakes, tests, convo.RunOptions{Filter: regexp.MustCompile("first")})
	if len(res.Tests) != 1 || !res.Tests[0].Passed() {
		t.Errorf("filtered: %+v", res.Tests)
	}
}

func TestHTTPDelayAndTimeout(t *testing.T) {
	start := time.Now()
	res := runHTTP(t, "", `
  - name: slower than the block's timeout
    http:
      - {url: /12345/, delay: 20s, body: {status: late}}
    steps:
      - user: hi
      - user: "12345"
      - bot: "Lookup failed (0): GET https://orders.example.com/api/orders/12345?lang=en: no response within 300ms"
  - name: quicker than the timeout
    http:
      - {url: /12345/, delay: 50ms, body: {status: shipped, eta: soon}}
    steps:
      - user: hi
      - user: "12345"
      - bot: Order 12345 is shipped, due soon.
`, convo.RunOptions{})
	mustPass(t, res)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s: the delayed answer was waited for", d)
	}
}

// TestHTTPServerClosed checks that no server, connection or handler
// outlives its test.
func TestHTTPServerClosed(t *testing.T) {
	src := httpBot + "tests:\n"
	for i := 0; i < 5; i++ {
		src += fmt.Sprintf(`
  - name: test %d
    http:
      - {url: /11111/, body: {status: fine, eta: today}}
      - {url: /22222/, delay: 10s}
    steps:
      - user: hi
      - user: "11111"
      - bot: /fine/
      - user: "22222"
      - bot: /Lookup failed/
      - user: "33333"
`, i)
	}
	before := runtime.NumGoroutine()
	res := runSrc(t, src, convo.RunOptions{})
	for _, tr := range res.Tests {
		if f := tr.Failure; f == nil || f.Step != 6 || !strings.Contains(f.Message, "unexpected HTTP request GET https://orders.example.com/api/orders/33333") {
			t.Errorf("%s: %v, want a failure at step 6 on its unexpected request\n  %s", tr.Name, f, strings.Join(tr.Transcript, "\n  "))
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestHTTPFakeErrors(t *testing.T) {
	_, ds := parse(t, `bot: support.yaml
http:
  - {url: "orders.example.com/x"}
  - {method: FETCH, url: /x/, status: 99, delay: 31s, surprise: 1}
  - {status: 200}
  - {url: "/([/"}
  - {url: /x/, headers: {"bad header": x}, delay: soon}
  - 3
tests:
  - http: {url: /x/}
    steps: [{user: hi}]
`)
	want := `testdata/inmemory.test.yaml:3:11: url orders.example.com/x is not an http or https URL: write the whole address, or a /regular expression/
testdata/inmemory.test.yaml:4:14: method must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS; found "FETCH"
testdata/inmemory.test.yaml:4:39: status must be an HTTP status code from 100 to 599; found "99"
testdata/inmemory.test.yaml:4:50: delay 31s is too long: a fake may wait at most 30s (a JSON block gives up after 30s at most)
testdata/inmemory.test.yaml:4:55: unknown key "surprise" in an http fake; the keys are: method, url, status, body, headers, delay
testdata/inmemory.test.yaml:5:5: an http fake needs the url it answers: the exact URL, or a /regular expression/
testdata/inmemory.test.yaml:6:11: url: /([/ is not a valid regular expression: error parsing regexp: missing closing ]: ` + "`[`" + `
testdata/inmemory.test.yaml:7:26: "bad header" is not a valid header name: use letters, digits and -
testdata/inmemory.test.yaml:7:51: delay must be a duration like 500ms or 2s; found "soon"
testdata/inmemory.test.yaml:8:5: an http fake must be a mapping of method, url, status, body, headers, delay; found "3"
testdata/inmemory.test.yaml:10:11: http must be a list of fake responses, like - {url: "https://api.example.com/x", body: {ok: true}}; found a mapping`
	if ds.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", ds.Error(), want)
	}
}

func TestNotificationStep(t *testing.T) {
	const bot = `
bot:
  skills:
    /start:
      - trigger: visit
      - listen: contact.email
      - trigger: new_lead
        with: {email: contact.email, score: 3}
      - trigger: new_lead
        with: {email: '"second@example.com"', score: 4}
tests:
`
	res := runSrc(t, bot+`
  - name: checks
    steps:
      - user: hi
      - notification: visit
      - user: ann@example.com
      - notification: {name: new_lead, data: {score: 4}}
      - notification: {name: new_lead, data: {email: ann@example.com, score: 3}}
  - name: none left
    steps:
      - user: hi
      - user: ann@example.com
      - notification: {name: new_lead}
      - notification: {name: new_lead}
      - notification: new_lead
  - name: wrong data
    steps:
      - user: hi
      - user: ann@example.com
      - notification: {name: new_lead, data: {score: "3"}}
`, convo.RunOptions{})
	if !res.Tests[0].Passed() {
		t.Errorf("checks: %v", res.Tests[0].Failure)
	}
	want := `testdata/inmemory.test.yaml:26:9: step 5 (notification): no notification new_lead was raised
  expected:
    notification new_lead
  actual:
    notifications visit`
	if f := res.Tests[1].Failure; f == nil || f.Error() != want {
		t.Errorf("none left: %v\nwant\n%s", f, want)
	}
	want = `testdata/inmemory.test.yaml:31:9: step 3 (notification): the notification's data differs
  expected:
    notification new_lead
    data.score: "3" (text)
  actual:
    notification new_lead
    data.score: 3 (a number)`
	if f := res.Tests[2].Failure; f == nil || f.Error() != want {
		t.Errorf("wrong data: %v\nwant\n%s", f, want)
	}
}

func TestMediaAndFormExpectations(t *testing.T) {
	const bot = `
bot:
  skills:
    /start:
      - image: https://x.example/a.png
        caption: "Hi {{ contact.name }}"
        alt: A
      - file: https://x.example/cat.pdf
        name: catalogue.pdf
        caption: Our catalogue.
      - media: https://x.example/tour.mp4
      - live_chat: sales
        message: ""
        form: {email: '"ann@example.com"', score: 3}
contact: {name: Ann}
tests:
`
	res := runSrc(t, bot+`
  - name: passes
    steps:
      - user: hi
      - bot: {image: {url: /a\.png$/, caption: Hi Ann, name: A, kind: image}}
      - bot: {file: {url: https://x.example/cat.pdf, name: catalogue.pdf, caption: Our catalogue.}}
      - bot: {media: {kind: video}}
      - handover: {queue: sales, form: {email: ann@example.com}}
  - name: wrong caption
    steps:
      - user: hi
      - bot: {image: {caption: Hello Ann}}
  - name: wrong form
    steps:
      - user: hi
      - handover: {form: {score: 4, email: ann@example.com}}
`, convo.RunOptions{})
	if !res.Tests[0].Passed() {
		t.Errorf("passes: %v", res.Tests[0].Failure)
	}
	want := `testdata/inmemory.test.yaml:28:9: step 2 (bot): the message's image differs
  expected:
    image: caption Hello Ann
  actual:
    image: https://x.example/a.png, caption Hi Ann`
	if f := res.Tests[1].Failure; f == nil || f.Error() != want {
		t.Errorf("wrong caption: %v\nwant\n%s", f, want)
	}
	want = `testdata/inmemory.test.yaml:32:9: step 2 (handover): the live-chat request differs
  expected:
    form.score: 4 (a number)
    form.email: "ann@example.com"
  actual:
    form.score: 3 (a number)
    form.email: "ann@example.com"`
	if f := res.Tests[2].Failure; f == nil || f.Error() != want {
		t.Errorf("wrong form: %v\nwant\n%s", f, want)
	}
}

// ---------------------------------------------------------------------------
// Regressions found while writing the example bots, each the smallest
// conversation that showed the bug.

// In a bot with a time zone other than UTC, date() parses in that zone and
// its result takes method calls (expr-lang's own Timezone option broke the
// second; flows/expr.go replaces it).
func TestDateMethodInTimeZone(t *testing.T) {
	res := runSrc(t, `
bot:
  timezone: America/New_York
  skills:
    /start:
      - text: "{{ date('2026-03-10').Year() }}"
    /_error:
      - text: "{{ error.message }}"
tests:
  - steps: [{user: hi}, {bot: "2026"}]
`, convo.RunOptions{})
	mustPass(t, res)
}

// A new contact's first message that taps a button the bot offered (a
// /_page_visit quick reply) goes where the button says, not to /start.
func TestFirstMessageFollowsOffers(t *testing.T) {
	res := runSrc(t, `
bot:
  skills:
    /start:
      - text: Hello!
    /_page_visit:
      - text: Pricing?
        quick_replies: [{title: "Yes", goto: sales}]
    sales:
      - text: Sales here.
tests:
  - steps:
      - event: {name: page_visit, data: {url: /pricing}}
      - bot: Pricing?
      - user: {button: "Yes"}
      - bot: Sales here.
`, convo.RunOptions{})
	mustPass(t, res)
}

// WAITFOR saves a tapped button's payload, as LISTEN does.
func TestWaitForSavesButtonPayload(t *testing.T) {
	res := runSrc(t, `
bot:
  skills:
    /start:
      - text: Ready?
        quick_replies: [{title: "Yes!", payload: go}]
      - waitfor: never
        save: answer
      - text: "saved {{ answer }}"
tests:
  - steps:
      - user: hi
      - user: {button: "Yes!"}
      - bot: saved go
`, convo.RunOptions{})
	mustPass(t, res)
}
