package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/meta"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// Metadata keys of an OutboundMessage that ask for a template. The SDK
// carries channel hints in OutboundMessage.Metadata; these are the
// WhatsApp channel's.
const (
	// MetaTemplate names the template to send, whether or not the window
	// is open.
	MetaTemplate = "template"
	// MetaTemplateLanguage is its language code (such as en_US); default:
	// default_template's language.
	MetaTemplateLanguage = "template_language"
	// MetaTemplateParams are the body's parameters, a JSON array of
	// strings ({{1}}, {{2}} …).
	MetaTemplateParams = "template_params"
)

// template returns the template object to send instead of the message's
// content, or nil to send the content. A template is sent when the
// message names one (MetaTemplate), or when the customer service window
// has closed: OutboundMessage.LastInbound is known and more than 24 hours
// old. Then the configured default_template is sent; with none configured
// the message fails finally, rather than being refused by WhatsApp
// (error 131047) over and over.
func (w *WhatsApp) template(c config, m *sdk.OutboundMessage) (map[string]any, error) {
	name, lang := m.Metadata[MetaTemplate], m.Metadata[MetaTemplateLanguage]
	closed := !m.LastInbound.IsZero() && w.now().Sub(m.LastInbound) >= Window
	if name == "" && !closed {
		return nil, nil
	}
	def := c.DefaultTemplate
	var params []string
	if name == "" {
		if def == nil {
			return nil, sdk.Final(fmt.Errorf("the 24-hour window closed at %s and no template is configured (default_template): WhatsApp takes only templates now",
				m.LastInbound.Add(Window).UTC().Format(time.RFC3339)))
		}
		name = def.Name
		if def.TextParam && m.Content.Text != "" {
			params = []string{m.Content.Text}
		}
	}
	if lang == "" {
		if def == nil {
			return nil, sdk.Final(errors.New("metadata template_language is required when no default_template is configured"))
		}
		lang = def.Language
	}
	if s, ok := m.Metadata[MetaTemplateParams]; ok {
		ps, err := templateParams(s)
		if err != nil {
			return nil, err
		}
		params = ps
	}
	tpl := map[string]any{"name": name, "language": map[string]string{"code": lang}}
	if len(params) > 0 {
		var ps []any
		for _, p := range params {
			ps = append(ps, map[string]string{"type": "text", "text": p})
		}
		tpl["components"] = []any{map[string]any{"type": "body", "parameters": ps}}
	}
	return tpl, nil
}

// templateParams reads template parameters from a message's metadata: a
// JSON array of strings.
func templateParams(s string) ([]string, error) {
	var ps []string
	if err := json.Unmarshal([]byte(s), &ps); err != nil {
		return nil, sdk.Final(fmt.Errorf("metadata template_params must be a JSON array of strings, such as [\"Ada\"]: %s", strconv.Quote(meta.Cut(s, 40))))
	}
	return ps, nil
}
