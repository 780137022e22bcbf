package convo_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

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
		"bad_keys": `testdata/bad_keys.test.yaml:2:1: unknown key "timeout" in a test file; the keys are: bot, now, seed, contact, tests
testdata/bad_keys.test.yaml:5:5: unknown key "contakt" in a test (did you mean "contact"?); the keys are: name, contact, now, seed, skip, steps
testdata/bad_keys.test.yaml:7:9: unknown step "usr" (did you mean "user"?); steps are: user, bot, event, wait, no_reply, handover, handover_end, expect
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
testdata/bad_keys.test.yaml:17:9: a step is a mapping with one key, one of user, bot, event, wait, no_reply, handover, handover_end, expect; found "hi"
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
