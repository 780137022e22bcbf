package blocks

import "github.com/switchboard-bots/switchboard/flows"

// Text sends a message with optional buttons and quick replies.
type Text struct {
	Text         flows.Templates `yaml:"text" required:"true" doc:"The message. Templates like {{ contact.name }} are filled in; a list of variants sends one picked at random."`
	Buttons      []Button        `yaml:"buttons" doc:"Buttons under the message."`
	QuickReplies []QuickReply    `yaml:"quick_replies" doc:"One-tap replies shown until the user answers."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "text",
		Title:       "TEXT",
		Category:    "Messages",
		Description: "Sends a text message, optionally with buttons (goto, url or payload) and quick replies.",
		Primary:     "text",
		New:         func() flows.Block { return &Text{} },
		Example: `/start:
  - text: "Hi {{ contact.name ?? 'there' }}! How can I help?"
    buttons:
      - {title: Track my order, goto: track}
      - {title: Our website, url: "https://example.com"}
    quick_replies:
      - {title: Talk to a human, goto: /_start_live_chat}
track:
  - text: [Let's find your order., Sure, let's look up your order.]`,
	})
}

var (
	_ flows.Enterer = (*Text)(nil)
	_ flows.Checker = (*Text)(nil)
)

// Check enforces one action per button.
func (b *Text) Check(c *flows.Check) {
	checkButtons(c, b.Buttons)
	checkQuickReplies(c, b.QuickReplies)
}

// Enter renders and sends the message.
func (b *Text) Enter(r flows.Run) flows.Result {
	text, err := pick(r, b.Text)
	if err != nil {
		return flows.Fail(err)
	}
	buttons, offers, err := renderButtons(r, b.Buttons)
	if err != nil {
		return flows.Fail(err)
	}
	qrs, qoffers, err := renderQuickReplies(r, b.QuickReplies)
	if err != nil {
		return flows.Fail(err)
	}
	r.Send(flows.Content{Text: text, Buttons: buttons, QuickReplies: qrs}, append(offers, qoffers...))
	return flows.Next()
}
