package flows

import (
	"regexp"
	"slices"
	"time"
	// Bots name IANA time zones; embed the database so they load on
	// machines without one.
	_ "time/tzdata"
)

// SpecVersion is the bot-file format version this build reads.
const SpecVersion = 1

// System skills. Each has a fixed meaning (docs/bot-files.md):
const (
	// SkillStart runs for a new contact's first message and after a reset.
	SkillStart = "/start"
	// SkillDefault runs when a message matches no button, intent or skill
	// while the bot waits for nothing.
	SkillDefault = "/default"
	// SkillFallback runs instead of /default once the bot has failed to
	// understand settings.fallback_after messages in a row.
	SkillFallback = "/_default_fallback"
	// SkillLiveChat runs when the user asks for a human; a bot without one
	// gets one from the loader: a single LIVE CHAT block with its defaults.
	SkillLiveChat = "/_start_live_chat"
	// SkillPageVisit runs for a page_visit event from the web chat.
	SkillPageVisit = "/_page_visit"
	// SkillError runs when a block fails; `error` holds what went wrong.
	SkillError = "/_error"
)

// SystemSkills lists the system skills in documentation order.
var SystemSkills = []string{SkillStart, SkillDefault, SkillFallback, SkillLiveChat, SkillPageVisit, SkillError}

// PageVisitEvent is the event name the web chat sends on page loads.
const PageVisitEvent = "page_visit"

// Bot is a loaded, validated and compiled bot file.
type Bot struct {
	File     string
	ID       string
	Name     string
	Timezone string
	Location *time.Location
	Settings Settings

	Attributes map[string]*Attribute
	Intents    []*Intent
	Entities   []*Entity
	Skills     []*Skill
	// Channels are the plugin channel instances the bot runs on.
	Channels []ChannelConfig
	// Notify says where the bot's notifications go.
	Notify []NotifyTarget

	skillIndex map[string]int
	blockIndex map[string]Ref
	catches    map[string]int
	view       map[string]any // see View
	// Source is the file's bytes, kept for publishing and version history.
	Source []byte
}

// View is the bot as expressions see it (`bot.id`, `bot.name`,
// `bot.timezone`). A loaded bot makes it once and every step shares it:
// callers must not change it.
func (b *Bot) View() map[string]any {
	if b.view != nil {
		return b.view
	}
	return b.newView()
}

func (b *Bot) newView() map[string]any {
	tz := "UTC"
	if b.Location != nil {
		tz = b.Location.String()
	}
	return map[string]any{"id": b.ID, "name": b.Name, "timezone": tz}
}

// Settings are the bot-wide settings.
type Settings struct {
	// FallbackAfter is how many unmatched messages in a row send the
	// conversation to /_default_fallback instead of /default.
	FallbackAfter int `yaml:"fallback_after" json:"fallback_after" default:"2" doc:"How many unmatched messages in a row send the conversation to /_default_fallback instead of /default."`
	// MaxBlocks bounds the blocks one step may run; past it the step stops
	// and /_error runs: it breaks accidental loops.
	MaxBlocks int `yaml:"max_blocks" json:"max_blocks" default:"100" doc:"The most blocks one step may run before it stops and /_error runs; breaks accidental loops."`
	// Queue is the default live-chat queue.
	Queue string `yaml:"queue" json:"queue" default:"support" doc:"The live-chat queue handovers go to when a LIVE CHAT block names none."`
	// Typing simulates typing delays between messages on channels that show it.
	Typing bool `yaml:"typing" json:"typing" doc:"Show a typing indicator before bot messages on channels that support it."`
}

// DefaultSettings are the settings a bot gets for what its file leaves out.
var DefaultSettings = Settings{FallbackAfter: 2, MaxBlocks: 100, Queue: "support"}

// Attribute is a declared contact attribute with its type.
type Attribute struct {
	Name        string   `yaml:"-" json:"name"`
	Type        string   `yaml:"type" json:"type"`
	Description string   `yaml:"description" json:"description,omitempty"`
	Options     []string `yaml:"options" json:"options,omitempty"`
	Pattern     string   `yaml:"pattern" json:"pattern,omitempty"`
	Pos         Pos      `yaml:"-" json:"-"`
	re          *regexp.Regexp
}

// Attribute types.
var AttributeTypes = []string{"text", "number", "bool", "date", "email", "phone", "url", "list"}

// Intent maps what users say to a skill.
type Intent struct {
	Name     string   `yaml:"-" json:"name"`
	Examples []string `yaml:"examples" json:"examples,omitempty"`
	Patterns []string `yaml:"patterns" json:"patterns,omitempty"`
	// Skill is entered when the intent matches; defaults to the intent's name.
	Skill    Target `yaml:"skill" json:"-"`
	Pos      Pos    `yaml:"-" json:"-"`
	patterns []*regexp.Regexp
	examples [][]string
}

// Entity is a value extracted from messages into message.entities.
type Entity struct {
	Name    string              `yaml:"-" json:"name"`
	Pattern string              `yaml:"pattern" json:"pattern,omitempty"`
	Values  map[string][]string `yaml:"values" json:"values,omitempty"`
	Pos     Pos                 `yaml:"-" json:"-"`
	re      *regexp.Regexp
}

// Skill is a named list of blocks.
type Skill struct {
	Name   string
	Pos    Pos
	Blocks []*Node
}

// Node is one block in a skill, with its common keys.
type Node struct {
	Type  string
	Spec  *Spec
	ID    string
	Next  *Target
	UI    *UIPos
	Pos   Pos
	Block Block
	// Ref is the node's own position.
	Ref Ref
}

// UIPos is where the editor draws a block.
type UIPos struct {
	X float64 `yaml:"x" json:"x"`
	Y float64 `yaml:"y" json:"y"`
}

// Skill returns the named skill.
func (b *Bot) Skill(name string) (*Skill, bool) {
	i, ok := b.skillIndex[name]
	if !ok {
		return nil, false
	}
	return b.Skills[i], true
}

// SkillAt returns the skill at index i.
func (b *Bot) SkillAt(i int) *Skill { return b.Skills[i] }

// Node returns the block at r, or nil when r is out of range.
func (b *Bot) Node(r Ref) *Node {
	if r.Skill < 0 || r.Skill >= len(b.Skills) {
		return nil
	}
	s := b.Skills[r.Skill]
	if r.Block < 0 || r.Block >= len(s.Blocks) {
		return nil
	}
	return s.Blocks[r.Block]
}

// CatchSkill returns the skill a named event enters, if any.
func (b *Bot) CatchSkill(event string) (*Skill, bool) {
	i, ok := b.catches[event]
	if !ok {
		return nil, false
	}
	return b.Skills[i], true
}

// CaughtEvents lists the named events that CATCH skills handle, sorted.
func (b *Bot) CaughtEvents() []string {
	out := make([]string, 0, len(b.catches))
	for ev := range b.catches {
		out = append(out, ev)
	}
	slices.Sort(out)
	return out
}

// Resolve finds a target by name (used for button payloads stored in
// sessions, which outlive a single load of the bot).
func (b *Bot) Resolve(name string) (Ref, bool) {
	if i, ok := b.skillIndex[name]; ok {
		return Ref{Skill: i}, true
	}
	r, ok := b.blockIndex[name]
	return r, ok
}

// Attribute returns a declared attribute.
func (b *Bot) Attribute(name string) (*Attribute, bool) {
	a, ok := b.Attributes[name]
	return a, ok
}
