package api

import (
	"encoding/json"

	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/plugins/host"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// pluginView is a plugin as the API lists it: its state and what it
// offers, never its configuration (which holds secrets).
type pluginView struct {
	host.Status
	Description string `json:"description,omitempty"`
	// Channel plugins: what the channel can show, and the schema of an
	// instance's config (bots' channels entries).
	Capabilities any             `json:"capabilities,omitempty"`
	ConfigSchema json.RawMessage `json:"config_schema,omitempty"`
	// Integration plugins: their actions, for the ACTION block.
	Actions []actionView `json:"actions,omitempty"`
}

// actionView is an integration's action, named as the ACTION block calls
// it (integration.action).
type actionView struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Params      json.RawMessage `json:"params,omitempty"`
	Result      json.RawMessage `json:"result,omitempty"`
}

// plugins lists the plugins with their manifests; none without a host.
func (a *API) plugins() []pluginView {
	out := []pluginView{}
	if a.cfg.Plugins == nil {
		return out
	}
	for _, st := range a.cfg.Plugins.Plugins() {
		v := pluginView{Status: st}
		if c, ok := a.cfg.Plugins.Channel(st.Name); ok && st.Kind == host.KindChannel {
			m := c.Manifest()
			v.Description, v.Capabilities, v.ConfigSchema = m.Description, host.Capabilities(m.Capabilities), m.ConfigSchema
		}
		if c, ok := a.cfg.Plugins.Integration(st.Name); ok && st.Kind == host.KindIntegration {
			m := c.Manifest()
			v.Description, v.ConfigSchema = m.Description, m.ConfigSchema
			for _, act := range m.Actions {
				v.Actions = append(v.Actions, actionView{Name: m.Name + "." + act.Name, Description: act.Description, Params: act.Params, Result: act.Result})
			}
		}
		out = append(out, v)
	}
	return out
}

// listPlugins answers the plugins, their state and what they offer.
func (a *API) listPlugins(ctx *fasthttp.RequestCtx) {
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"plugins": a.plugins()})
}

// actions are the integrations' actions, for the block catalogue.
func (a *API) actions() []actionView {
	out := []actionView{}
	for _, p := range a.plugins() {
		out = append(out, p.Actions...)
	}
	return out
}
