package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/access"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// Publishing. The bots folder stays the one source of truth for what runs:
// PUT stores a validated draft version in the store; publish writes that
// version's source into the folder (atomically: a temporary file renamed
// over the bot's file) and asks the folder to rescan, so the new version
// runs when the call returns; rollback publishes an older version's source
// as a new version. The store keeps every version.

// botIDRe is the bot id of flows' schema: ids are file names too.
var botIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// maxNote bounds a version's note.
const maxNote = 500

// diagView is a diagnostic as the API shows it.
type diagView struct {
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

func viewDiags(ds flows.Diagnostics) []diagView {
	out := make([]diagView, 0, len(ds))
	for _, d := range ds {
		out = append(out, diagView{Line: d.Line, Col: d.Col, Severity: string(d.Severity), Message: d.Message})
	}
	return out
}

// versionView is a stored version as the API lists it.
type versionView struct {
	Bot       string    `json:"bot"`
	Version   int       `json:"version"`
	Format    string    `json:"format"`
	Author    string    `json:"author,omitempty"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Published bool      `json:"published"`
	// Running reports whether the running bot's source is this version's.
	Running bool   `json:"running"`
	SHA256  string `json:"sha256"`
}

func (a *API) viewVersion(v *store.BotVersion) versionView {
	running := false
	if b := a.bot(v.Bot); b != nil {
		running = hexSHA256(b.Source) == v.SHA256
	}
	return versionView{Bot: v.Bot, Version: v.Version, Format: v.Format, Author: v.Author, Note: v.Note,
		CreatedAt: v.CreatedAt, Published: v.Published, Running: running, SHA256: v.SHA256}
}

// botPathID returns the bot id of the path, or answers 404 for one that
// cannot be a bot's or that the caller does not see (a manager's or
// agent's bots are theirs alone: another bot is not shown to exist).
func botPathID(ctx *fasthttp.RequestCtx) (string, bool) {
	id := pathID(ctx)
	if !botIDRe.MatchString(id) {
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_bot", "a bot id is lower-case letters, digits, - and _ (at most 64)", map[string]any{"id": id})
		return "", false
	}
	if !PrincipalOf(ctx).SeesBot(id) {
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_bot", "no bot "+id+" runs or has versions", nil)
		return "", false
	}
	return id, true
}

// botWritePathID is botPathID for the routes that change a bot: they
// need an admin, a program (with the write scope) or a manager of the
// bot; an agent gets 403.
func botWritePathID(ctx *fasthttp.RequestCtx) (string, bool) {
	id, ok := botPathID(ctx)
	if !ok {
		return "", false
	}
	if p := PrincipalOf(ctx); p.Restricted() && p.Role != access.RoleManager {
		web.Error(ctx, fasthttp.StatusForbidden, "forbidden", "changing a bot needs an admin or a manager of the bot", map[string]any{"bot": id})
		return "", false
	}
	return id, true
}

func author(ctx *fasthttp.RequestCtx) string {
	p := who(ctx)
	switch {
	case p == nil || p.token == nil:
		return ""
	case p.token.Account != "":
		return p.token.Account
	default:
		return "token:" + p.token.ID
	}
}

func hexSHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// validateBot loads src as bot id's file. On failure it answers 422 and
// returns false.
func validateBot(ctx *fasthttp.RequestCtx, id, format string, src []byte) (flows.Diagnostics, bool) {
	bot, ds := flows.Load(id+"."+format, src)
	if bot == nil {
		n := 0
		first := ""
		for _, d := range ds {
			if d.Severity == flows.SevError {
				if n == 0 {
					first = fmt.Sprintf("%d:%d: %s", d.Line, d.Col, d.Message)
				}
				n++
			}
		}
		web.Error(ctx, fasthttp.StatusUnprocessableEntity, "invalid_bot", fmt.Sprintf("the bot file has %d %s; the first, at %s", n, plural(n, "error", "errors"), first), map[string]any{"diagnostics": viewDiags(ds)})
		return nil, false
	}
	if bot.ID != id {
		web.Error(ctx, fasthttp.StatusUnprocessableEntity, "id_mismatch", fmt.Sprintf("the file is bot %q but the path names %q: they must be the same", bot.ID, id), map[string]any{"path_id": id, "file_id": bot.ID})
		return nil, false
	}
	return ds, true
}

// putRequest is the JSON form of a PUT body.
type putRequest struct {
	Source string `json:"source"`
	Note   string `json:"note"`
	Format string `json:"format"`
}

// sourceFormat guesses the format of a source sent in a JSON envelope.
func sourceFormat(src []byte) string {
	if t := bytes.TrimSpace(src); len(t) > 0 && t[0] == '{' {
		return store.FormatJSON
	}
	return store.FormatYAML
}

// putBot validates a bot file and stores it as a new draft version.
func (a *API) putBot(ctx *fasthttp.RequestCtx) {
	id, ok := botWritePathID(ctx)
	if !ok {
		return
	}
	body := ctx.PostBody()
	if len(body) > a.cfg.MaxBotSize {
		web.Error(ctx, fasthttp.StatusRequestEntityTooLarge, "body_too_large", "the bot file is larger than the limit", map[string]any{"limit": a.cfg.MaxBotSize})
		return
	}
	mt, _, _ := mime.ParseMediaType(string(ctx.Request.Header.ContentType()))
	var src []byte
	format := ""
	note := string(ctx.QueryArgs().Peek("note"))
	switch mt {
	case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml":
		src, format = body, store.FormatYAML
	case "application/json":
		// A JSON body is either a bot file or {"source", "note", "format"}.
		var keys map[string]json.RawMessage
		if json.Unmarshal(body, &keys) == nil && keys["source"] != nil && keys["skills"] == nil {
			var req putRequest
			if !a.decodeMax(ctx, &req, a.cfg.MaxBotSize) {
				return
			}
			src, note, format = []byte(req.Source), req.Note, req.Format
			switch format {
			case "":
				format = sourceFormat(src)
			case store.FormatYAML, store.FormatJSON:
			default:
				web.Error(ctx, fasthttp.StatusBadRequest, "invalid_format", "format is yaml or json", map[string]any{"format": format})
				return
			}
		} else {
			src, format = body, store.FormatJSON
		}
	default:
		web.Error(ctx, fasthttp.StatusUnsupportedMediaType, "unsupported_media_type",
			"send the bot file as application/yaml or application/json, or JSON {\"source\": \"...\", \"note\": \"...\"}", map[string]any{"content_type": mt})
		return
	}
	if len(note) > maxNote {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_note", fmt.Sprintf("a note is at most %d bytes", maxNote), nil)
		return
	}
	ds, ok := validateBot(ctx, id, format, src)
	if !ok {
		return
	}
	rctx, cancel := a.reqCtx()
	defer cancel()
	v, err := a.cfg.Store.PutBotVersion(rctx, store.BotVersion{Bot: id, Source: bytes.Clone(src), Format: format, Author: author(ctx), Note: note, CreatedAt: a.cfg.Now().UTC()})
	if err != nil {
		a.internal(ctx, "storing the version", err)
		return
	}
	web.JSON(ctx, fasthttp.StatusCreated, map[string]any{"bot": id, "version": v.Version, "warnings": viewDiags(ds)})
}

// versionRequest is the body of publish and rollback.
type versionRequest struct {
	Version int `json:"version"`
}

// storedVersion reads the body's version of bot id, or answers the error.
func (a *API) storedVersion(ctx *fasthttp.RequestCtx, id string) *store.BotVersion {
	var req versionRequest
	if !a.decode(ctx, &req) {
		return nil
	}
	if req.Version <= 0 {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_version", "version is a version number, 1 or more", nil)
		return nil
	}
	return a.loadVersion(ctx, id, req.Version)
}

func (a *API) loadVersion(ctx *fasthttp.RequestCtx, id string, n int) *store.BotVersion {
	rctx, cancel := a.reqCtx()
	defer cancel()
	v, err := a.cfg.Store.BotVersion(rctx, id, n)
	switch {
	case errors.Is(err, store.ErrNotFound):
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_version", fmt.Sprintf("bot %s has no version %d", id, n), map[string]any{"bot": id, "version": n})
		return nil
	case err != nil:
		a.internal(ctx, "reading the version", err)
		return nil
	}
	return v
}

func (a *API) publishBot(ctx *fasthttp.RequestCtx) {
	id, ok := botWritePathID(ctx)
	if !ok || !a.canPublish(ctx) {
		return
	}
	if v := a.storedVersion(ctx, id); v != nil {
		a.publish(ctx, v, 0)
	}
}

// rollbackBot publishes an older version's source as a new version.
func (a *API) rollbackBot(ctx *fasthttp.RequestCtx) {
	id, ok := botWritePathID(ctx)
	if !ok || !a.canPublish(ctx) {
		return
	}
	old := a.storedVersion(ctx, id)
	if old == nil {
		return
	}
	if _, ok := validateBot(ctx, id, old.Format, old.Source); !ok {
		return // no new version for a source that would not run
	}
	rctx, cancel := a.reqCtx()
	v, err := a.cfg.Store.PutBotVersion(rctx, store.BotVersion{Bot: id, Source: old.Source, Format: old.Format, Author: author(ctx),
		Note: fmt.Sprintf("rollback to %d", old.Version), CreatedAt: a.cfg.Now().UTC()})
	cancel()
	if err != nil {
		a.internal(ctx, "storing the version", err)
		return
	}
	a.publish(ctx, &v, old.Version)
}

func (a *API) canPublish(ctx *fasthttp.RequestCtx) bool {
	if a.cfg.BotsDir == "" {
		web.Error(ctx, fasthttp.StatusNotImplemented, "publishing_off", "this server has no bots folder to publish to", nil)
		return false
	}
	return true
}

// botFile is the file the running bot id was loaded from, or "".
func (a *API) botFile(id string) string {
	if a.cfg.BotFile != nil {
		return a.cfg.BotFile(id)
	}
	if b := a.bot(id); b != nil {
		return b.File
	}
	return ""
}

// publish writes v into the bots folder, rescans it and answers the
// running version. rolledBack is the version a rollback restores, or 0.
func (a *API) publish(ctx *fasthttp.RequestCtx, v *store.BotVersion, rolledBack int) {
	id := v.Bot
	if _, ok := validateBot(ctx, id, v.Format, v.Source); !ok {
		return
	}
	a.pubMu.Lock()
	defer a.pubMu.Unlock()
	dir, err := filepath.Abs(a.cfg.BotsDir)
	if err != nil {
		a.internal(ctx, "finding the bots folder", err)
		return
	}
	// The file the bot runs from is replaced in place, whatever the
	// format: the loader reads YAML, of which JSON is a part. (A new name
	// would need the folder to drop the old file and load the new one in
	// the same scan, which it does not: it refuses a second file with a
	// running bot's id.) A bot that does not run gets {id}.{format}.
	target := ""
	if cur := a.botFile(id); cur != "" {
		if abs, err := filepath.Abs(cur); err == nil && filepath.Dir(abs) == dir {
			target = abs
		}
	}
	if target == "" {
		target = filepath.Join(dir, id+"."+v.Format)
		if other, _ := flows.LoadFile(target); other != nil && other.ID != id {
			web.Error(ctx, fasthttp.StatusConflict, "file_taken", fmt.Sprintf("%s in the bots folder holds bot %q", filepath.Base(target), other.ID), map[string]any{"file": filepath.Base(target), "bot": other.ID})
			return
		}
	}
	var prevMod time.Time
	if fi, err := os.Stat(target); err == nil {
		prevMod = fi.ModTime()
	}
	if err := writeFileAtomic(target, v.Source); err != nil {
		a.internal(ctx, "writing the bot file", err)
		return
	}
	// The folder notices a change by modification time and size: a file
	// time strictly after the previous one (file clocks are coarse) makes
	// sure it does.
	t := time.Now()
	if !t.After(prevMod) {
		t = prevMod.Add(time.Microsecond)
	}
	if err := os.Chtimes(target, t, t); err != nil {
		a.internal(ctx, "touching the bot file", err)
		return
	}
	status := fasthttp.StatusOK
	if a.cfg.Rescan == nil {
		status = fasthttp.StatusAccepted // the folder's watcher loads it
	} else {
		if err := a.cfg.Rescan(); err != nil {
			a.internal(ctx, "reloading the bots folder", err)
			return
		}
		if b := a.bot(id); b == nil || !bytes.Equal(b.Source, v.Source) {
			a.cfg.Log.Error("api: published bot did not load", "bot", id, "file", target)
			web.Error(ctx, fasthttp.StatusInternalServerError, "publish_failed", "the bot file was written but the server did not load it: see the server log", map[string]any{"file": filepath.Base(target)})
			return
		}
	}
	v.Published = true
	rctx, cancel := a.reqCtx()
	defer cancel()
	if _, err := a.cfg.Store.PutBotVersion(rctx, *v); err != nil {
		a.internal(ctx, "marking the version published", err)
		return
	}
	out := map[string]any{"bot": id, "version": v.Version, "file": filepath.Base(target), "running": status == fasthttp.StatusOK}
	if rolledBack > 0 {
		out["rolled_back_to"] = rolledBack
	}
	web.JSON(ctx, status, out)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writeFileAtomic writes data to path through a temporary file in the
// same folder (whose name is no bot file's) renamed over it.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func (a *API) listBotVersions(ctx *fasthttp.RequestCtx) {
	id, ok := botPathID(ctx)
	if !ok {
		return
	}
	limit, ok := intArg(ctx, "limit", store.DefaultPage, 1, store.MaxPage)
	if !ok {
		return
	}
	rctx, cancel := a.reqCtx()
	defer cancel()
	vs, next, err := a.cfg.Store.BotVersions(rctx, id, string(ctx.QueryArgs().Peek("cursor")), limit)
	switch {
	case errors.Is(err, store.ErrBadCursor):
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_cursor", "the cursor is not one this endpoint handed out", nil)
		return
	case err != nil:
		a.internal(ctx, "listing the versions", err)
		return
	}
	if len(vs) == 0 && a.bot(id) == nil {
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_bot", "no bot "+id+" runs or has versions", nil)
		return
	}
	out := make([]versionView, 0, len(vs))
	for i := range vs {
		out = append(out, a.viewVersion(&vs[i]))
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"versions": out, "next_cursor": next})
}

// getBotVersion answers a version's source, as getBotSource does.
func (a *API) getBotVersion(ctx *fasthttp.RequestCtx) {
	id, ok := botPathID(ctx)
	if !ok {
		return
	}
	s, _ := ctx.UserValue("n").(string)
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_version", "a version is a number, 1 or more", map[string]any{"version": s})
		return
	}
	v := a.loadVersion(ctx, id, n)
	if v == nil {
		return
	}
	ct := "application/yaml; charset=utf-8"
	if v.Format == store.FormatJSON {
		ct = "application/json"
	}
	ctx.Response.Header.Set("ETag", `"`+v.SHA256[:12]+`"`)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.Header.Set("X-Bot-Version", strconv.Itoa(v.Version))
	ctx.SetContentType(ct)
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBody(v.Source)
}
