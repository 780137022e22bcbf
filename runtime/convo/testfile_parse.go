package convo

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"gopkg.in/yaml.v3"
)

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
