package blocks_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/convo"
	"github.com/switchboard-bots/switchboard/runtime/engine"
)

// t0 is the clock every block test starts at: a Monday, 10:00 UTC.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// chat is a conversation under test.
type chat struct {
	t *testing.T
	*convo.Conversation
}

// newChat loads a bot from YAML (failing the test on any error) and starts a
// conversation with a contact named Ann.
func newChat(t *testing.T, src string) *chat {
	t.Helper()
	return newChatWith(t, src, nil, &flows.Contact{ID: "c1", Name: "Ann", Channel: "test"})
}

func newChatWith(t *testing.T, src string, client *http.Client, contact *flows.Contact) *chat {
	t.Helper()
	bot := loadBot(t, src)
	eng := engine.New(nil)
	if client != nil {
		eng.HTTP = client
	}
	c := convo.New(bot, eng, contact, t0)
	// Every step passes the session through its stored form, as the
	// runtime does, so the codec is exercised by every block test.
	c.RoundTrip = convo.SessionRoundTrip
	return &chat{t: t, Conversation: c}
}

func loadBot(t *testing.T, src string) *flows.Bot {
	t.Helper()
	if !strings.Contains(src, "\nid:") && !strings.HasPrefix(src, "id:") {
		src = "id: test\n" + src
	}
	bot, ds := flows.Load("test.yaml", []byte(src))
	if bot == nil {
		t.Fatalf("bot does not load:\n%s", ds.Error())
	}
	return bot
}

// loadErrors loads a bot expected to fail and returns its diagnostics.
func loadErrors(t *testing.T, src string) string {
	t.Helper()
	if !strings.Contains(src, "\nid:") && !strings.HasPrefix(src, "id:") {
		src = "id: test\n" + src
	}
	bot, ds := flows.Load("test.yaml", []byte(src))
	if bot != nil && !ds.HasErrors() {
		t.Fatalf("bot loaded without errors; want errors")
	}
	return ds.Error()
}

// texts returns the text of each message.
func texts(ms []flows.Content) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Text
	}
	return out
}

// say sends text and returns the replies' texts, failing on error.
func (c *chat) say(text string) []string {
	c.t.Helper()
	ms, err := c.Say(text)
	if err != nil {
		c.t.Fatal(err)
	}
	return texts(ms)
}

// sayMsgs is say returning whole messages.
func (c *chat) sayMsgs(text string) []flows.Content {
	c.t.Helper()
	ms, err := c.Say(text)
	if err != nil {
		c.t.Fatal(err)
	}
	return ms
}

func (c *chat) tap(title, payload string) []string {
	c.t.Helper()
	ms, err := c.Tap(title, payload)
	if err != nil {
		c.t.Fatal(err)
	}
	return texts(ms)
}

func (c *chat) event(name string, data map[string]any) []string {
	c.t.Helper()
	ms, err := c.Event(name, data)
	if err != nil {
		c.t.Fatal(err)
	}
	return texts(ms)
}

func (c *chat) wait(d time.Duration) []string {
	c.t.Helper()
	ms, err := c.Advance(d)
	if err != nil {
		c.t.Fatal(err)
	}
	return texts(ms)
}

// want fails the test unless got equals want.
func want(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != len(want) {
		t.Fatalf("bot said:\n  %q\nwant:\n  %q", got, want)
	}
}
