package flows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Bounds on what a bot file may make the loader do.
const (
	MaxFileSize = 8 << 20
	maxNodes    = 500_000
	maxDepth    = 64
)

// LoadFile reads and loads a bot file.
func LoadFile(path string) (*Bot, Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, Diagnostics{{File: path, Line: 1, Col: 1, Severity: SevError, Message: err.Error()}}
	}
	return Load(path, src)
}

// Load parses, validates and compiles a bot file (YAML or JSON). It returns
// the bot, or nil when there are errors, and every problem found, sorted by
// position. Warnings come back with a usable bot.
func Load(file string, src []byte) (*Bot, Diagnostics) {
	l := &loader{
		d:    &diags{file: file},
		vals: map[string]*yaml.Node{},
		keys: map[string]*yaml.Node{},
	}
	bot := l.load(src)
	l.d.list.Sort()
	if l.d.list.HasErrors() {
		return nil, l.d.list
	}
	bot.File = file
	bot.Source = src
	return bot, l.d.list
}

type loader struct {
	d *diags
	// vals and keys map JSON pointers to the YAML nodes of values and of
	// mapping keys, so schema errors land where the designer wrote the value.
	vals  map[string]*yaml.Node
	keys  map[string]*yaml.Node
	nodes int
	// badBlocks are blocks whose type is unknown or ambiguous; schema errors
	// inside them would only repeat that.
	badBlocks map[string]bool
	// schemaErrs holds every value that failed the schema, and its parents.
	schemaErrs map[string]bool
	bot        *Bot
	// targets collects every target of every node, for reachability.
	targets map[*Node][]*Target
}

func (l *loader) load(src []byte) *Bot {
	if len(src) > MaxFileSize {
		l.d.errorf(Pos{}, "file is %d bytes; the limit is %d", len(src), MaxFileSize)
		return nil
	}
	if len(bytes.TrimSpace(src)) == 0 {
		l.d.errorf(Pos{}, "file is empty: a bot needs at least an id and a /start skill")
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		p, msg := YAMLError(src, err)
		l.d.errorf(p, "%s", msg)
		return nil
	}
	if len(doc.Content) == 0 {
		l.d.errorf(Pos{}, "file is empty: a bot needs at least an id and a /start skill")
		return nil
	}
	root := doc.Content[0]
	value, ok := l.toValue(root, "", 0)
	if !ok {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		l.d.errorf(nodePos(root), "a bot file is a mapping of keys (id, name, skills, …), not %s", kindWord(root))
		return nil
	}
	l.checkBlockTypes(root)
	l.validateSchema(value)
	return l.build(root)
}

// toValue converts a YAML node into the plain value the schema validates,
// recording where each value and key stands. It reports YAML features that
// have no JSON meaning.
func (l *loader) toValue(n *yaml.Node, ptr string, depth int) (any, bool) {
	l.nodes++
	if l.nodes > maxNodes {
		if l.nodes == maxNodes+1 {
			l.d.errorf(nodePos(n), "file has more than %d values (aliases count each time they are used)", maxNodes)
		}
		return nil, false
	}
	if depth > maxDepth {
		l.d.errorf(nodePos(n), "values nest deeper than %d levels", maxDepth)
		return nil, false
	}
	if _, seen := l.vals[ptr]; !seen {
		l.vals[ptr] = n
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, true
		}
		return l.toValue(n.Content[0], ptr, depth+1)
	case yaml.AliasNode:
		return l.toValue(n.Alias, ptr, depth+1)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		ok := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				l.d.errorf(nodePos(k), "keys must be plain names; YAML complex keys and merge keys (<<) are not supported")
				ok = false
				continue
			}
			if _, dup := m[k.Value]; dup {
				l.d.errorf(nodePos(k), "key %q is defined twice in this mapping: remove one", k.Value)
				ok = false
				continue
			}
			child := ptr + "/" + escapePtr(k.Value)
			l.keys[child] = k
			cv, cok := l.toValue(v, child, depth+1)
			ok = ok && cok
			m[k.Value] = cv
		}
		return m, ok
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		ok := true
		for i, c := range n.Content {
			cv, cok := l.toValue(c, ptr+"/"+strconv.Itoa(i), depth+1)
			ok = ok && cok
			s[i] = cv
		}
		return s, ok
	case yaml.ScalarNode:
		return l.scalar(n)
	}
	return nil, true
}

func (l *loader) scalar(n *yaml.Node) (any, bool) {
	switch n.ShortTag() {
	case "!!null":
		return nil, true
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return n.Value, true
		}
		return b, true
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			// Too large for an integer: keep it as a number.
			var f float64
			if err := n.Decode(&f); err != nil {
				return n.Value, true
			}
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
		}
		return json.Number(strconv.FormatInt(i, 10)), true
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return n.Value, true
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
	case "!!str", "!!timestamp", "!!binary":
		return n.Value, true
	}
	l.d.errorf(nodePos(n), "YAML tag %s is not supported: remove it", n.Tag)
	return nil, false
}

func escapePtr(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func kindWord(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", short(n.Value))
	}
	return "this"
}

var yamlLineRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// YAMLError turns a yaml.v3 parse error of src into a position and a plain
// message. yaml.v3 numbers the lines of its parser errors (unlike its
// scanner errors) one too low, and says nothing helpful about two common
// mistakes: tabs, and a plain "?" before a flow separator, which it takes
// for a key marker.
func YAMLError(src []byte, err error) (Pos, string) {
	line := 1
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil && m[1] != "" {
		line, _ = strconv.Atoi(m[1])
	}
	msg := yamlLineRe.ReplaceAllString(err.Error(), "")
	for _, low := range []string{"did not find expected key", "did not find expected node content", "did not find expected '-' indicator", "did not find expected ','", "did not find expected <document start>", "found a tab character that violates indentation"} {
		if strings.Contains(msg, low) {
			line++
			break
		}
	}
	lines := strings.Split(strings.TrimRight(string(src), "\n"), "\n")
	if line > len(lines) {
		line = len(lines) // an error at the end of the file belongs to its last line
	}
	if strings.Contains(msg, "found character that cannot start any token") {
		msg += " (tabs cannot indent YAML: use spaces)"
	}
	if strings.Contains(msg, "did not find expected ','") {
		for _, l := range lines[max(line-1, 0):min(line+1, len(lines))] {
			if strings.Contains(l, "?,") || strings.Contains(l, "?]") || strings.Contains(l, "?}") || strings.Contains(l, "? ,") {
				msg += ` (inside {…} or […], text ending in "?" must be quoted: write "How can I help?")`
				break
			}
		}
	}
	return Pos{Line: line, Col: 1}, "YAML syntax: " + msg
}

// mappingValue returns the key and value nodes of key in mapping m.
func mappingValue(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], resolveAlias(m.Content[i+1])
		}
	}
	return nil, nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

// blockType finds the type key of a block mapping: the one key that names a
// registered block type. Block fields never share a name with a block type
// (a test in package blocks guards this), so the answer is unambiguous.
func blockType(n *yaml.Node) (types []string, keyNodes []*yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if _, ok := LookupBlock(k.Value); ok {
			types = append(types, k.Value)
			keyNodes = append(keyNodes, k)
		}
	}
	return types, keyNodes
}

// checkBlockTypes reports blocks whose type is unknown or ambiguous in plain
// words, before the schema would report them in its own.
func (l *loader) checkBlockTypes(root *yaml.Node) {
	l.badBlocks = map[string]bool{}
	_, skills := mappingValue(root, "skills")
	if skills == nil || skills.Kind != yaml.MappingNode {
		return
	}
	known := BlockTypes()
	for i := 0; i+1 < len(skills.Content); i += 2 {
		name, list := skills.Content[i].Value, resolveAlias(skills.Content[i+1])
		if list == nil || list.Kind != yaml.SequenceNode {
			continue
		}
		for j, b := range list.Content {
			b = resolveAlias(b)
			ptr := "/skills/" + escapePtr(name) + "/" + strconv.Itoa(j)
			if b.Kind != yaml.MappingNode {
				l.d.errorf(nodePos(b), "a block is a mapping with a type key, like `- text: Hello`; found %s", kindWord(b))
				l.badBlocks[ptr] = true
				continue
			}
			types, keys := blockType(b)
			switch len(types) {
			case 1:
				continue
			case 0:
				l.badBlocks[ptr] = true
				for k := 0; k+1 < len(b.Content); k += 2 {
					key := b.Content[k]
					if !isCommonKey(key.Value) {
						if hint := DidYouMean(key.Value, known); hint != "" {
							l.d.errorf(nodePos(key), "unknown block type %q%s", key.Value, hint)
						} else {
							l.d.errorf(nodePos(key), "unknown block type %q; block types are: %s", key.Value, strings.Join(known, ", "))
						}
						break
					}
					if k+2 >= len(b.Content) {
						l.d.errorf(nodePos(b), "block has no type: add a key such as text, listen or switch")
					}
				}
			default:
				l.badBlocks[ptr] = true
				l.d.errorf(nodePos(keys[1]), "block has two types, %s and %s: split it into two blocks", types[0], types[1])
			}
		}
	}
}

func isCommonKey(k string) bool {
	for _, c := range commonKeys {
		if c == k {
			return true
		}
	}
	return false
}

// build turns the validated tree into a Bot and compiles it. It goes on past
// errors so that one run reports as many problems as it can.
func (l *loader) build(root *yaml.Node) *Bot {
	bot := &Bot{
		Settings:   DefaultSettings,
		Attributes: map[string]*Attribute{},
		skillIndex: map[string]int{},
		blockIndex: map[string]Ref{},
		catches:    map[string]int{},
		Location:   time.UTC,
	}
	l.bot = bot
	l.targets = map[*Node][]*Target{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], resolveAlias(root.Content[i+1])
		switch k.Value {
		case "id":
			bot.ID = v.Value
		case "name":
			bot.Name = v.Value
		case "timezone":
			bot.Timezone = v.Value
			loc, err := time.LoadLocation(v.Value)
			if err != nil || v.Value == "" || v.Value == "Local" {
				l.d.errorf(contentPos(v), "unknown time zone %q: use an IANA name like Europe/Berlin or America/New_York", v.Value)
			} else {
				bot.Location = loc
			}
		case "settings":
			_ = v.Decode(&bot.Settings) // shape checked by the schema
			l.checkSettings(v)
		case "attributes":
			l.attributes(v)
		case "entities":
			l.entities(v)
		case "channels":
			l.channels(v)
		case "notify":
			l.notify(v)
		}
	}
	if bot.Name == "" {
		bot.Name = bot.ID
	}
	if bot.Settings.MaxBlocks <= 0 || bot.Settings.MaxBlocks > maxMaxBlocks {
		bot.Settings.MaxBlocks = DefaultSettings.MaxBlocks
	}
	if bot.Settings.FallbackAfter <= 0 {
		bot.Settings.FallbackAfter = DefaultSettings.FallbackAfter
	}
	if _, skills := mappingValue(root, "skills"); skills != nil && skills.Kind == yaml.MappingNode {
		l.skills(skills)
	}
	if _, ok := bot.skillIndex[SkillStart]; !ok {
		k, _ := mappingValue(root, "skills")
		p := Pos{}
		if k != nil {
			p = nodePos(k)
		}
		l.d.errorf(p, "the bot has no /start skill: add one; it runs when a conversation begins")
	}
	l.builtinLiveChat()
	// Intents name skills, so they come after the skills.
	if _, v := mappingValue(root, "intents"); v != nil {
		l.intents(v)
	}
	l.compile()
	l.reachability()
	bot.view = bot.newView()
	return bot
}

// maxMaxBlocks is the largest max_blocks setting honoured.
const maxMaxBlocks = 10000

// checkSettings warns about settings out of range, which fall back to
// their defaults.
func (l *loader) checkSettings(m *yaml.Node) {
	for _, c := range []struct {
		key      string
		min, max int
		def      int
	}{
		{"max_blocks", 1, maxMaxBlocks, DefaultSettings.MaxBlocks},
		{"fallback_after", 1, 1000, DefaultSettings.FallbackAfter},
	} {
		_, v := mappingValue(m, c.key)
		if v == nil || v.ShortTag() != "!!int" {
			continue
		}
		if n, err := strconv.Atoi(v.Value); err == nil && (n < c.min || n > c.max) {
			l.d.warnf(nodePos(v), "%s must be from %d to %d; %d is used instead", c.key, c.min, c.max, c.def)
		}
	}
}

func (l *loader) attributes(m *yaml.Node) {
	if m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		a := &Attribute{}
		if err := v.Decode(a); err != nil {
			continue // reported by the schema
		}
		a.Name, a.Pos = k.Value, nodePos(k)
		if a.Pattern != "" {
			re, err := regexp.Compile(a.Pattern)
			if err != nil {
				continue // reported by the schema's regex format
			}
			a.re = re
		}
		l.bot.Attributes[a.Name] = a
	}
}

func (l *loader) entities(m *yaml.Node) {
	if m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		e := &Entity{}
		if err := v.Decode(e); err != nil {
			continue
		}
		e.Name, e.Pos = k.Value, nodePos(k)
		if e.Pattern != "" {
			re, err := regexp.Compile(e.Pattern)
			if err != nil {
				continue
			}
			e.re = re
		}
		if e.re == nil && len(e.Values) == 0 {
			l.d.errorf(e.Pos, "entity %q needs a pattern or values", e.Name)
		}
		l.bot.Entities = append(l.bot.Entities, e)
	}
}

func (l *loader) intents(m *yaml.Node) {
	if m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		in := &Intent{}
		if err := v.Decode(in); err != nil {
			continue
		}
		in.Name, in.Pos = k.Value, nodePos(k)
		if in.Skill.Name == "" {
			in.Skill = Target{Name: in.Name, Pos: in.Pos}
		}
		for _, p := range in.Patterns {
			if re, err := regexp.Compile(p); err == nil {
				in.patterns = append(in.patterns, re)
			}
		}
		for _, ex := range in.Examples {
			in.examples = append(in.examples, Tokens(ex))
		}
		if len(in.Examples) == 0 && len(in.Patterns) == 0 {
			l.d.warnf(in.Pos, "intent %q has no examples and no patterns, so it never matches", in.Name)
		}
		if _, ok := l.bot.skillIndex[in.Skill.Name]; !ok {
			l.d.errorf(in.Skill.Pos, "intent %q enters skill %q, which does not exist%s", in.Name, in.Skill.Name, DidYouMean(in.Skill.Name, l.skillNames()))
		} else {
			in.Skill.ref = Ref{Skill: l.bot.skillIndex[in.Skill.Name]}
		}
		l.bot.Intents = append(l.bot.Intents, in)
	}
}

func (l *loader) skillNames() []string {
	out := make([]string, len(l.bot.Skills))
	for i, s := range l.bot.Skills {
		out[i] = s.Name
	}
	return out
}

func (l *loader) skills(m *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, list := m.Content[i], resolveAlias(m.Content[i+1])
		sk := &Skill{Name: k.Value, Pos: nodePos(k)}
		si := len(l.bot.Skills)
		l.bot.skillIndex[sk.Name] = si
		l.bot.Skills = append(l.bot.Skills, sk)
		if strings.HasPrefix(sk.Name, "/") && !isSystemSkill(sk.Name) {
			l.d.errorf(sk.Pos, "%q is not a system skill; names starting with / are reserved for %s: drop the /", sk.Name, strings.Join(SystemSkills, ", "))
		}
		if list == nil || list.Kind != yaml.SequenceNode {
			continue
		}
		if len(list.Content) == 0 {
			l.d.warnf(sk.Pos, "skill %q has no blocks", sk.Name)
		}
		for j, b := range list.Content {
			ptr := "/skills/" + escapePtr(sk.Name) + "/" + strconv.Itoa(j)
			b = resolveAlias(b)
			if l.badBlocks[ptr] || l.schemaErrs[ptr] || b.Kind != yaml.MappingNode {
				continue
			}
			node := l.node(b, Ref{Skill: si, Block: len(sk.Blocks)})
			if node == nil {
				continue
			}
			sk.Blocks = append(sk.Blocks, node)
		}
	}
}

func isSystemSkill(name string) bool {
	for _, s := range SystemSkills {
		if s == name {
			return true
		}
	}
	return false
}

// node decodes one block mapping into its configuration struct: the type
// key's value fills the primary field, the other keys fill the fields of
// the same names, and id/next/ui are common to all blocks.
func (l *loader) node(b *yaml.Node, ref Ref) *Node {
	types, keys := blockType(b)
	if len(types) != 1 {
		return nil
	}
	spec, _ := LookupBlock(types[0])
	n := &Node{Type: spec.Type, Spec: spec, Pos: nodePos(keys[0]), Ref: ref}
	fields := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(b.Content); i += 2 {
		k, v := b.Content[i], b.Content[i+1]
		switch {
		case k.Value == "id":
			n.ID = v.Value
		case k.Value == "next":
			n.Next = &Target{}
			_ = n.Next.UnmarshalYAML(v)
		case k.Value == "ui":
			n.UI = &UIPos{}
			_ = v.Decode(n.UI)
		case k.Value == spec.Type:
			if spec.Primary != "" && resolveAlias(v).ShortTag() != "!!null" {
				fields.Content = append(fields.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: spec.Primary, Line: k.Line, Column: k.Column}, v)
			}
		default:
			fields.Content = append(fields.Content, k, v)
		}
	}
	cfg := spec.New()
	if err := fields.Decode(cfg); err != nil {
		l.d.errorf(n.Pos, "%s block: %s", spec.Title, strings.TrimPrefix(err.Error(), "yaml: "))
		return nil
	}
	n.Block = cfg
	if n.ID != "" {
		if prev, dup := l.bot.blockIndex[n.ID]; dup {
			p := l.bot.Node(prev)
			l.d.errorf(n.Pos, "block id %q is already used at line %d: block ids must be unique", n.ID, p.Pos.Line)
		} else if _, clash := l.bot.skillIndex[n.ID]; clash {
			l.d.errorf(n.Pos, "block id %q is also the name of a skill: rename one so goto targets are unambiguous", n.ID)
		} else {
			l.bot.blockIndex[n.ID] = ref
		}
	}
	return n
}

// builtinLiveChat gives every bot a /_start_live_chat skill: without one in
// the file, it is a single LIVE CHAT block with the bot's defaults.
func (l *loader) builtinLiveChat() {
	if _, ok := l.bot.skillIndex[SkillLiveChat]; ok {
		return
	}
	spec, ok := LookupBlock("live_chat")
	if !ok {
		return
	}
	si := len(l.bot.Skills)
	l.bot.skillIndex[SkillLiveChat] = si
	l.bot.Skills = append(l.bot.Skills, &Skill{Name: SkillLiveChat, Blocks: []*Node{{
		Type: spec.Type, Spec: spec, Block: spec.New(), Ref: Ref{Skill: si},
	}}})
}

// EventCatcher is implemented by blocks that make their skill the handler of
// named events (CATCH). Such a block must come first in its skill.
type EventCatcher interface {
	CatchEvents() []string
}

// FallThrougher is implemented by blocks that may not continue to the block
// below them (GOTO, END, a SWITCH with an else); it tells reachability.
type FallThrougher interface {
	FallsThrough() bool
}

// compile compiles every expression and template and resolves every target
// of every block, then lets blocks check their own rules.
func (l *loader) compile() {
	opts := exprOptions(l.bot.Location)
	for si, sk := range l.bot.Skills {
		for bi, n := range sk.Blocks {
			var targets []*Target
			visit(n.Block, func(v any) {
				switch x := v.(type) {
				case *Expr:
					compileExpr(x, opts, l.d)
				case *Template:
					compileTemplate(x, opts, l.d)
				case *Target:
					if l.resolve(x) {
						targets = append(targets, x)
					}
				}
			}, 0)
			if n.Next != nil && l.resolve(n.Next) {
				targets = append(targets, n.Next)
			}
			l.targets[n] = targets
			if c, ok := n.Block.(EventCatcher); ok {
				if bi != 0 {
					l.d.errorf(n.Pos, "%s must be the first block of its skill: the skill is what its events enter", n.Spec.Title)
				}
				for _, ev := range c.CatchEvents() {
					if prev, dup := l.bot.catches[ev]; dup && prev != si {
						l.d.errorf(n.Pos, "event %q is already caught by skill %q", ev, l.bot.Skills[prev].Name)
						continue
					}
					l.bot.catches[ev] = si
				}
			}
			if c, ok := n.Block.(Checker); ok {
				c.Check(&Check{d: l.d, pos: n.Pos})
			}
		}
	}
}

func (l *loader) resolve(t *Target) bool {
	if t == nil || t.Name == "" {
		return false
	}
	if i, ok := l.bot.skillIndex[t.Name]; ok {
		t.ref = Ref{Skill: i}
		return true
	}
	if r, ok := l.bot.blockIndex[t.Name]; ok {
		t.ref = r
		return true
	}
	names := l.skillNames()
	for id := range l.bot.blockIndex {
		names = append(names, id)
	}
	l.d.errorf(t.Pos, "unknown goto target %q: no skill or block id has that name%s", t.Name, DidYouMean(t.Name, names))
	return false
}

// reachability warns about skills nothing enters and blocks nothing reaches.
func (l *loader) reachability() {
	bot := l.bot
	seen := map[Ref]bool{}
	var queue []Ref
	push := func(r Ref) {
		if bot.Node(r) != nil && !seen[r] {
			seen[r] = true
			queue = append(queue, r)
		}
	}
	entered := map[int]bool{}
	enter := func(si int) { entered[si] = true; push(Ref{Skill: si}) }
	for _, name := range SystemSkills {
		if i, ok := bot.skillIndex[name]; ok {
			enter(i)
		}
	}
	for _, in := range bot.Intents {
		if i, ok := bot.skillIndex[in.Skill.Name]; ok {
			enter(i)
		}
	}
	for _, si := range bot.catches {
		enter(si)
	}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		n := bot.Node(r)
		for _, t := range l.targets[n] {
			if t.ref.Block == 0 {
				entered[t.ref.Skill] = true
			}
			push(t.ref)
		}
		ft := true
		if f, ok := n.Block.(FallThrougher); ok {
			ft = f.FallsThrough()
		}
		if n.Next != nil && n.Next.Name != "" {
			ft = false
		}
		if ft {
			push(Ref{Skill: r.Skill, Block: r.Block + 1})
		}
	}
	for si, sk := range bot.Skills {
		if !entered[si] {
			if sk.Pos.Line > 0 {
				l.d.warnf(sk.Pos, "skill %q is never entered: no intent, goto, button or event leads to it", sk.Name)
			}
			continue
		}
		for bi, n := range sk.Blocks {
			r := Ref{Skill: si, Block: bi}
			if !seen[r] && (bi == 0 || seen[Ref{Skill: si, Block: bi - 1}]) {
				l.d.warnf(n.Pos, "this %s block can never run: the block above does not continue to it and nothing jumps here", n.Spec.Title)
			}
		}
	}
}
