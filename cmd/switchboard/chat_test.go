package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// t0 is the chat tests' clock: Monday 2 March 2026, 10:00 UTC (11:00 in the
// shop bot's Europe/Berlin).
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// never is a tick channel that never fires: timers fire only at start, by
// /wait, and before each input.
var never = make(chan time.Time)

func chatScript(t *testing.T, cfg chatConfig, script string) string {
	t.Helper()
	var out bytes.Buffer
	cfg.In = strings.NewReader(script)
	cfg.Out = &out
	if cfg.BotFile == "" {
		cfg.BotFile = "testdata/shop.yaml"
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return t0 }
	}
	if cfg.Tick == nil {
		cfg.Tick = never
	}
	if err := runChat(context.Background(), cfg); err != nil {
		t.Fatalf("chat failed: %v\noutput:\n%s", err, out.String())
	}
	return out.String()
}

func TestChatScript(t *testing.T) {
	got := chatScript(t, chatConfig{Name: "Ann"}, `hi
pizza
/wait 5m
/wait 5m
/event news {"headline": "Free pizza"}
/event news {bad
/event
/reset
hi
3
/end resolved
/end resolved
/end maybe
/bogus
//start
7

/quit
this line is never read
`)
	want := `Chatting with Shop as Ann (local). Type /help for commands.
bot: Hello Ann (no plan)
  1) Pizza
  2) Salad
  -) Website: https://example.com
  3) Help
bot: Pizza it is. I'll check back in 10 minutes.
(the clock is now 2026-03-02 11:05; nothing was due)
bot: Still hungry?
bot: News: Free pizza
the event data must be a JSON object: invalid character 'b' looking for beginning of object key string
usage: /event NAME [JSON object]
(new conversation)
bot: Hello Ann (no plan)
  1) Pizza
  2) Salad
  -) Website: https://example.com
  3) Help
[handover requested: queue support, priority normal] the bot waits for an agent: type /end resolved, /end no_agent or /end timeout
bot: Back with the bot.
(no live-chat handover is open)
usage: /end resolved|no_agent|timeout
unknown command /bogus: /help lists the commands (start a message with // to send a text beginning with /)
bot: Sorry, /start?
bot: Sorry, 7?
`
	if got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
}

// TestChatChoices taps a payload button by number and by title, and checks
// that a number beyond the choices is sent as text.
func TestChatChoices(t *testing.T) {
	got := chatScript(t, chatConfig{}, "hi\n2\n")
	if !strings.HasSuffix(got, "bot: You chose salad\n") {
		t.Errorf("tap by number:\n%s", got)
	}
	got = chatScript(t, chatConfig{}, "hi\nSALAD\n")
	if !strings.HasSuffix(got, "bot: You chose salad\n") {
		t.Errorf("tap by title:\n%s", got)
	}
	got = chatScript(t, chatConfig{}, "hi\n9\n")
	if !strings.HasSuffix(got, "bot: You chose 9\n") {
		t.Errorf("number out of range:\n%s", got)
	}
	got = chatScript(t, chatConfig{}, "/help\n")
	if !strings.Contains(got, "/event NAME [JSON]") {
		t.Errorf("help:\n%s", got)
	}
}

func TestChatAttributes(t *testing.T) {
	got := chatScript(t, chatConfig{Name: "Bob", ContactID: "bob-1", AttrKeys: []string{"plan"}, Attrs: map[string]string{"plan": "GOLD"}}, "hi\n")
	if !strings.HasPrefix(got, "Chatting with Shop as Bob (bob-1).") || !strings.Contains(got, "bot: Hello Bob (gold)\n") {
		t.Errorf("output:\n%s", got)
	}
}

// syncBuffer is a writer the test can read while the chat writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the output contains s.
func waitFor(t *testing.T, out *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("output never showed %q:\n%s", s, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestChatTimersFireOnTicks checks that a timer fires on a tick once the
// clock has passed it, without any input.
func TestChatTimersFireOnTicks(t *testing.T) {
	clock := &fakeClock{now: t0}
	tick := make(chan time.Time)
	inR, inW := io.Pipe()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runChat(context.Background(), chatConfig{BotFile: "testdata/shop.yaml", In: inR, Out: out, Now: clock.Now, Tick: tick})
	}()
	io.WriteString(inW, "hi\n1\n")
	waitFor(t, out, "Pizza it is.")
	clock.Add(9 * time.Minute)
	tick <- clock.Now()
	clock.Add(time.Minute)
	tick <- clock.Now()
	waitFor(t, out, "bot: Still hungry?\n")
	if n := strings.Count(out.String(), "Still hungry?"); n != 1 {
		t.Errorf("the timer fired %d times", n)
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestChatStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	inR, inW := io.Pipe()
	defer inW.Close()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runChat(ctx, chatConfig{BotFile: "testdata/shop.yaml", In: inR, Out: out, Now: func() time.Time { return t0 }, Tick: never})
	}()
	waitFor(t, out, "Type /help")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the chat did not stop when its context ended")
	}
}

// TestChatDataManyTimers resumes a contact whose timer comes after more
// than store.MaxDueTimers timers of other contacts.
func TestChatDataManyTimers(t *testing.T) {
	dir := t.TempDir()
	chatScript(t, chatConfig{DataDir: dir, ContactID: "ann"}, "hi\nPizza\n")
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var others []flows.Timer
	for i := range store.MaxDueTimers + 1 {
		others = append(others, flows.Timer{ID: fmt.Sprint("other-", i), Contact: fmt.Sprint("bob", i%3), Due: t0.Add(time.Duration(i) * time.Millisecond), Kind: flows.TimerWait})
	}
	if err := st.Commit(context.Background(), &store.Batch{Timers: others}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	got := chatScript(t, chatConfig{DataDir: dir, ContactID: "ann", Now: func() time.Time { return t0.Add(11 * time.Minute) }}, "")
	want := `Chatting with Shop as ann. Type /help for commands.
(resuming the saved conversation: 1 timer pending)
bot: Still hungry?
`
	if got != want {
		t.Errorf("second run:\n%s\nwant:\n%s", got, want)
	}
}

// TestChatData runs the chat twice on one data directory: the contact,
// the session and a pending timer survive, and the timer that came due
// while the chat was not running fires at start.
func TestChatData(t *testing.T) {
	dir := t.TempDir()
	cfg := chatConfig{DataDir: dir, ContactID: "ann", Name: "Ann", AttrKeys: []string{"plan"}, Attrs: map[string]string{"plan": "gold"}}
	first := chatScript(t, cfg, "hi\nPizza\n")
	if !strings.HasSuffix(first, "bot: Pizza it is. I'll check back in 10 minutes.\n") {
		t.Fatalf("first run:\n%s", first)
	}

	// Eleven minutes later, without --name or --attr.
	later := t0.Add(11 * time.Minute)
	second := chatScript(t, chatConfig{DataDir: dir, ContactID: "ann", Now: func() time.Time { return later }}, "")
	want := `Chatting with Shop as Ann (ann). Type /help for commands.
(resuming the saved conversation: 1 timer pending)
bot: Still hungry?
`
	if second != want {
		t.Errorf("second run:\n%s\nwant:\n%s", second, want)
	}

	// A third run finds nothing due, and the stored contact kept its plan.
	third := chatScript(t, chatConfig{DataDir: dir, ContactID: "ann", Now: func() time.Time { return later.Add(time.Hour) }}, "/reset\nhi\n")
	want = `Chatting with Shop as Ann (ann). Type /help for commands.
(resuming the saved conversation: 0 timers pending)
(new conversation)
bot: Hello Ann (gold)
`
	if !strings.HasPrefix(third, want) {
		t.Errorf("third run:\n%s\nwant it to start with:\n%s", third, want)
	}

	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	c, err := st.Contact(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Ann" || c.Attributes["plan"] != "gold" || c.Channel != chatChannel || c.Bot != "shop" {
		t.Errorf("stored contact %+v", c)
	}
	s, err := st.Session(ctx, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if s.Wait == nil || s.Wait.Kind == 0 || !s.Started {
		t.Errorf("stored session %+v: want the new conversation waiting in LISTEN", s)
	}
	timers, err := st.DueTimers(ctx, later.Add(24*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(timers) != 0 {
		t.Errorf("timers left in the store: %+v", timers)
	}
	msgs, _, err := st.Messages(ctx, "ann", store.MessageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	for _, m := range msgs {
		log = append(log, m.Direction+": "+m.Content.Text)
	}
	wantLog := "in: hi|out: Hello Ann (gold)|in: Pizza|out: Pizza it is. I'll check back in 10 minutes.|out: Still hungry?|in: hi|out: Hello Ann (gold)"
	if got := strings.Join(log, "|"); got != wantLog {
		t.Errorf("stored messages:\n%s\nwant:\n%s", got, wantLog)
	}
}

func TestChatCommandErrors(t *testing.T) {
	r := runCmd(t, "", "chat")
	r.want(t, 2)
	r = runCmd(t, "", "chat", "a.yaml", "b.yaml")
	r.want(t, 2)
	r = runCmd(t, "", "chat", "--attr", "novalue", "testdata/shop.yaml")
	r.want(t, 2)

	dir := t.TempDir()
	bad := write(t, dir, "bad.yaml", badBot)
	r = runCmd(t, "", "chat", bad)
	r.want(t, 1)
	if !strings.Contains(r.err, bad+`:6:7: unknown block type "txt"`) {
		t.Errorf("stderr:\n%s", r.err)
	}
	r = runCmd(t, "", "chat", "testdata/shop.yaml", "--attr", "plan=platinum")
	r.want(t, 1)
	if !strings.Contains(r.err, "--attr plan: attribute plan is one of free, gold") {
		t.Errorf("stderr:\n%s", r.err)
	}
	// A quick conversation through the command itself; the timer-checking
	// ticker is the real one.
	r = runCmd(t, "hi\n2\n", "chat", "testdata/shop.yaml", "--name", "Cy", "--attr", "plan=free")
	r.want(t, 0)
	if !strings.Contains(r.out, "bot: Hello Cy (free)\n") || !strings.HasSuffix(r.out, "bot: You chose salad\n") {
		t.Errorf("stdout:\n%s", r.out)
	}
}

func TestAttrFlag(t *testing.T) {
	var a attrFlag
	for _, s := range []string{"a=1", "b=x=y", "a=2"} {
		if err := a.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	if a.String() != "a=2,b=x=y" {
		t.Errorf("attrs %s", a.String())
	}
	if err := a.Set("=v"); err == nil {
		t.Error("=v accepted")
	}
	if err := a.Set("novalue"); err == nil || !strings.Contains(err.Error(), "NAME=VALUE") {
		t.Errorf("error %v", err)
	}
}
