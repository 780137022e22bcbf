// Package blocks holds Switchboard's block types, one file each. Every file
// registers its block's Spec (fields, docs, example) and behaviour with
// package flows in init, so importing this package makes them all available:
//
//	import _ "github.com/switchboard-bots/switchboard/blocks"
package blocks

import (
	"errors"
	"fmt"

	"github.com/switchboard-bots/switchboard/flows"
)

// Button is a button under a message or a gallery card. It leads somewhere
// (goto), opens a link (url), or sends its payload back as the user's
// message (payload).
type Button struct {
	Title   flows.Template `yaml:"title" required:"true" doc:"The button's label."`
	Goto    flows.Target   `yaml:"goto" doc:"The skill or block id a tap leads to."`
	URL     flows.Template `yaml:"url" doc:"A link the button opens."`
	Payload string         `yaml:"payload" doc:"Sent back as the user's message when tapped, for LISTEN or SWITCH to read."`
}

// QuickReply is a one-tap answer shown until the user replies.
type QuickReply struct {
	Title   flows.Template `yaml:"title" required:"true" doc:"The reply's label; tapping sends it."`
	Goto    flows.Target   `yaml:"goto" doc:"The skill or block id a tap leads to."`
	Payload string         `yaml:"payload" doc:"Sent back as the user's message when tapped; defaults to the title."`
}

func checkButtons(c *flows.Check, bs []Button) {
	for _, b := range bs {
		n := 0
		if !b.Goto.IsZero() {
			n++
		}
		if !b.URL.IsZero() {
			n++
		}
		if b.Payload != "" {
			n++
		}
		if n != 1 {
			c.Errorf(b.Title.Pos, "button %q needs exactly one of goto, url or payload", b.Title.Src)
		}
	}
}

func checkQuickReplies(c *flows.Check, qs []QuickReply) {
	for _, q := range qs {
		if !q.Goto.IsZero() && q.Payload != "" {
			c.Errorf(q.Title.Pos, "quick reply %q has both goto and payload: keep one", q.Title.Src)
		}
	}
}

// renderButtons renders buttons and the offers they make.
func renderButtons(r flows.Run, bs []Button) ([]flows.Button, []flows.Offer, error) {
	if len(bs) == 0 {
		return nil, nil, nil
	}
	out := make([]flows.Button, 0, len(bs))
	var offers []flows.Offer
	for i := range bs {
		b := &bs[i]
		title, err := r.Render(&b.Title)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case !b.URL.IsZero():
			u, err := r.Render(&b.URL)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, flows.Button{Title: title, URL: u})
		case !b.Goto.IsZero():
			out = append(out, flows.Button{Title: title, Payload: b.Goto.Name})
			offers = append(offers, flows.Offer{Title: title, Payload: b.Goto.Name, Target: b.Goto.Name})
		default:
			out = append(out, flows.Button{Title: title, Payload: b.Payload})
			offers = append(offers, flows.Offer{Title: title, Payload: b.Payload})
		}
	}
	return out, offers, nil
}

// renderQuickReplies renders quick replies and the offers they make.
func renderQuickReplies(r flows.Run, qs []QuickReply) ([]flows.Button, []flows.Offer, error) {
	if len(qs) == 0 {
		return nil, nil, nil
	}
	out := make([]flows.Button, 0, len(qs))
	offers := make([]flows.Offer, 0, len(qs))
	for i := range qs {
		q := &qs[i]
		title, err := r.Render(&q.Title)
		if err != nil {
			return nil, nil, err
		}
		o := flows.Offer{Title: title, Payload: q.Payload}
		if !q.Goto.IsZero() {
			o.Payload, o.Target = q.Goto.Name, q.Goto.Name
		} else if o.Payload == "" {
			o.Payload = title
		}
		out = append(out, flows.Button{Title: title, Payload: o.Payload})
		offers = append(offers, o)
	}
	return out, offers, nil
}

// pick renders one of a list of variants, chosen with the step's random source.
func pick(r flows.Run, ts flows.Templates) (string, error) {
	switch len(ts) {
	case 0:
		return "", nil
	case 1:
		return r.Render(&ts[0])
	}
	return r.Render(&ts[r.Rand().IntN(len(ts))])
}

// storeInput saves a value the user gave. refused is true when the
// destination's declared type refused it, which blocks treat as invalid
// input (ask again); any other error fails the block (res).
func storeInput(r flows.Run, name string, v any) (res *flows.Result, refused bool) {
	err := save(r, name, v)
	if err == nil {
		return nil, false
	}
	var ve *flows.ValueError
	if errors.As(err, &ve) {
		return nil, true
	}
	fail := flows.Fail(err)
	return &fail, false
}

// save stores a value where a block's save field says, wrapping the error
// with the field so /_error explains it.
func save(r flows.Run, name string, v any) error {
	if name == "" {
		return nil
	}
	if err := r.Set(name, v); err != nil {
		return fmt.Errorf("saving to %s: %w", name, err)
	}
	return nil
}
