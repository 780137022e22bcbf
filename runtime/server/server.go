// Package server is Switchboard's HTTP surface on fasthttp: channel
// webhooks (the REST channel now), health endpoints, and the API to come.
// Every response that is not a success carries a JSON error body with a
// code a client can act on.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/runtime/deadline"
	"github.com/switchboard-bots/switchboard/runtime/metrics"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// Config configures a Server.
type Config struct {
	Pipeline *pipeline.Pipeline
	// DefaultBot answers /webhooks/rest/webhook; empty means the first
	// running bot by id.
	DefaultBot string
	// MaxBodySize bounds request bodies; 0 means 1 MiB.
	MaxBodySize int
	// RequestTimeout bounds the handling of one REST message (up to an
	// eighth more: the deadline is shared); 0 means 10s.
	RequestTimeout time.Duration
	Log            *slog.Logger
	// AccessLogLevel is the level of the access log line of each request
	// (5xx answers log at Warn at least); the zero value is Info.
	AccessLogLevel slog.Level
	// AccessLog, when set, is the writer of Log's handler, which must be a
	// slog.TextHandler with default options: the access log then writes
	// its lines there itself, the same lines at a fraction of the cost of
	// a record through the handler. Log's level still decides.
	AccessLog io.Writer
	// Metrics, when set, counts requests by route and status, times REST
	// steps, and is served at GET /metrics.
	Metrics *metrics.Runtime
	// IPRateLimit limits requests per client address (health, readiness
	// and metrics are exempt); ContactRateLimit limits REST messages per
	// bot and sender. The zero value turns a limit off.
	IPRateLimit      RateLimit
	ContactRateLimit RateLimit
	// AllowedOrigins are the origins (scheme://host[:port]) browsers may
	// call from, such as the pages embedding the web chat widget; "*"
	// allows any. Other origins get no CORS headers.
	AllowedOrigins []string
	// Now is the clock of the rate limits; nil means time.Now.
	Now func() time.Time
	// Mount adds the routes of other parts of the runtime (web chat, API,
	// metrics), each of which owns its own handlers.
	Mount []func(r *router.Router)
	// Health, when set, says what keeps the server from doing its job
	// (the store taking no more writes): /healthz and /readyz then answer
	// 503, so that a supervisor restarts the process.
	Health func() error
}

// Server serves HTTP. Its zero value is not usable: use New.
type Server struct {
	cfg  Config
	srv  *fasthttp.Server
	bots func() []string

	ipLimit, contactLimit *limiter
	// requests gives each REST message its RequestTimeout context.
	requests  *deadline.Shared
	access    *accessWriter // nil: the access log goes through Log
	origins   map[string]struct{}
	anyOrigin bool
}

// New builds the server and its routes.
func New(cfg Config, botIDs func() []string) *Server {
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = 1 << 20
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, bots: botIDs, requests: deadline.New(cfg.RequestTimeout), origins: map[string]struct{}{}}
	if cfg.AccessLog != nil {
		s.access = &accessWriter{w: cfg.AccessLog}
	}
	s.ipLimit = newLimiter(cfg.IPRateLimit, cfg.Now)
	s.contactLimit = newLimiter(cfg.ContactRateLimit, cfg.Now)
	for _, o := range cfg.AllowedOrigins {
		if o == "*" {
			s.anyOrigin = true
		}
		s.origins[strings.ToLower(strings.TrimSuffix(o, "/"))] = struct{}{}
	}
	r := router.New()
	r.SaveMatchedRoutePath = true
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.POST("/webhooks/rest/webhook", s.restWebhook)
	r.POST("/webhooks/rest/{bot}/webhook", s.restWebhook)
	if cfg.Metrics != nil {
		r.GET("/metrics", cfg.Metrics.Registry.Handler)
	}
	for _, m := range cfg.Mount {
		m(r)
	}
	r.NotFound = func(ctx *fasthttp.RequestCtx) {
		web.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such endpoint: "+string(ctx.Path()), nil)
	}
	r.MethodNotAllowed = func(ctx *fasthttp.RequestCtx) {
		web.Error(ctx, fasthttp.StatusMethodNotAllowed, "method_not_allowed", string(ctx.Method())+" is not allowed on "+string(ctx.Path()), nil)
	}
	s.srv = &fasthttp.Server{
		Handler:            s.middleware(r.Handler),
		Name:               "switchboard",
		MaxRequestBodySize: cfg.MaxBodySize,
		ReadTimeout:        30 * time.Second,
		WriteTimeout:       30 * time.Second,
		IdleTimeout:        2 * time.Minute,
		ErrorHandler: func(ctx *fasthttp.RequestCtx, err error) {
			if errors.Is(err, fasthttp.ErrBodyTooLarge) {
				web.Error(ctx, fasthttp.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than the limit", map[string]any{"limit": cfg.MaxBodySize})
				return
			}
			web.Error(ctx, fasthttp.StatusBadRequest, "bad_request", err.Error(), nil)
		},
		Logger: slogPrinter{cfg.Log},
	}
	return s
}

// Serve serves on l until Shutdown.
func (s *Server) Serve(l net.Listener) error { return s.srv.Serve(l) }

// Shutdown stops accepting connections and waits for open requests, up to
// ctx's deadline.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.ShutdownWithContext(ctx) }

func (s *Server) healthz(ctx *fasthttp.RequestCtx) {
	if s.failing(ctx) {
		return
	}
	web.JSON(ctx, 200, map[string]string{"status": "ok"})
}

// failing answers 503 when Health reports a failure.
func (s *Server) failing(ctx *fasthttp.RequestCtx) bool {
	if s.cfg.Health == nil {
		return false
	}
	if err := s.cfg.Health(); err != nil {
		web.Error(ctx, fasthttp.StatusServiceUnavailable, "unhealthy", err.Error(), nil)
		return true
	}
	return false
}

func (s *Server) readyz(ctx *fasthttp.RequestCtx) {
	if s.failing(ctx) {
		return
	}
	ids := s.bots()
	if len(ids) == 0 {
		web.Error(ctx, fasthttp.StatusServiceUnavailable, "no_bots", "no bot is running: check the bots folder for errors", nil)
		return
	}
	web.JSON(ctx, 200, map[string]any{"status": "ready", "bots": ids})
}

// defaultBot is the bot of the REST channel's plain webhook.
func (s *Server) defaultBot() string {
	if s.cfg.DefaultBot != "" {
		return s.cfg.DefaultBot
	}
	ids := s.bots()
	sort.Strings(ids)
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// slogPrinter routes fasthttp's log lines to slog.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(format string, args ...any) {
	p.l.Warn("http", "msg", fmt.Sprintf(format, args...))
}
