package livechat_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/access"
	"github.com/switchboard-bots/switchboard/runtime/channel"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/livechat"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

const botSrc = `
id: help
skills:
  /start:
    - text: Hi! Say anything to talk to a person.
    - listen: said
    - goto: /_start_live_chat
  /_start_live_chat:
    - live_chat: billing
      message: Connecting you to billing.
      note: "From {{ contact.channel }}"
      form:
        said: said
      timeout: 4h
    - text: Back with the bot.
    - listen: again
    - text: "Bot heard {{ again }}."
  /default:
    - goto: /start
`

// noAgentSrc has somewhere to go when nobody is online.
const noAgentSrc = `
id: desk
skills:
  /start:
    - live_chat: sales
      timeout: 1h
      on_no_agent: offline
    - text: Resolved, bot here.
  offline:
    - text: Nobody is online; leave your email.
`

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

type rig struct {
	t   *testing.T
	st  store.Store
	p   *pipeline.Pipeline
	svc *livechat.Service
	clk *clock
	// agents by name: their principals.
	agents map[string]*access.Principal
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st, err := store.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{}
	clk.ns.Store(t0.UnixNano())
	r := &rig{t: t, st: st, clk: clk, agents: map[string]*access.Principal{}}
	r.svc = livechat.New(livechat.Config{Store: st, Now: clk.now,
		Capabilities: func(ch string) channel.Capabilities {
			if ch == "whatsapp" {
				return channel.Capabilities{ReplyWindow: 24 * time.Hour}
			}
			return channel.Capabilities{}
		}})
	r.p = pipeline.New(pipeline.Config{Store: st, Engine: engine.New(nil), Shards: 4, TimerPoll: 5 * time.Millisecond, Now: clk.now,
		Hook: r.svc, OnCommit: r.svc.Committed})
	bots := map[string]*flows.Bot{}
	for _, src := range []string{botSrc, noAgentSrc} {
		b, ds := flows.Load("bot.yaml", []byte(src))
		if b == nil || ds.HasErrors() {
			t.Fatal(ds)
		}
		bots[b.ID] = b
	}
	r.p.SetBots(bots)
	r.svc.SetPipeline(r.p)
	if err := r.svc.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.p.Start()
	r.svc.Start()
	t.Cleanup(func() {
		r.p.Close(context.Background())
		r.svc.Stop()
	})
	return r
}

var bg = context.Background()

// agent creates an account and returns its principal.
func (r *rig) agent(name, role string, bots, teams []string) *access.Principal {
	r.t.Helper()
	a := &store.Account{ID: "acc_" + name, Email: name + "@example.com", Name: strings.ToUpper(name[:1]) + name[1:], Role: role, Bots: bots, Teams: teams, CreatedAt: t0}
	if err := r.st.PutAccount(bg, a); err != nil {
		r.t.Fatal(err)
	}
	p := &access.Principal{Account: a.ID, Name: a.Name, Role: role, Bots: bots, Teams: teams, Scopes: access.RoleScopes(role)}
	r.agents[name] = p
	return p
}

func (r *rig) send(bot, sender, text string) *pipeline.Result {
	r.t.Helper()
	res, err := r.p.Handle(bg, pipeline.Inbound{Bot: bot, Channel: "webchat", Sender: sender, Content: flows.Content{Text: text}})
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

// conversation is the contact's messages as "author:text" lines.
func (r *rig) conversation(contact string) string {
	r.t.Helper()
	ms, _, err := r.st.Messages(bg, contact, store.MessageQuery{Limit: store.MaxPage})
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.Author+":"+m.Content.Text)
	}
	return strings.Join(out, "\n")
}

// open starts a handover for sender on the help bot and returns it.
func (r *rig) open(sender string) *store.Handover {
	r.t.Helper()
	r.send("help", sender, "hello")
	res := r.send("help", sender, "I need a human")
	if len(res.Handovers) != 1 {
		r.t.Fatalf("no handover opened: %+v", res)
	}
	return res.Handovers[0]
}

func (r *rig) eventually(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("after 5s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHandoverLifecycle(t *testing.T) {
	r := newRig(t)
	ann := r.agent("ann", access.RoleAgent, []string{"help"}, []string{"billing"})
	defer r.svc.Connected(bg, ann.Account)()

	h := r.open("u1")
	if h.Status != store.HandoverNew || h.Queue != "billing" || h.Note != "From webchat" || h.Form["said"] != "I need a human" || h.Channel != "webchat" {
		t.Fatalf("new handover: %+v", h)
	}
	// While it is open the bot stays out.
	if res := r.send("help", "u1", "are you there?"); len(res.Replies) != 0 {
		t.Fatalf("the bot answered during the handover: %+v", res.Replies)
	}
	got, _ := r.svc.Get(bg, ann, h.ID)
	if !got.LastCustomerAt.Equal(t0) {
		t.Fatalf("last customer message not recorded: %+v", got)
	}

	r.clk.add(time.Minute)
	h, err := r.svc.Assign(bg, ann, h.ID, "")
	if err != nil || h.Status != store.HandoverAssigned || h.Assignee != ann.Account || !h.AssignedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("assign to me: %+v %v", h, err)
	}
	r.clk.add(time.Minute)
	msg, h, err := r.svc.Reply(bg, ann, h.ID, livechat.Reply{Text: "Hi, Ann here."})
	if err != nil || msg == nil || msg.Author != store.AuthorAgent || msg.Agent != ann.Account || msg.Status != store.StatusQueued {
		t.Fatalf("reply: %+v %v", msg, err)
	}
	if h.Status != store.HandoverChatting || !h.FirstReplyAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("after the reply: %+v", h)
	}
	if _, err := r.svc.AddNote(bg, ann, h.ID, "VIP customer", "green"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.AddNote(bg, ann, h.ID, "x", "plaid"); !errors.Is(err, livechat.ErrInvalid) {
		t.Fatalf("a note of an unknown colour: %v", err)
	}
	h, err = r.svc.Resolve(bg, ann, h.ID, "answered the invoice question")
	if err != nil || h.Status != store.HandoverResolved || h.Outcome != flows.HandoverResolved || h.ResolveNote == "" {
		t.Fatalf("resolve: %+v %v", h, err)
	}
	// The bot is back: it went on below the LIVE CHAT block and answers.
	if res := r.send("help", "u1", "thanks"); len(res.Replies) != 1 || res.Replies[0].Content.Text != "Bot heard thanks." {
		t.Fatalf("the bot after the resolve: %+v", res.Replies)
	}
	want := strings.Join([]string{
		"user:hello", "bot:Hi! Say anything to talk to a person.", "user:I need a human", "bot:Connecting you to billing.",
		"user:are you there?", "system:Ann joined the conversation.", "agent:Hi, Ann here.",
		"system:" + livechat.DefaultResolveMessage, "bot:Back with the bot.", "user:thanks", "bot:Bot heard thanks.",
	}, "\n")
	if got := r.conversation(h.Contact); got != want {
		t.Fatalf("conversation:\n%s\nwant:\n%s", got, want)
	}
	h, _ = r.svc.Get(bg, ann, h.ID)
	var path []string
	for _, tr := range h.History {
		path = append(path, tr.To)
	}
	if strings.Join(path, ">") != "new>assigned>chatting>resolved" || h.History[1].By != ann.Account || len(h.Notes) != 1 {
		t.Fatalf("history %v, notes %+v", path, h.Notes)
	}
	if h, err = r.svc.Close(bg, ann, h.ID); err != nil || h.Status != store.HandoverClosed {
		t.Fatalf("close: %+v %v", h, err)
	}
	if _, _, err := r.svc.Reply(bg, ann, h.ID, livechat.Reply{Text: "late"}); !errors.Is(err, livechat.ErrConflict) {
		t.Fatalf("a reply to a closed handover: %v", err)
	}
}

func TestAccessAndAssignment(t *testing.T) {
	r := newRig(t)
	ann := r.agent("ann", access.RoleAgent, []string{"help"}, []string{"billing"})
	bob := r.agent("bob", access.RoleAgent, []string{"help"}, []string{"billing"})
	sam := r.agent("sam", access.RoleAgent, []string{"help"}, []string{"sales"})
	mgr := r.agent("max", access.RoleManager, []string{"help"}, nil)
	defer r.svc.Connected(bg, ann.Account)()
	h := r.open("u1")

	if _, err := r.svc.Get(bg, sam, h.ID); !errors.Is(err, livechat.ErrNotFound) {
		t.Fatalf("an agent of another team sees it: %v", err)
	}
	if page, _ := r.svc.List(bg, sam, livechat.Query{}); len(page.Handovers) != 0 {
		t.Fatalf("another team's queue lists it: %+v", page.Handovers)
	}
	if page, _ := r.svc.List(bg, ann, livechat.Query{Queue: "billing"}); len(page.Handovers) != 1 {
		t.Fatalf("the team's queue: %+v", page.Handovers)
	}
	if _, err := r.svc.Assign(bg, ann, h.ID, bob.Account); !errors.Is(err, livechat.ErrForbidden) {
		t.Fatalf("an agent assigns to another: %v", err)
	}
	if _, err := r.svc.Assign(bg, mgr, h.ID, sam.Account); !errors.Is(err, livechat.ErrInvalid) {
		t.Fatalf("assigned to an agent outside the queue: %v", err)
	}
	if h2, err := r.svc.Assign(bg, mgr, h.ID, bob.Account); err != nil || h2.Assignee != bob.Account {
		t.Fatalf("a manager assigns: %+v %v", h2, err)
	}
	// Bob has it: Ann may not write, the manager may.
	if _, _, err := r.svc.Reply(bg, ann, h.ID, livechat.Reply{Text: "me too"}); !errors.Is(err, livechat.ErrConflict) {
		t.Fatalf("another agent writes: %v", err)
	}
	if _, _, err := r.svc.Reply(bg, mgr, h.ID, livechat.Reply{Text: "manager here"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Unassign(bg, ann, h.ID); !errors.Is(err, livechat.ErrForbidden) {
		t.Fatalf("unassigning someone else's: %v", err)
	}
	h, err := r.svc.Unassign(bg, bob, h.ID)
	if err != nil || h.Assignee != "" || h.Status != store.HandoverNew {
		t.Fatalf("unassign: %+v %v", h, err)
	}
	// Takeover & send: writing to a handover nobody has takes it.
	_, h, err = r.svc.Reply(bg, ann, h.ID, livechat.Reply{Text: "taking it"})
	if err != nil || h.Assignee != ann.Account || h.Status != store.HandoverChatting {
		t.Fatalf("takeover & send: %+v %v", h, err)
	}
	if err := r.st.PutTeam(bg, &store.Team{ID: "sales", Name: "Sales"}); err != nil {
		t.Fatal(err)
	}
	h, err = r.svc.Transfer(bg, ann, h.ID, livechat.Transfer{Team: "sales", Note: "about a new plan"})
	if err != nil || h.Queue != "sales" || h.Assignee != "" || h.Notes[len(h.Notes)-1].Text != "about a new plan" {
		t.Fatalf("transfer: %+v %v", h, err)
	}
	if _, err := r.svc.Get(bg, ann, h.ID); !errors.Is(err, livechat.ErrNotFound) {
		t.Fatalf("after the transfer the billing agent still sees it: %v", err)
	}
	if _, err := r.svc.Get(bg, sam, h.ID); err != nil {
		t.Fatalf("the sales agent does not see it: %v", err)
	}
}

func TestAutoAssign(t *testing.T) {
	r := newRig(t)
	if err := r.st.PutTeam(bg, &store.Team{ID: "billing", AutoAssign: store.AutoAssignRoundRobin}); err != nil {
		t.Fatal(err)
	}
	ann := r.agent("ann", access.RoleAgent, []string{"help"}, []string{"billing"})
	bob := r.agent("bob", access.RoleAgent, []string{"help"}, []string{"billing"})
	// Nobody online: the handover waits in the queue, and the customer is
	// told to leave a message.
	h1 := r.open("u1")
	if h1.Assignee != "" || !strings.Contains(r.conversation(h1.Contact), livechat.DefaultOfflineMessage) {
		t.Fatalf("nobody online: %+v\n%s", h1, r.conversation(h1.Contact))
	}
	// Ann comes online and picks it up.
	defer r.svc.Connected(bg, ann.Account)()
	r.eventually("ann picks up the waiting handover", func() bool {
		h, _ := r.svc.Get(bg, ann, h1.ID)
		return h.Assignee == ann.Account
	})
	defer r.svc.Connected(bg, bob.Account)()
	var got []string
	for i := 2; i <= 4; i++ {
		got = append(got, r.open(fmt.Sprint("u", i)).Assignee)
	}
	if got[0] == got[1] || got[1] == got[2] {
		t.Fatalf("round robin handed out %v", got)
	}
	// Away agents get nothing.
	if _, err := r.svc.SetPresence(bg, bob, livechat.Away); err != nil {
		t.Fatal(err)
	}
	for i := 5; i <= 6; i++ {
		if h := r.open(fmt.Sprint("u", i)); h.Assignee != ann.Account {
			t.Fatalf("with bob away, handover %d went to %q", i, h.Assignee)
		}
	}
	agents, err := r.svc.Agents(bg, ann)
	if err != nil || len(agents) != 2 {
		t.Fatalf("agents: %+v %v", agents, err)
	}
	for _, a := range agents {
		if a.ID == bob.Account && (a.Presence != livechat.Away || a.OpenChats == 0) {
			t.Fatalf("bob: %+v", a)
		}
	}
}

func TestNoAgentBranch(t *testing.T) {
	r := newRig(t)
	var notices sync.Map
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		notices.Store(req.URL.Path, true)
	}))
	defer hook.Close()
	if err := r.st.PutLiveChatSettings(bg, "desk", &store.LiveChatSettings{NotifyWebhook: hook.URL + "/waiting"}); err != nil {
		t.Fatal(err)
	}
	var waiting sync.Map // the handover_waiting notification's id
	r.svc.SetNotify(func(_, name string, _ map[string]any, from flows.ActionCaller) {
		if name == "handover_waiting" {
			waiting.Store(from.ID, true)
		}
	})
	res := r.send("desk", "u1", "hi")
	if len(res.Handovers) != 1 {
		t.Fatal("no handover")
	}
	id := res.Handovers[0].ID
	// The bot takes its no-agent branch in the same step: a channel that
	// answers synchronously (REST) shows it.
	var said []string
	for _, m := range res.Replies {
		said = append(said, m.Content.Text)
	}
	if got := strings.Join(said, " | "); got != "You are being transferred to an agent. Please wait. | Nobody is online; leave your email." {
		t.Fatalf("replies: %q", got)
	}
	if ts, _ := r.st.ContactTimers(bg, res.Contact.ID); len(ts) != 0 {
		t.Fatalf("the handover's timeout timer outlived it: %+v", ts)
	}
	h, _ := r.st.Handover(bg, id)
	if h.Status != store.HandoverClosed || h.Outcome != flows.HandoverNoAgent {
		t.Fatalf("handover after no agent: %+v", h)
	}
	r.eventually("the webhook is told", func() bool { _, ok := notices.Load("/waiting"); return ok })
	if _, ok := waiting.Load(id + "/waiting/created"); !ok {
		t.Error("the notify targets were not told, as the handover's waiting on its creation")
	}
}

func TestIdleOffRatingAndReplyWindow(t *testing.T) {
	r := newRig(t)
	ann := r.agent("ann", access.RoleAgent, []string{"help"}, []string{"billing"})
	defer r.svc.Connected(bg, ann.Account)()
	if err := r.st.PutLiveChatSettings(bg, "help", &store.LiveChatSettings{IdleOff: 10 * time.Minute, Rating: true}); err != nil {
		t.Fatal(err)
	}
	h := r.open("u1")
	if _, _, err := r.svc.Reply(bg, ann, h.ID, livechat.Reply{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	r.clk.add(5 * time.Minute)
	if _, _, err := r.svc.Reply(bg, ann, h.ID, livechat.Reply{Text: "still here"}); err != nil {
		t.Fatal(err)
	}
	r.clk.add(9 * time.Minute) // 14 minutes after the first reply, 9 after the last
	time.Sleep(50 * time.Millisecond)
	if h2, _ := r.st.Handover(bg, h.ID); h2.Status != store.HandoverChatting {
		t.Fatalf("turned off before the idle time after the last agent message: %s", h2.Status)
	}
	r.clk.add(2 * time.Minute)
	r.eventually("the live chat turns itself off", func() bool {
		h2, _ := r.st.Handover(bg, h.ID)
		return h2.Status == store.HandoverResolved && h2.RatingAsked
	})
	if !strings.HasSuffix(r.conversation(h.Contact), "system:How would you rate the help you got, from 1 (poor) to 5 (great)?\nbot:Back with the bot.") {
		t.Fatalf("after the idle auto-off:\n%s", r.conversation(h.Contact))
	}
	// The rating is the handover's; the bot does not see it.
	if res := r.send("help", "u1", "4"); len(res.Replies) != 1 || res.Replies[0].Content.Text != "Thank you for your rating!" {
		t.Fatalf("rating: %+v", res.Replies)
	}
	if h2, _ := r.st.Handover(bg, h.ID); h2.Rating != 4 || h2.RatingAsked {
		t.Fatalf("rating stored: %+v", h2)
	}
	if res := r.send("help", "u1", "5"); res.Replies[0].Content.Text != "Bot heard 5." {
		t.Fatalf("after the rating the bot answers: %+v", res.Replies)
	}

	// A channel with a 24-hour window refuses free text after it.
	res, err := r.p.Handle(bg, pipeline.Inbound{Bot: "help", Channel: "whatsapp", Sender: "w1", Content: flows.Content{Text: "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	res, _ = r.p.Handle(bg, pipeline.Inbound{Bot: "help", Channel: "whatsapp", Sender: "w1", Content: flows.Content{Text: "human please"}})
	wa := res.Handovers[0]
	v := r.svc.View(bg, wa)
	if v.ReplyWindowEndsAt == nil || !v.ReplyWindowEndsAt.Equal(r.clk.now().Add(24*time.Hour)) {
		t.Fatalf("reply window in the view: %v", v.ReplyWindowEndsAt)
	}
	r.clk.add(25 * time.Hour)
	if _, _, err := r.svc.Reply(bg, ann, wa.ID, livechat.Reply{Text: "sorry for the wait"}); !errors.Is(err, livechat.ErrReplyWindow) {
		t.Fatalf("free text after the window: %v", err)
	}
}

func TestOverdueAndAnalytics(t *testing.T) {
	r := newRig(t)
	if err := r.st.PutTeam(bg, &store.Team{ID: "billing", ReplyTarget: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	ann := r.agent("ann", access.RoleAgent, []string{"help"}, []string{"billing"})
	defer r.svc.Connected(bg, ann.Account)()
	slow := r.open("u1")
	fast := r.open("u2")
	r.clk.add(time.Minute)
	if _, _, err := r.svc.Reply(bg, ann, fast.ID, livechat.Reply{Text: "quick"}); err != nil {
		t.Fatal(err)
	}
	r.clk.add(2 * time.Minute)
	r.eventually("the unanswered handover is overdue", func() bool {
		h, _ := r.st.Handover(bg, slow.ID)
		return h.Status == store.HandoverOverdue
	})
	if h, _ := r.st.Handover(bg, fast.ID); h.Status != store.HandoverChatting {
		t.Fatalf("the answered one: %s", h.Status)
	}
	if page, _ := r.svc.List(bg, ann, livechat.Query{Status: store.HandoverOverdue}); len(page.Handovers) != 1 || page.Handovers[0].ID != slow.ID {
		t.Fatalf("overdue filter: %+v", page.Handovers)
	}
	if _, err := r.svc.Resolve(bg, ann, fast.ID, ""); err != nil {
		t.Fatal(err)
	}
	a, err := r.svc.Analytics(bg, ann, livechat.AnalyticsQuery{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if a.Handovers != 2 || a.FirstReply.Count != 1 || a.FirstReply.MedianS != 60 || a.Resolve.Count != 1 || a.Resolve.MedianS != 180 {
		t.Fatalf("analytics: %+v", a)
	}
	if len(a.ByAgent) != 1 || a.ByAgent[0].Name != "Ann" || len(a.PerDay) != 1 || a.PerDay[0].Count != 2 {
		t.Fatalf("analytics groups: %+v %+v", a.ByAgent, a.PerDay)
	}
}

// The bot's notify targets hear of every change of a handover's status.
func TestLifecycleNotifications(t *testing.T) {
	r := newRig(t)
	var mu sync.Mutex
	var got, ids []string
	r.svc.SetNotify(func(bot, name string, data map[string]any, from flows.ActionCaller) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%s %s %v", bot, name, data["status"]))
		ids = append(ids, from.ID)
	})
	ann := r.agent("ann", access.RoleAgent, []string{"help"}, []string{"billing"})
	defer r.svc.Connected(bg, ann.Account)()
	h := r.open("u1")
	if _, err := r.svc.Assign(bg, ann, h.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.svc.Reply(bg, ann, h.ID, livechat.Reply{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.AddNote(bg, ann, h.ID, "a note is no change of status", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Resolve(bg, ann, h.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Close(bg, ann, h.ID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := "help handover_new new|help handover_assigned assigned|help handover_chatting chatting|help handover_resolved resolved|help handover_closed closed"
	if strings.Join(got, "|") != want {
		t.Fatalf("notifications:\n%s\nwant:\n%s", strings.Join(got, "|"), want)
	}
	// Each change is identified by its entry in the handover's history.
	if want := fmt.Sprintf("%[1]s/0 %[1]s/1 %[1]s/2 %[1]s/3 %[1]s/4", h.ID); strings.Join(ids, " ") != want {
		t.Fatalf("ids %q, want %q", ids, want)
	}
}
