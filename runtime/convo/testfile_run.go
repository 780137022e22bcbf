package convo

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
)

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
