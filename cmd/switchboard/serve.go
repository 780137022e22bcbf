package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/fasthttp/router"

	"github.com/switchboard-bots/switchboard/editor"
	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/plugins/host"
	"github.com/switchboard-bots/switchboard/runtime/access"
	"github.com/switchboard-bots/switchboard/runtime/api"
	"github.com/switchboard-bots/switchboard/runtime/botdir"
	"github.com/switchboard-bots/switchboard/runtime/channel"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/live"
	"github.com/switchboard-bots/switchboard/runtime/livechat"
	"github.com/switchboard-bots/switchboard/runtime/metrics"
	"github.com/switchboard-bots/switchboard/runtime/outbox"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/plugins"
	"github.com/switchboard-bots/switchboard/runtime/server"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/webchat"
)

// shutdownTimeout bounds a graceful stop: open requests finish, the
// pipeline drains, the plugins stop, the store flushes. (A variable for
// tests.)
var shutdownTimeout = 10 * time.Second

// cmdServe runs the server. Each setting comes from, in order of
// precedence: its flag, its environment variable (SWITCHBOARD_ADDR,
// SWITCHBOARD_DATA, SWITCHBOARD_BOTS, SWITCHBOARD_DEFAULT_BOT), the config
// file given with --config (YAML: addr, data, bots, plugins, integrations, default_bot,
// ip_rate, webchat_rate, allowed_origins, sync_writes, memory_limit), and
// the default.
func cmdServe(st stdio, args []string) int {
	fs := newFlags(st, "serve")
	configFile := serveFlags(fs)
	rest, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(rest) != 0 {
		fmt.Fprintf(st.err, "switchboard serve: unexpected arguments %s\n", strings.Join(rest, " "))
		return exitUsage
	}
	cfg, err := resolveServeConfig(fs, *configFile, os.Getenv)
	if err != nil {
		fmt.Fprintf(st.err, "switchboard serve: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(st.ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := serve(ctx, st.out, st.err, cfg); err != nil {
		fmt.Fprintf(st.err, "switchboard serve: %v\n", err)
		return exitFail
	}
	return exitOK
}

// serveFlags defines serve's flags on fs; it returns --config.
func serveFlags(fs *flag.FlagSet) (configFile *string) {
	configFile = fs.String("config", os.Getenv("SWITCHBOARD_CONFIG"), "YAML config file with addr, data, bots, default_bot (env SWITCHBOARD_CONFIG)")
	fs.String("addr", "127.0.0.1:8080", "address to listen on (env SWITCHBOARD_ADDR)")
	fs.String("data", "./data", "directory of the embedded store (env SWITCHBOARD_DATA)")
	fs.String("bots", "flows/examples", "directory of bot files to run (env SWITCHBOARD_BOTS)")
	fs.String("plugins", filepath.Join("bin", "plugins"), "directory of plugin binaries (env SWITCHBOARD_PLUGINS); a missing one means no plugins")
	fs.String("integrations", "", "YAML file of the integration plugins' configurations, secrets as ${ENV_VAR} (env SWITCHBOARD_INTEGRATIONS)")
	fs.String("default-bot", "", "bot of /webhooks/rest/webhook; default the first bot by id (env SWITCHBOARD_DEFAULT_BOT)")
	fs.String("ip-rate", "1000", "requests per second one client address may make, 0 for no limit (env SWITCHBOARD_IP_RATE)")
	fs.String("webchat-rate", "5", "messages per second one web chat connection may send, 0 for no limit (env SWITCHBOARD_WEBCHAT_RATE)")
	fs.String("allowed-origins", "", "comma-separated origins browsers may call from, e.g. https://shop.example (env SWITCHBOARD_ALLOWED_ORIGINS)")
	fs.Bool("sync-writes", false, "wait for the disk (fsync) before acknowledging a message, so that it survives a power loss, not only a crash of the process (env SWITCHBOARD_SYNC_WRITES)")
	fs.String("memory-limit", "", "soft limit of the server's own memory, such as 100MiB, which the garbage collector works harder to keep; off for none; default GOMEMLIMIT's, or none (env SWITCHBOARD_MEMORY_LIMIT)")
	return configFile
}

// serveSettings maps each setting to its flag, environment variable and
// config-file key.
var serveSettings = []struct{ flag, env, key string }{
	{"addr", "SWITCHBOARD_ADDR", "addr"},
	{"data", "SWITCHBOARD_DATA", "data"},
	{"bots", "SWITCHBOARD_BOTS", "bots"},
	{"plugins", "SWITCHBOARD_PLUGINS", "plugins"},
	{"integrations", "SWITCHBOARD_INTEGRATIONS", "integrations"},
	{"default-bot", "SWITCHBOARD_DEFAULT_BOT", "default_bot"},
	{"ip-rate", "SWITCHBOARD_IP_RATE", "ip_rate"},
	{"webchat-rate", "SWITCHBOARD_WEBCHAT_RATE", "webchat_rate"},
	{"allowed-origins", "SWITCHBOARD_ALLOWED_ORIGINS", "allowed_origins"},
	{"sync-writes", "SWITCHBOARD_SYNC_WRITES", "sync_writes"},
	{"memory-limit", "SWITCHBOARD_MEMORY_LIMIT", "memory_limit"},
}

// resolveServeConfig applies the precedence: flag set on the command line,
// environment, config file, default.
func resolveServeConfig(fs *flag.FlagSet, configFile string, getenv func(string) string) (serveConfig, error) {
	file := map[string]string{}
	filePos := map[string]string{} // key → file:line:col of its value
	if configFile != "" {
		b, err := os.ReadFile(configFile)
		if err != nil {
			return serveConfig{}, fmt.Errorf("reading the config file: %w", err)
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			pos, msg := flows.YAMLError(b, err)
			return serveConfig{}, fmt.Errorf("%s:%d:%d: %s", configFile, pos.Line, pos.Col, msg)
		}
		if len(doc.Content) > 0 {
			m := doc.Content[0]
			if m.Kind != yaml.MappingNode {
				return serveConfig{}, fmt.Errorf("%s:%d:%d: the config file is a mapping of settings (addr, data, bots, default_bot)", configFile, m.Line, m.Column)
			}
			for i := 0; i+1 < len(m.Content); i += 2 {
				k, v := m.Content[i], m.Content[i+1]
				known := false
				for _, s := range serveSettings {
					known = known || s.key == k.Value
				}
				if !known || v.Kind != yaml.ScalarNode {
					return serveConfig{}, fmt.Errorf("%s:%d:%d: unknown setting %q: the settings are addr, data, bots, plugins, integrations, default_bot, ip_rate, webchat_rate, allowed_origins, sync_writes and memory_limit", configFile, k.Line, k.Column, k.Value)
				}
				file[k.Value] = v.Value
				filePos[k.Value] = fmt.Sprintf("%s:%d:%d", configFile, v.Line, v.Column)
			}
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	val := map[string]string{}
	from := map[string]string{} // flag → where its value came from, for errors
	for _, s := range serveSettings {
		f := fs.Lookup(s.flag)
		switch {
		case set[s.flag]:
			val[s.flag], from[s.flag] = f.Value.String(), "--"+s.flag
		case getenv(s.env) != "":
			val[s.flag], from[s.flag] = getenv(s.env), s.env
		case file[s.key] != "":
			val[s.flag], from[s.flag] = file[s.key], filePos[s.key]+": "+s.key
		default:
			val[s.flag], from[s.flag] = f.DefValue, "--"+s.flag
		}
	}
	bad := func(flag string, err error) error { return fmt.Errorf("%s: %w", from[flag], err) }
	cfg := serveConfig{Addr: val["addr"], Data: val["data"], Bots: val["bots"], Plugins: val["plugins"], Integrations: val["integrations"], DefaultBot: val["default-bot"]}
	rate, err := strconv.ParseFloat(val["ip-rate"], 64)
	if err != nil || rate < 0 {
		return serveConfig{}, bad("ip-rate", fmt.Errorf("ip rate %q is not a number of requests per second (0 for no limit)", val["ip-rate"]))
	}
	cfg.IPRate = rate
	rate, err = strconv.ParseFloat(val["webchat-rate"], 64)
	if err != nil || rate < 0 {
		return serveConfig{}, bad("webchat-rate", fmt.Errorf("web chat rate %q is not a number of messages per second (0 for no limit)", val["webchat-rate"]))
	}
	cfg.WebchatRate = rate
	if cfg.SyncWrites, err = strconv.ParseBool(val["sync-writes"]); err != nil {
		return serveConfig{}, bad("sync-writes", fmt.Errorf("sync writes %q is not true or false", val["sync-writes"]))
	}
	if cfg.MemoryLimit, err = parseMemoryLimit(val["memory-limit"]); err != nil {
		return serveConfig{}, bad("memory-limit", err)
	}
	for _, o := range strings.Split(val["allowed-origins"], ",") {
		if o = strings.TrimSpace(o); o != "" {
			cfg.AllowedOrigins = append(cfg.AllowedOrigins, o)
		}
	}
	return cfg, nil
}

type serveConfig struct {
	Addr, Data, Bots, Plugins, Integrations, DefaultBot string
	// IPRate is the requests per second one client address may make; 0
	// means no limit.
	IPRate float64
	// WebchatRate is the messages per second one web chat connection may
	// send; 0 means no limit.
	WebchatRate    float64
	AllowedOrigins []string
	// SyncWrites makes every commit wait for fsync (store.Options).
	SyncWrites bool
	// MemoryLimit is the Go runtime's soft memory limit: 0 leaves the
	// runtime's own (GOMEMLIMIT), math.MaxInt64 is none.
	MemoryLimit int64
}

// channelCapabilities says what each channel can do: the web chat, or a
// plugin channel of the running bots.
func channelCapabilities(chans *plugins.Channels) func(ch string) channel.Capabilities {
	return func(ch string) channel.Capabilities {
		if ch == webchat.Channel {
			return webchat.Capabilities
		}
		caps, _ := chans.Capabilities(ch)
		return caps
	}
}

// startPlugins launches the plugins of dir (none when it does not exist).
func startPlugins(ctx context.Context, dir string, log *slog.Logger) (*host.Host, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		dir = ""
	}
	h, err := host.New(host.Config{Dir: dir, Log: log})
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		h.Close(context.Background())
		return nil, fmt.Errorf("plugins: %w", err)
	}
	return h, nil
}

// maxUpload bounds a file sent in the web chat; requests may be this large.
const maxUpload = 10 << 20

// contactRate bounds the messages one user may send: nobody types ten
// messages a second.
var contactRate = server.RateLimit{PerSecond: 10, Burst: 30}

// serve runs until ctx ends, then stops within shutdownTimeout.
func serve(ctx context.Context, out, errOut io.Writer, cfg serveConfig) (err error) {
	// Log lines are buffered (the access log writes one per request);
	// what serve prints itself goes out at once.
	lw := newLogWriter(errOut)
	defer lw.Close()
	log := slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var p *pipeline.Pipeline
	var chans *plugins.Channels
	starting := true
	bots := botdir.New(cfg.Bots,
		func(m map[string]*flows.Bot) {
			if p != nil {
				p.SetBots(m)
			}
			if chans != nil {
				for _, err := range chans.SetBots(context.Background(), m) {
					log.Warn("plugin channel not set up", "err", err)
				}
			}
		},
		func(file string, ds flows.Diagnostics) {
			switch {
			case ds.HasErrors() && starting:
				fmt.Fprintf(errOut, "%s\n%s: skipped: it has errors\n", ds.Error(), file)
			case ds.HasErrors():
				log.Warn("bot file has errors; the running version stays", "file", file, "errors", ds.Error())
			case !starting:
				log.Info("bot file reloaded", "file", file)
			}
		})
	if _, err := bots.Scan(); err != nil {
		return err
	}
	if len(bots.Bots()) == 0 {
		return fmt.Errorf("no bot in %s loads: fix the errors above, or point --bots at a folder of bot files", cfg.Bots)
	}
	if cfg.DefaultBot != "" && bots.Bots()[cfg.DefaultBot] == nil {
		return fmt.Errorf("--default-bot %q is not one of the bots loaded from %s", cfg.DefaultBot, cfg.Bots)
	}
	defer applyMemoryLimit(cfg.MemoryLimit)()
	if cfg.MemoryLimit != 0 {
		log.Info("memory limit", "limit", fmtMemoryLimit(cfg.MemoryLimit))
	}
	if addr := os.Getenv("SWITCHBOARD_PPROF_ADDR"); addr != "" {
		// Profiles for operators investigating memory or CPU, on a
		// separate listener that must stay on loopback.
		if err := servePprof(ctx, addr, log); err != nil {
			return err
		}
	}
	st, err := store.Open(cfg.Data, store.Options{Logger: log, SyncWrites: cfg.SyncWrites})
	if err != nil {
		return fmt.Errorf("opening the store in %s: %w", cfg.Data, err)
	}
	// Everything the stop closes shares one deadline, set by the first
	// to close (stop, or a deferred close when serve returns early), and
	// the store's close keeps it too: a store that cannot flush (its disk
	// full or gone) does not hold the process. What it acknowledged is in
	// its write-ahead log, which the next start replays.
	var stopBy time.Time
	deadline := func() time.Time {
		if stopBy.IsZero() {
			stopBy = time.Now().Add(shutdownTimeout)
		}
		return stopBy
	}
	defer func() {
		if cerr := closeBy(deadline(), st.Close); cerr != nil {
			cerr = fmt.Errorf("closing the store in %s: %w; what it acknowledged is in its write-ahead log and is replayed at the next start", cfg.Data, cerr)
			log.Error("shutdown", "part", "store", "err", cerr)
			if err == nil {
				err = cerr
			}
		}
	}()
	envPW := os.Getenv("SWITCHBOARD_ADMIN_PASSWORD")
	created, adminPW, err := api.EnsureAdmin(ctx, st, envPW)
	if err != nil {
		return fmt.Errorf("creating the admin account: %w", err)
	}
	ph, err := startPlugins(ctx, cfg.Plugins, log)
	if err != nil {
		return err
	}
	problems, err := plugins.ConfigureIntegrations(ctx, ph, cfg.Integrations, os.Getenv)
	if err != nil {
		ph.Close(context.Background())
		return err
	}
	for _, err := range problems {
		fmt.Fprintf(errOut, "%v\nthe integration's actions fail until this is fixed\n", err)
	}
	defer func() {
		cctx, cancel := context.WithDeadline(context.Background(), deadline())
		defer cancel()
		if err := ph.Close(cctx); err != nil {
			log.Warn("shutdown", "part", "plugins", "err", err)
		}
	}()
	m := metrics.NewRuntime()
	// Every committed step is counted, wakes the outbox dispatcher, and
	// wakes the web chat sockets of its contact. disp and wc are set before
	// the pipeline starts, so the hook never sees them nil.
	var disp *outbox.Dispatcher
	var wc *webchat.Webchat
	hub := live.NewHub()
	chans = plugins.New(plugins.Config{Host: ph, Store: st, Log: log})
	actions := plugins.Actions{Host: ph}
	notifier := plugins.NewNotifier(actions, func(id string) *flows.Bot { return p.Bot(id) }, log)
	notifier.Start()
	defer notifier.Stop()
	lc := livechat.New(livechat.Config{Store: st, Log: log, Capabilities: channelCapabilities(chans), Notify: notifier.Notify})
	hub.SetHandoverView(lc.ViewAny)
	// Message events name where the API serves a customer's files, as the
	// API's own answers do.
	hub.SetContentView(func(bot string, m *store.Message) any { return api.ViewContent(chans, bot, m) })
	eng := engine.New(&http.Client{Timeout: 30 * time.Second})
	eng.Actions = actions
	p = pipeline.New(pipeline.Config{
		Store:  st,
		Engine: eng,
		Log:    log,
		Hook:   lc,
		OnCommit: func(c pipeline.Committed) {
			m.Committed(c)
			lc.Committed(c)
			notifier.Committed(c)
			disp.Offer(c.Contact, c.Messages)
			wc.OnCommit(c)
			hub.Publish(c)
		},
		Lease: func(now time.Time) time.Time { return disp.Lease(now) },
	})
	lc.SetPipeline(p)
	chans.SetPipeline(p)
	if err := lc.Load(ctx); err != nil {
		return err
	}
	p.SetBots(bots.Bots())
	secret, err := webchat.LoadOrCreateSecret(filepath.Join(cfg.Data, "webchat.secret"))
	if err != nil {
		return fmt.Errorf("the web chat token secret: %w", err)
	}
	wcRate := float64(webchat.NoRateLimit)
	if cfg.WebchatRate > 0 {
		wcRate = cfg.WebchatRate
	}
	wc, err = webchat.New(webchat.Config{
		Pipeline: p, Store: st, Secret: secret, Log: log,
		AllowedOrigins: cfg.AllowedOrigins, OpenSockets: m.OpenSockets,
		UploadDir: filepath.Join(cfg.Data, "uploads"), MaxUpload: maxUpload,
		Rate: wcRate,
	})
	if err != nil {
		return err
	}
	disp = outbox.New(outbox.Config{Store: st, Log: log, Senders: map[string]outbox.Sender{
		webchat.Channel: wc.Sender(),
	}, Others: chans.Sender()})
	m.SetOutboxDepth(func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, _ := disp.Depth(ctx)
		return float64(n)
	})
	p.Start()
	lc.Start()
	defer lc.Stop()
	for _, err := range chans.SetBots(ctx, bots.Bots()) {
		fmt.Fprintf(errOut, "%v\nthe bot runs without this channel\n", err)
	}
	starting = false
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		bots.Watch(2*time.Second, stopWatch, func(err error) { log.Warn("bots folder", "err", err) })
	}()
	defer func() { close(stopWatch); <-watched }()
	ids := p.BotIDs()
	apiv1 := api.New(api.Config{Store: st, Pipeline: p, BotIDs: p.BotIDs, Log: log, LiveChat: lc, Plugins: ph, Media: chans,
		Upload: wc.SaveUpload, UploadError: webchat.UploadError,
		BotsDir: cfg.Bots, Rescan: func() error { _, err := bots.Scan(); return err }})
	liveWS := live.NewServer(live.Config{Hub: hub, Authenticate: live.CookieOrTokenAuth(apiv1.Authenticate, api.SessionCookie), AllowedOrigins: cfg.AllowedOrigins, Log: log,
		// An agent's open console makes them present for live chat.
		OnConnect: func(p *access.Principal) func() {
			if p.Program || p.Account == "" {
				return nil
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return lc.Connected(ctx, p.Account)
		}})
	var ipRate server.RateLimit
	if cfg.IPRate > 0 {
		ipRate = server.RateLimit{PerSecond: cfg.IPRate, Burst: int(2 * cfg.IPRate)}
	}
	srv := server.New(server.Config{
		Pipeline: p, DefaultBot: cfg.DefaultBot, Log: log, AccessLog: lw, Metrics: m, MaxBodySize: maxUpload + 64<<10,
		IPRateLimit: ipRate, ContactRateLimit: contactRate, AllowedOrigins: cfg.AllowedOrigins,
		Mount: []func(*router.Router){apiv1.Mount, wc.Mount, liveWS.Mount, editor.Mount, chans.Mount}, Health: st.WriteFailure,
	}, p.BotIDs)
	// stop takes everything down in order: sockets get a close frame, the
	// server finishes open requests, the pipeline drains, the outbox stops;
	// the plugins and the store close last (deferred above), in the fifth
	// of the time kept for them.
	stop := func() {
		sctx, cancel := context.WithDeadline(context.Background(), deadline().Add(-shutdownTimeout/5))
		defer cancel()
		for _, s := range []struct {
			what  string
			close func(context.Context) error
		}{
			{"web chat", wc.Close}, {"live sockets", liveWS.Close}, {"http", srv.Shutdown}, {"plugin channels", chans.Close}, {"pipeline", p.Close}, {"outbox", disp.Close},
		} {
			if err := s.close(sctx); err != nil {
				log.Warn("shutdown", "part", s.what, "err", err)
			}
		}
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		stop()
		return err
	}
	base := "http://" + l.Addr().String()
	fmt.Fprintf(out, "Switchboard is running %d bot(s): %s\n", len(ids), strings.Join(ids, ", "))
	demo := cfg.DefaultBot
	if demo == "" {
		demo = ids[0]
	}
	fmt.Fprintf(out, "  web chat:      %s/webchat/demo?bot=%s\n", base, demo)
	fmt.Fprintf(out, "                 embed: <script src=\"%s/webchat/widget.js\" data-bot=\"%s\"></script>\n", base, demo)
	fmt.Fprintf(out, "  REST channel:  POST %s/webhooks/rest/webhook  {\"sender\": \"u1\", \"message\": \"hi\"}\n", base)
	fmt.Fprintf(out, "  API:           %s/api/v1  (sign in: POST %s/api/v1/auth/login; spec: %s/api/v1/openapi.json)\n", base, base, base)
	fmt.Fprintf(out, "  console:       %s%s/\n", base, editor.Base)
	fmt.Fprintf(out, "  health:        %s/healthz   metrics: %s/metrics\n", base, base)
	switch n := len(ph.Plugins()); {
	case n > 0:
		fmt.Fprintf(out, "  plugins:       %d in %s  (switchboard plugin list --plugins %s)\n", n, cfg.Plugins, cfg.Plugins)
	case cfg.Plugins != "":
		fmt.Fprintf(out, "  plugins:       none in %s  (make plugins builds the shipped channels and integrations there)\n", cfg.Plugins)
	}
	switch {
	case created && envPW == "":
		fmt.Fprintf(out, "  admin account: %s  one-time password: %s  (shown only now: save it)\n", api.AdminEmail, adminPW)
	case created:
		fmt.Fprintf(out, "  admin account: %s  (password from SWITCHBOARD_ADMIN_PASSWORD)\n", api.AdminEmail)
	}
	fmt.Fprintf(out, "Press Ctrl+C to stop.\n")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		stop()
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(out, "Stopping…")
	stop()
	return nil
}

// closeBy calls close and waits for it until by. A close still running
// then is left to the exit of the process, which is what the caller is
// about to do.
func closeBy(by time.Time, close func() error) error {
	done := make(chan error, 1)
	go func() { done <- close() }()
	t := time.NewTimer(time.Until(by))
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		select {
		case err := <-done: // finished just as time ran out
			return err
		default:
			return errors.New("it did not finish in time")
		}
	}
}
