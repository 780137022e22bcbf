package host

import (
	"encoding/json"
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/runtime/channel"
)

// The runtime's types and the SDK's are twins (the SDK does not import the
// runtime, so that a plugin binary stays small); these convert between
// them for the runtime's wiring. TestRuntimeTwins fails when they drift.

// ContentFromFlows converts an outbound message's content for Send.
func ContentFromFlows(c flows.Content) sdk.Content {
	return sdk.Content{
		Text: c.Text, Buttons: buttonsFromFlows(c.Buttons), QuickReplies: buttonsFromFlows(c.QuickReplies),
		Image: mediaFromFlows(c.Image), Media: mediaFromFlows(c.Media), File: mediaFromFlows(c.File),
		Gallery: cardsFromFlows(c.Gallery), Payload: c.Payload, Attachments: mediasFromFlows(c.Attachments),
	}
}

// ContentToFlows converts an inbound message's content for the pipeline.
func ContentToFlows(c sdk.Content) flows.Content {
	return flows.Content{
		Text: c.Text, Buttons: buttonsToFlows(c.Buttons), QuickReplies: buttonsToFlows(c.QuickReplies),
		Image: mediaToFlows(c.Image), Media: mediaToFlows(c.Media), File: mediaToFlows(c.File),
		Gallery: cardsToFlows(c.Gallery), Payload: c.Payload, Attachments: mediasToFlows(c.Attachments),
	}
}

// Capabilities converts a manifest's capabilities for channel.Degrade.
func Capabilities(c sdk.Capabilities) channel.Capabilities {
	return channel.Capabilities{
		Buttons: c.Buttons, QuickReplies: c.QuickReplies, Images: c.Images, Media: c.Media,
		Files: c.Files, Gallery: c.Gallery, MaxText: c.MaxText, ReplyWindow: c.ReplyWindow, Templates: c.Templates,
	}
}

func buttonsFromFlows(bs []flows.Button) []sdk.Button {
	if bs == nil {
		return nil
	}
	out := make([]sdk.Button, len(bs))
	for i, b := range bs {
		out[i] = sdk.Button(b)
	}
	return out
}

func buttonsToFlows(bs []sdk.Button) []flows.Button {
	if bs == nil {
		return nil
	}
	out := make([]flows.Button, len(bs))
	for i, b := range bs {
		out[i] = flows.Button(b)
	}
	return out
}

func mediaFromFlows(m *flows.Media) *sdk.Media {
	if m == nil {
		return nil
	}
	x := sdk.Media(*m)
	return &x
}

func mediaToFlows(m *sdk.Media) *flows.Media {
	if m == nil {
		return nil
	}
	x := flows.Media(*m)
	return &x
}

func mediasFromFlows(ms []flows.Media) []sdk.Media {
	if ms == nil {
		return nil
	}
	out := make([]sdk.Media, len(ms))
	for i, m := range ms {
		out[i] = sdk.Media(m)
	}
	return out
}

func mediasToFlows(ms []sdk.Media) []flows.Media {
	if ms == nil {
		return nil
	}
	out := make([]flows.Media, len(ms))
	for i, m := range ms {
		out[i] = flows.Media(m)
	}
	return out
}

func cardsFromFlows(cs []flows.Card) []sdk.Card {
	if cs == nil {
		return nil
	}
	out := make([]sdk.Card, len(cs))
	for i, c := range cs {
		out[i] = sdk.Card{Image: c.Image, Title: c.Title, Subtitle: c.Subtitle, Buttons: buttonsFromFlows(c.Buttons)}
	}
	return out
}

func cardsToFlows(cs []sdk.Card) []flows.Card {
	if cs == nil {
		return nil
	}
	out := make([]flows.Card, len(cs))
	for i, c := range cs {
		out[i] = flows.Card{Image: c.Image, Title: c.Title, Subtitle: c.Subtitle, Buttons: buttonsToFlows(c.Buttons)}
	}
	return out
}

// Redacted is what Redact puts in place of a secret.
const Redacted = "[redacted]"

// Redact returns config with the values at the secret JSON pointers (a
// manifest's Secrets) replaced by Redacted, for logs, API answers and the
// editor. A config that is not a JSON object comes back as Redacted whole.
func Redact(config json.RawMessage, secrets []string) json.RawMessage {
	if len(secrets) == 0 {
		return config
	}
	var v any
	if err := json.Unmarshal(config, &v); err != nil {
		b, _ := json.Marshal(Redacted)
		return b
	}
	for _, p := range secrets {
		v = redact(v, pointer(p))
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(Redacted)
	}
	return b
}

// pointer splits a JSON pointer into its unescaped tokens.
func pointer(p string) []string {
	if p == "" || p == "/" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts
}

// redact replaces the value at path; "*" matches every key or index (for
// secrets in a list of accounts).
func redact(v any, path []string) any {
	if len(path) == 0 {
		if v == nil {
			return nil
		}
		return Redacted
	}
	switch x := v.(type) {
	case map[string]any:
		if path[0] == "*" {
			for k := range x {
				x[k] = redact(x[k], path[1:])
			}
		} else if e, ok := x[path[0]]; ok {
			x[path[0]] = redact(e, path[1:])
		}
	case []any:
		for i := range x {
			if path[0] == "*" || path[0] == itoa(i) {
				x[i] = redact(x[i], path[1:])
			}
		}
	}
	return v
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// secretValues collects the string values at the secret pointers of
// config (short ones, which would blank out ordinary words, excepted).
func secretValues(config json.RawMessage, secrets []string) []string {
	if len(secrets) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(config, &v) != nil {
		return nil
	}
	var out []string
	var walk func(v any, path []string)
	walk = func(v any, path []string) {
		if len(path) == 0 {
			if s, ok := v.(string); ok && len(s) >= 6 {
				out = append(out, s)
			}
			return
		}
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if path[0] == "*" || path[0] == k {
					walk(e, path[1:])
				}
			}
		case []any:
			for i, e := range x {
				if path[0] == "*" || path[0] == itoa(i) {
					walk(e, path[1:])
				}
			}
		}
	}
	for _, p := range secrets {
		walk(v, pointer(p))
	}
	return out
}
