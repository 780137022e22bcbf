package api

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"

	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// botView is a running bot as the API lists it. Version is the first 12
// hex digits of the SHA-256 of the bot file: it names the source that
// runs, until publishing brings numbered versions.
type botView struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
	File    string `json:"file"`
	// Skills are the names of the bot's skills, for the console's skill
	// picker.
	Skills []string `json:"skills"`
}

func viewBot(b *flows.Bot) botView {
	name := b.Name
	if name == "" {
		name = b.ID
	}
	skills := make([]string, 0, len(b.Skills))
	for _, sk := range b.Skills {
		skills = append(skills, sk.Name)
	}
	return botView{ID: b.ID, Name: name, Version: botVersion(b), File: filepath.Base(b.File), Skills: skills}
}

func botVersion(b *flows.Bot) string {
	h := sha256.Sum256(b.Source)
	return hex.EncodeToString(h[:6])
}

// listBots lists the running bots the caller sees: all of them for an
// admin or a program, a manager's or agent's own for them.
func (a *API) listBots(ctx *fasthttp.RequestCtx) {
	p := PrincipalOf(ctx)
	out := []botView{}
	for _, id := range a.botIDs() {
		if b := a.bot(id); b != nil && p.SeesBot(id) {
			out = append(out, viewBot(b))
		}
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"bots": out})
}

// runningBot returns the bot named by the path, or answers 404 (for a bot
// the caller does not see too).
func (a *API) runningBot(ctx *fasthttp.RequestCtx) *flows.Bot {
	id := pathID(ctx)
	b := a.bot(id)
	p := PrincipalOf(ctx)
	if b == nil || !p.SeesBot(id) {
		seen := []string{}
		for _, o := range a.botIDs() {
			if p.SeesBot(o) {
				seen = append(seen, o)
			}
		}
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_bot", "no bot "+id+" is running", map[string]any{"bots": seen})
		return nil
	}
	return b
}

func (a *API) getBot(ctx *fasthttp.RequestCtx) {
	if b := a.runningBot(ctx); b != nil {
		web.JSON(ctx, fasthttp.StatusOK, viewBot(b))
	}
}

// getBotSource answers the running version's file as it was loaded, with
// its version in ETag.
func (a *API) getBotSource(ctx *fasthttp.RequestCtx) {
	b := a.runningBot(ctx)
	if b == nil {
		return
	}
	ct := "application/yaml; charset=utf-8"
	if filepath.Ext(b.File) == ".json" {
		ct = "application/json"
	}
	ctx.Response.Header.Set("ETag", `"`+botVersion(b)+`"`)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType(ct)
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBody(b.Source)
}

// listBlocks answers the block catalogue: every registered block's spec,
// for the editor's palette and forms.
func (a *API) listBlocks(ctx *fasthttp.RequestCtx) {
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"categories": flows.Categories, "blocks": flows.BlockSpecs(), "actions": a.actions()})
}
