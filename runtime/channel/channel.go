// Package channel is what the runtime knows about channels: what each can
// show, and how content it cannot show is rewritten so the user still gets
// the message (buttons become numbered options, a gallery becomes a list).
package channel

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// Capabilities say what a channel can show.
type Capabilities struct {
	Buttons      bool `json:"buttons"`
	QuickReplies bool `json:"quick_replies"`
	Images       bool `json:"images"`
	Media        bool `json:"media"`
	Files        bool `json:"files"`
	Gallery      bool `json:"gallery"`
	// MaxText is the longest text one message may carry; 0 means no limit.
	// Longer text is split at line or word boundaries.
	MaxText int `json:"max_text,omitempty"`
	// ReplyWindow is how long after the user's last message the business
	// may write freely (24 hours on Messenger and WhatsApp); 0 means no
	// window.
	ReplyWindow time.Duration `json:"reply_window,omitempty"`
	// Templates: outside the reply window the channel still reaches the
	// user with pre-approved templates (WhatsApp), which its plugin
	// chooses; free text from agents stays refused.
	Templates bool `json:"templates,omitempty"`
}

// Degrade rewrites a message for a channel, returning the messages to send
// in its place: what the channel cannot show is turned into text it can.
func Degrade(c flows.Content, caps Capabilities) []flows.Content {
	return AppendDegraded(nil, c, caps)
}

// AppendDegraded is Degrade appending to dst, so that a caller with room
// for the usual message or two allocates nothing for them.
func AppendDegraded(dst []flows.Content, c flows.Content, caps Capabilities) []flows.Content {
	var extra []string
	n := 0
	option := func(b flows.Button) string {
		n++
		if b.URL != "" {
			return fmt.Sprintf("%d) %s: %s", n, b.Title, b.URL)
		}
		return fmt.Sprintf("%d) %s", n, b.Title)
	}
	if !caps.Gallery && len(c.Gallery) > 0 {
		for _, card := range c.Gallery {
			line := card.Title
			if card.Subtitle != "" {
				line += " — " + card.Subtitle
			}
			if card.Image != "" && !caps.Images {
				line += " " + card.Image
			}
			extra = append(extra, line)
			if caps.Buttons {
				c.Buttons = append(c.Buttons, card.Buttons...)
			} else {
				for _, b := range card.Buttons {
					extra = append(extra, "   "+option(b))
				}
			}
		}
		c.Gallery = nil
	}
	if !caps.Buttons && len(c.Buttons) > 0 {
		for _, b := range c.Buttons {
			extra = append(extra, option(b))
		}
		c.Buttons = nil
	}
	if !caps.QuickReplies && len(c.QuickReplies) > 0 {
		if caps.Buttons {
			c.Buttons = append(c.Buttons, c.QuickReplies...)
		} else {
			for _, b := range c.QuickReplies {
				extra = append(extra, option(b))
			}
		}
		c.QuickReplies = nil
	}
	for _, m := range []struct {
		ok   bool
		item **flows.Media
	}{{caps.Images, &c.Image}, {caps.Media, &c.Media}, {caps.Files, &c.File}} {
		if *m.item != nil && !m.ok {
			it := *m.item
			line := it.URL
			if it.Caption != "" {
				line = it.Caption + ": " + it.URL
			} else if it.Name != "" {
				line = it.Name + ": " + it.URL
			}
			extra = append(extra, line)
			*m.item = nil
		}
	}
	if len(extra) > 0 {
		if c.Text != "" {
			c.Text += "\n"
		}
		c.Text += strings.Join(extra, "\n")
	}
	return split(dst, c, caps.MaxText)
}

// split cuts a message whose text is too long into several; choices and
// media stay with the last part.
func split(out []flows.Content, c flows.Content, max int) []flows.Content {
	if max <= 0 || len(c.Text) <= max {
		return append(out, c)
	}
	text := c.Text
	for len(text) > max {
		cut := strings.LastIndexByte(text[:max], '\n')
		if cut <= 0 {
			cut = strings.LastIndexByte(text[:max], ' ')
		}
		if cut <= 0 {
			cut = max
			// Do not cut inside a UTF-8 sequence.
			for cut > 0 && text[cut]&0xC0 == 0x80 {
				cut--
			}
		}
		out = append(out, flows.Content{Text: strings.TrimRight(text[:cut], " \n")})
		text = strings.TrimLeft(text[cut:], " \n")
	}
	c.Text = text
	return append(out, c)
}
