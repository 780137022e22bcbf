package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/convo"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// chatChannel is the channel name of terminal contacts.
const chatChannel = "terminal"

// chatTick is how often the chat checks for due timers.
const chatTick = time.Second

// chatHelp lists the chat's commands.
const chatHelp = `Type a message and press Enter. When the bot shows numbered choices, type
a number or a choice's title to tap it. Commands:
  /event NAME [JSON]   send a named event, with an optional JSON object as its data
  /wait DURATION       move the clock on (10m, 2h, 1d): due timers fire
  /end OUTCOME         end a live-chat handover: resolved, no_agent or timeout
  /reset               start over: a new session for the same contact
  /help                show this help
  /quit                leave (so does end of input, Ctrl-D)
`

// attrFlag collects repeated --attr k=v flags.
type attrFlag struct {
	keys []string
	vals map[string]string
}

func (a *attrFlag) String() string {
	parts := make([]string, len(a.keys))
	for i, k := range a.keys {
		parts[i] = k + "=" + a.vals[k]
	}
	return strings.Join(parts, ",")
}

func (a *attrFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	if a.vals == nil {
		a.vals = map[string]string{}
	}
	if _, dup := a.vals[k]; !dup {
		a.keys = append(a.keys, k)
	}
	a.vals[k] = v
	return nil
}

// cmdChat is the terminal chat. Its logic is runChat, which tests drive.
func cmdChat(st stdio, args []string) int {
	fs := newFlags(st, "chat")
	data := fs.String("data", "", "keep the contact, the session and pending timers in this directory across runs")
	contactID := fs.String("contact", "local", "the contact's id")
	name := fs.String("name", "", "the contact's name")
	var attrs attrFlag
	fs.Var(&attrs, "attr", "set a contact attribute, NAME=VALUE (repeatable)")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(files) != 1 {
		fmt.Fprintln(st.err, "switchboard chat: give one bot file")
		fs.Usage()
		return exitUsage
	}
	cfg := chatConfig{
		BotFile:   files[0],
		DataDir:   *data,
		ContactID: *contactID,
		Name:      *name,
		AttrKeys:  attrs.keys,
		Attrs:     attrs.vals,
		In:        st.in,
		Out:       st.out,
		Err:       st.err,
		Prompt:    st.isTerm,
		HTTP:      &http.Client{Timeout: 15 * time.Second},
	}
	if err := runChat(st.ctx, cfg); err != nil {
		var ds flows.Diagnostics
		if errors.As(err, &ds) {
			fmt.Fprintln(st.err, ds.Error())
		} else {
			fmt.Fprintf(st.err, "switchboard chat: %v\n", err)
		}
		return exitFail
	}
	return exitOK
}

// chatConfig is everything runChat needs; zero values have defaults.
type chatConfig struct {
	BotFile string
	// DataDir, when set, persists the conversation in a store there.
	DataDir   string
	ContactID string
	Name      string
	AttrKeys  []string
	Attrs     map[string]string
	In        io.Reader
	Out, Err  io.Writer
	// Prompt prints "> " when the chat waits for input.
	Prompt bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Tick triggers the check for due timers; nil means a one-second ticker.
	Tick <-chan time.Time
	// HTTP is the JSON block's client; nil disables HTTP.
	HTTP flows.HTTPDoer
}

// chat is one terminal conversation. Everything that touches the
// conversation runs on the goroutine of runChat's loop.
type chat struct {
	cfg   chatConfig
	out   io.Writer
	c     *convo.Conversation
	st    store.Store
	ctx   context.Context
	clock func() time.Time
	// offset is how far /wait moved the clock ahead of the real one.
	offset time.Duration
	// choices are the numbered buttons and quick replies last shown.
	choices []flows.Button
	// inbound is the user message of the step being run, for the log.
	inbound *flows.Content
	// stored are the ids of this contact's timers in the store.
	stored map[string]bool
	err    error
}

// runChat loads the bot and talks until the input ends, /quit, or ctx is
// done. Due timers fire at start and whenever a tick finds them due.
func runChat(ctx context.Context, cfg chatConfig) error {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Err == nil {
		cfg.Err = io.Discard
	}
	if cfg.ContactID == "" {
		cfg.ContactID = "local"
	}
	bot, ds := flows.LoadFile(cfg.BotFile)
	if bot == nil {
		return ds
	}
	for _, d := range ds {
		fmt.Fprintln(cfg.Err, d.String())
	}
	ch := &chat{cfg: cfg, out: cfg.Out, ctx: ctx, stored: map[string]bool{}}
	ch.clock = func() time.Time { return cfg.Now().Add(ch.offset) }
	if cfg.DataDir != "" {
		st, err := store.Open(cfg.DataDir, store.Options{
			Logger: slog.New(slog.NewTextHandler(cfg.Err, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			return err
		}
		defer st.Close()
		ch.st = st
	}
	if err := ch.start(bot); err != nil {
		return err
	}

	lines := make(chan string)
	done := make(chan struct{})
	defer close(done)
	readErr := make(chan error, 1)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(cfg.In)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-done:
				return
			}
		}
		readErr <- sc.Err()
	}()
	tick := cfg.Tick
	if tick == nil {
		t := time.NewTicker(chatTick)
		defer t.Stop()
		tick = t.C
	}

	ch.fireDue()
	ch.prompt()
	for ch.err == nil {
		select {
		case <-ctx.Done():
			fmt.Fprintln(ch.out)
			return nil
		case <-tick:
			if ch.fireDue() {
				ch.prompt()
			}
		case line, ok := <-lines:
			if !ok {
				select {
				case err := <-readErr:
					return err
				default:
					return nil
				}
			}
			if quit := ch.handle(line); quit {
				return ch.err
			}
			ch.prompt()
		}
	}
	return ch.err
}

// start loads or creates the contact, its session and its timers.
func (ch *chat) start(bot *flows.Bot) error {
	now := ch.clock()
	contact := &flows.Contact{ID: ch.cfg.ContactID, Channel: chatChannel, CreatedAt: now}
	var sess *flows.Session
	var timers []flows.Timer
	resumed := false
	if ch.st != nil {
		c, err := ch.st.Contact(ch.ctx, ch.cfg.ContactID)
		switch {
		case err == nil:
			contact, resumed = c, true
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		s, err := ch.st.Session(ch.ctx, ch.cfg.ContactID)
		switch {
		case err == nil:
			sess, resumed = s, true
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if timers, err = ch.st.ContactTimers(ch.ctx, ch.cfg.ContactID); err != nil {
			return err
		}
	}
	if ch.cfg.Name != "" {
		contact.Name = ch.cfg.Name
	}
	for _, k := range ch.cfg.AttrKeys {
		var v any = ch.cfg.Attrs[k]
		if decl, ok := bot.Attribute(k); ok {
			cv, err := decl.Convert(v)
			if err != nil {
				return fmt.Errorf("--attr %s: %v", k, err)
			}
			v = cv
		}
		if contact.Attributes == nil {
			contact.Attributes = map[string]any{}
		}
		contact.Attributes[k] = v
	}
	ch.c = convo.New(bot, engine.New(ch.cfg.HTTP), contact, now)
	ch.c.Session = sess
	ch.c.Timers = timers
	ch.c.Seed = uint64(now.UnixNano())
	ch.c.OnSprint = ch.onSprint
	for _, t := range timers {
		ch.stored[t.ID] = true
	}

	who := contact.ID
	if contact.Name != "" {
		who = contact.Name + " (" + contact.ID + ")"
	}
	fmt.Fprintf(ch.out, "Chatting with %s as %s. Type /help for commands.\n", bot.Name, who)
	if resumed {
		fmt.Fprintf(ch.out, "(resuming the saved conversation: %s pending)\n", plural(len(timers), "timer"))
	}
	if ch.st != nil {
		// Save the contact now, so --name and --attr stick even if the
		// user leaves before saying anything.
		return ch.commit(&store.Batch{Contact: ch.c.Contact})
	}
	return nil
}

func (ch *chat) prompt() {
	if ch.cfg.Prompt {
		fmt.Fprint(ch.out, "> ")
	}
}

// fireDue fires the timers due by now; it reports whether any fired.
func (ch *chat) fireDue() bool {
	now := ch.clock()
	if len(ch.c.Timers) == 0 || ch.c.Timers[0].Due.After(now) {
		if now.After(ch.c.Now) {
			ch.c.Now = now
		}
		return false
	}
	if _, err := ch.c.AdvanceTo(now); err != nil {
		ch.fail(err)
	}
	return true
}

// handle runs one line of input; it reports whether the chat ends.
func (ch *chat) handle(line string) bool {
	text := strings.TrimSpace(line)
	if text == "" {
		return false
	}
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		return ch.command(text)
	}
	text = strings.TrimPrefix(text, "/") // "//x" sends "/x"
	ch.fireDue()
	msg := flows.Content{Text: text}
	if b := ch.choice(text); b != nil {
		msg = flows.Content{Text: b.Title, Payload: b.Payload}
	}
	ch.inbound = &msg
	_, err := ch.c.Send(msg)
	ch.inbound = nil
	if err != nil {
		ch.fail(err)
	}
	return ch.err != nil
}

// choice finds what a typed line picks among the numbered choices: its
// number, or its title.
func (ch *chat) choice(text string) *flows.Button {
	if n, err := strconv.Atoi(text); err == nil {
		if n >= 1 && n <= len(ch.choices) {
			return &ch.choices[n-1]
		}
		return nil
	}
	for i := range ch.choices {
		if strings.EqualFold(ch.choices[i].Title, text) {
			return &ch.choices[i]
		}
	}
	return nil
}

func (ch *chat) command(text string) bool {
	cmd, rest, _ := strings.Cut(text, " ")
	rest = strings.TrimSpace(rest)
	switch cmd {
	case "/quit", "/exit", "/q":
		return true
	case "/help", "/?":
		fmt.Fprint(ch.out, chatHelp)
	case "/reset":
		ch.reset()
	case "/event":
		name, data, _ := strings.Cut(rest, " ")
		if name == "" {
			fmt.Fprintln(ch.out, "usage: /event NAME [JSON object]")
			return false
		}
		var m map[string]any
		if data = strings.TrimSpace(data); data != "" {
			if err := json.Unmarshal([]byte(data), &m); err != nil {
				fmt.Fprintf(ch.out, "the event data must be a JSON object: %v\n", err)
				return false
			}
		}
		ch.fireDue()
		if _, err := ch.c.Event(name, m); err != nil {
			ch.fail(err)
		}
	case "/wait":
		d, err := flows.ParseDuration(rest)
		if err != nil {
			fmt.Fprintln(ch.out, "usage: /wait DURATION, like 30s, 10m, 2h or 1d")
			return false
		}
		ch.offset += d
		if !ch.fireDue() {
			fmt.Fprintf(ch.out, "(the clock is now %s; nothing was due)\n", ch.clock().In(ch.c.Bot.Location).Format("2006-01-02 15:04"))
		}
	case "/end":
		switch rest {
		case flows.HandoverResolved, flows.HandoverNoAgent, flows.HandoverTimeout:
		default:
			fmt.Fprintln(ch.out, "usage: /end resolved|no_agent|timeout")
			return false
		}
		if ch.c.Handover == nil {
			fmt.Fprintln(ch.out, "(no live-chat handover is open)")
			return false
		}
		ch.fireDue()
		if _, err := ch.c.EndHandover(rest); err != nil {
			ch.fail(err)
		}
	default:
		fmt.Fprintf(ch.out, "unknown command %s: /help lists the commands (start a message with // to send a text beginning with /)\n", cmd)
	}
	return ch.err != nil
}

// reset starts a new session for the same contact: the old session and
// its timers go.
func (ch *chat) reset() {
	var cancel []string
	for id := range ch.stored {
		cancel = append(cancel, id)
	}
	for _, t := range ch.c.Timers {
		if !ch.stored[t.ID] {
			cancel = append(cancel, t.ID)
		}
	}
	ch.c.Session = nil
	ch.c.Timers = nil
	ch.c.Handover = nil
	ch.choices = nil
	ch.stored = map[string]bool{}
	if ch.st != nil {
		if err := ch.commit(&store.Batch{ContactID: ch.c.Contact.ID, DeleteSession: true, CancelTimers: cancel}); err != nil {
			ch.fail(err)
			return
		}
	}
	fmt.Fprintln(ch.out, "(new conversation)")
}

func (ch *chat) fail(err error) {
	if ch.err == nil {
		ch.err = err
	}
}

// onSprint prints what a step produced and saves it.
func (ch *chat) onSprint(sp *flows.Sprint) {
	var fresh []flows.Button
	for i := range sp.Messages {
		fresh = ch.printMessage(&sp.Messages[i], fresh)
	}
	if len(sp.Messages) > 0 {
		// The numbers shown last are the ones a typed number picks.
		ch.choices = fresh
	}
	for _, te := range sp.Trace {
		if te.Error != "" {
			fmt.Fprintf(ch.out, "[error in %s, block %d (%s): %s]\n", te.Skill, te.Block+1, te.Type, te.Error)
		}
	}
	if h := sp.Handover; h != nil {
		fmt.Fprintf(ch.out, "[handover requested: queue %s", h.Queue)
		if h.Priority != "" {
			fmt.Fprintf(ch.out, ", priority %s", h.Priority)
		}
		if h.Note != "" {
			fmt.Fprintf(ch.out, ", note %q", h.Note)
		}
		fmt.Fprintln(ch.out, "] the bot waits for an agent: type /end resolved, /end no_agent or /end timeout")
	}
	for _, n := range sp.Notifications {
		fmt.Fprintf(ch.out, "[notification %s]\n", n.Name)
	}
	if ch.st == nil {
		return
	}
	now := ch.c.Now
	b := &store.Batch{Contact: ch.c.Contact, Session: ch.c.Session, Timers: sp.Timers}
	b.Contact.UpdatedAt = now
	if ch.inbound != nil {
		b.Messages = append(b.Messages, store.Message{Time: now, Direction: store.DirectionIn, Author: store.AuthorUser, Channel: chatChannel, Content: *ch.inbound})
		ch.inbound = nil
	}
	for _, m := range sp.Messages {
		b.Messages = append(b.Messages, store.Message{Time: now, Direction: store.DirectionOut, Author: store.AuthorBot, Channel: chatChannel, Status: store.StatusSent, Content: m})
	}
	// Timers that left the conversation (fired or cancelled) leave the
	// store; the conversation's list is the truth.
	live := map[string]bool{}
	for _, t := range ch.c.Timers {
		live[t.ID] = true
	}
	for id := range ch.stored {
		if !live[id] {
			b.CancelTimers = append(b.CancelTimers, id)
		}
	}
	ch.stored = live
	if err := ch.commit(b); err != nil {
		ch.fail(err)
	}
}

func (ch *chat) commit(b *store.Batch) error {
	if err := ch.st.Commit(ch.ctx, b); err != nil {
		return fmt.Errorf("saving the conversation: %w", err)
	}
	return nil
}

// printMessage prints one bot message. Its buttons and quick replies are
// numbered on from the choices of the messages before it in the same step;
// it returns those choices with its own appended. Link buttons are shown
// with their address, unnumbered.
func (ch *chat) printMessage(m *flows.Content, choices []flows.Button) []flows.Button {
	w := ch.out
	buttons := func(bs []flows.Button, indent string) {
		for _, b := range bs {
			if b.URL != "" {
				fmt.Fprintf(w, "%s-) %s: %s\n", indent, b.Title, b.URL)
				continue
			}
			choices = append(choices, b)
			fmt.Fprintf(w, "%s%d) %s\n", indent, len(choices), b.Title)
		}
	}
	if m.Text != "" {
		fmt.Fprintf(w, "bot: %s\n", indentLines(m.Text, "     "))
	}
	media := func(label string, md *flows.Media) {
		if md == nil {
			return
		}
		if md.Kind != "" && label == "media" {
			label = md.Kind
		}
		fmt.Fprintf(w, "bot: [%s] %s", label, md.URL)
		if md.Name != "" && md.Name != path.Base(md.URL) {
			fmt.Fprintf(w, " (%s)", md.Name)
		}
		fmt.Fprintln(w)
		if md.Caption != "" && md.Caption != m.Text {
			fmt.Fprintf(w, "     %s\n", indentLines(md.Caption, "     "))
		}
	}
	media("image", m.Image)
	media("media", m.Media)
	media("file", m.File)
	if len(m.Gallery) > 0 {
		fmt.Fprintf(w, "bot: [gallery of %d]\n", len(m.Gallery))
		for i, c := range m.Gallery {
			fmt.Fprintf(w, "  [%d] %s", i+1, c.Title)
			if c.Subtitle != "" {
				fmt.Fprintf(w, " — %s", c.Subtitle)
			}
			if c.Image != "" {
				fmt.Fprintf(w, " (%s)", c.Image)
			}
			fmt.Fprintln(w)
			buttons(c.Buttons, "      ")
		}
	}
	if m.Text == "" && m.Image == nil && m.Media == nil && m.File == nil && len(m.Gallery) == 0 {
		fmt.Fprintln(w, "bot:")
	}
	buttons(m.Buttons, "  ")
	buttons(m.QuickReplies, "  ")
	return choices
}

func indentLines(s, indent string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+indent)
}
