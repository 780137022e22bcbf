// Package api is Switchboard's JSON API, version 1, under /api/v1: sign-in
// and API tokens, bots and the block catalogue, contacts, conversations and
// events. It mounts on the server's router (server.Config.Mount) and owns its
// handlers; every error is {"error": {"code", "message", "details"}} with
// the right HTTP status, like the rest of the server.
//
// Every route but sign-in and the OpenAPI document needs a bearer token
// (Authorization: Bearer <token>), or the session cookie of a browser
// signed in (with the CSRF header on writes: auth.go), with the scope the
// route names: read, write (implies read) or admin (implies both). Who the
// caller is (PrincipalOf) narrows what it sees: a manager or an agent only
// its own bots and their contacts (runtime/access, agents.go).
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/plugins/host"
	"github.com/switchboard-bots/switchboard/runtime/livechat"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// Config configures the API. Store and Pipeline are required.
type Config struct {
	Store    store.Store
	Pipeline *pipeline.Pipeline
	// BotIDs lists the running bots; nil asks the pipeline (its BotIDs
	// method, when it has one).
	BotIDs func() []string
	// MaxBodySize bounds a request body; 0 means 256 KiB. The server's own
	// limit applies first.
	MaxBodySize int
	// BotsDir is the bots folder that publishing writes to; empty turns
	// publishing off (bots_versions.go).
	BotsDir string
	// Rescan has the bots folder load its changes at once, so that a
	// published version runs when the call returns; nil leaves it to the
	// folder's watcher (publish then answers 202).
	Rescan func() error
	// BotFile returns the file the running bot id was loaded from ("" for
	// none); nil reads the running bot's File.
	BotFile func(id string) string
	// MaxBotSize bounds a bot file sent to PUT /bots/{id}; 0 means 1 MiB,
	// and it is at most flows.MaxFileSize.
	MaxBotSize int
	// SessionTTL is how long a sign-in's token lasts; 0 means 12 hours.
	SessionTTL time.Duration
	// RequestTimeout bounds the store and pipeline calls of one request;
	// 0 means 10 s.
	RequestTimeout time.Duration
	// LoginPerIP and LoginPerAccount bound sign-in attempts per client
	// address and failed attempts per email, within LoginWindow; 0 means
	// 20, 5 and 15 minutes.
	LoginPerIP, LoginPerAccount int
	LoginWindow                 time.Duration
	// SearchScan bounds the messages (and contacts) one search reads; 0
	// means 20,000. A search that stops at the bound says so
	// ("truncated": true) and hands a cursor to go on.
	SearchScan int
	// Plugins, when set, is listed at /plugins, and its integrations'
	// actions join the block catalogue.
	Plugins *host.Host
	// Upload, when set, keeps a file an agent sends (POST /uploads) and
	// returns it as an attachment; its errors are answered by
	// UploadError.
	Upload      func(filename string, data []byte) (flows.Media, error)
	UploadError func(ctx *fasthttp.RequestCtx, err error)
	// LiveChat, when set, serves the live-chat routes (handovers.go).
	LiveChat *livechat.Service
	// Media, when set, fetches the attachments customers send through
	// channels whose plugin can (runtime/plugins.Channels): the API
	// serves them (GET /contacts/{id}/messages/{seq}/attachments/{n})
	// and names that path in their proxy_url (attachments.go).
	Media Media
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// API serves /api/v1. Build it with New and add it to a router with Mount.
type API struct {
	cfg   Config
	login *limiter
	// pubMu serializes publishing: one write to the bots folder at a time.
	pubMu sync.Mutex
	// acctMu serializes changes to accounts and teams, so that checks
	// across accounts (the last admin) hold when the change is stored.
	acctMu sync.Mutex
}

// New returns the API.
func New(cfg Config) *API {
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = 256 << 10
	}
	if cfg.MaxBotSize <= 0 {
		cfg.MaxBotSize = 1 << 20
	}
	cfg.MaxBotSize = min(cfg.MaxBotSize, flows.MaxFileSize)
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.LoginPerIP <= 0 {
		cfg.LoginPerIP = 20
	}
	if cfg.LoginPerAccount <= 0 {
		cfg.LoginPerAccount = 5
	}
	if cfg.LoginWindow <= 0 {
		cfg.LoginWindow = 15 * time.Minute
	}
	if cfg.SearchScan <= 0 {
		cfg.SearchScan = 20000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &API{cfg: cfg, login: newLimiter(cfg.LoginWindow, cfg.Now)}
}

// Prefix is where the API lives.
const Prefix = "/api/v1"

// Mount adds the API's routes to r.
func (a *API) Mount(r *router.Router) {
	g := r.Group(Prefix)
	g.GET("/openapi.json", a.openAPI)
	g.POST("/auth/login", a.postLogin)
	g.POST("/auth/logout", a.auth(scopeRead, a.postLogout))

	g.GET("/tokens", a.auth(scopeAdmin, a.listTokens))
	g.POST("/tokens", a.auth(scopeAdmin, a.createToken))
	g.DELETE("/tokens/{id}", a.auth(scopeAdmin, a.deleteToken))

	g.GET("/bots", a.auth(scopeRead, a.listBots))
	g.GET("/bots/{id}", a.auth(scopeRead, a.getBot))
	g.GET("/bots/{id}/source", a.auth(scopeRead, a.getBotSource))
	g.PUT("/bots/{id}", a.auth(scopeWrite, a.putBot))
	g.POST("/bots/{id}/publish", a.auth(scopeWrite, a.publishBot))
	g.POST("/bots/{id}/rollback", a.auth(scopeWrite, a.rollbackBot))
	g.GET("/bots/{id}/versions", a.auth(scopeRead, a.listBotVersions))
	g.GET("/bots/{id}/versions/{n}", a.auth(scopeRead, a.getBotVersion))
	g.GET("/blocks", a.auth(scopeRead, a.listBlocks))
	g.GET("/plugins", a.auth(scopeRead, a.listPlugins))

	g.GET("/contacts", a.auth(scopeRead, a.listContacts))
	g.GET("/contacts/{id}", a.auth(scopeRead, a.getContact))
	g.PATCH("/contacts/{id}", a.auth(scopeWrite, a.patchContact))
	g.DELETE("/contacts/{id}", a.auth(scopeAdmin, a.deleteContact))
	g.POST("/contacts/{id}/ban", a.auth(scopeWrite, a.banContact(true)))
	g.POST("/contacts/{id}/unban", a.auth(scopeWrite, a.banContact(false)))
	g.GET("/contacts/{id}/messages", a.auth(scopeRead, a.listMessages))
	g.GET("/contacts/{id}/messages/{seq}/attachments/{n}", a.auth(scopeRead, a.getAttachment))
	g.POST("/contacts/{id}/events", a.auth(scopeWrite, a.postEvent))
	g.GET("/messages/search", a.auth(scopeRead, a.searchMessages))
	g.GET("/conversations", a.auth(scopeRead, a.listConversations))

	a.mountAccounts(g)
	a.mountLiveChat(g)
}

// botIDs lists the running bots.
func (a *API) botIDs() []string {
	if a.cfg.BotIDs != nil {
		return a.cfg.BotIDs()
	}
	if l, ok := any(a.cfg.Pipeline).(interface{ BotIDs() []string }); ok {
		return l.BotIDs()
	}
	return nil
}

func (a *API) bot(id string) *flows.Bot { return a.cfg.Pipeline.Bot(id) }

// reqCtx is the context of the store and pipeline calls of one request.
func (a *API) reqCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), a.cfg.RequestTimeout)
}

// internal answers 500 for an unexpected error, logging it; context
// deadlines are 504 and a closed store or pipeline 503.
func (a *API) internal(ctx *fasthttp.RequestCtx, what string, err error) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		web.Error(ctx, fasthttp.StatusGatewayTimeout, "timeout", what+": not done in time", nil)
	case errors.Is(err, store.ErrClosed), errors.Is(err, pipeline.ErrClosed):
		ctx.Response.Header.Set("Retry-After", "5")
		web.Error(ctx, fasthttp.StatusServiceUnavailable, "shutting_down", "the server is shutting down: retry shortly", nil)
	default:
		a.cfg.Log.Error("api", "what", what, "path", string(ctx.Path()), "err", err)
		web.Error(ctx, fasthttp.StatusInternalServerError, "internal", what+" failed", nil)
	}
}

// decode reads a JSON body into v: bounded, one value, no unknown fields.
// It answers the error itself and returns false on failure.
func (a *API) decode(ctx *fasthttp.RequestCtx, v any) bool {
	return a.decodeMax(ctx, v, a.cfg.MaxBodySize)
}

// decodeMax is decode with a body limit of its own.
func (a *API) decodeMax(ctx *fasthttp.RequestCtx, v any, limit int) bool {
	body := ctx.PostBody()
	if len(body) > limit {
		web.Error(ctx, fasthttp.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than the limit", map[string]any{"limit": limit})
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_json", "the request needs a JSON body", nil)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var field string
		if _, after, ok := bytes.Cut([]byte(err.Error()), []byte("json: unknown field ")); ok {
			field = string(after)
		}
		if field != "" {
			unq, _ := strconv.Unquote(field)
			web.Error(ctx, fasthttp.StatusBadRequest, "unknown_field", fmt.Sprintf("the body has a field %s that this endpoint does not take", field), map[string]any{"field": unq})
			return false
		}
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_json", "the body is not the JSON this endpoint takes: "+err.Error(), nil)
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_json", "the body holds more than one JSON value", nil)
		return false
	}
	return true
}

// intArg reads an optional integer query argument in [lo, hi]; def when
// absent.
func intArg(ctx *fasthttp.RequestCtx, name string, def, lo, hi int) (int, bool) {
	s := string(ctx.QueryArgs().Peek(name))
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_"+name, fmt.Sprintf("%s must be a whole number from %d to %d", name, lo, hi), map[string]any{name: s})
		return 0, false
	}
	return n, true
}

func pathID(ctx *fasthttp.RequestCtx) string {
	id, _ := ctx.UserValue("id").(string)
	return id
}
