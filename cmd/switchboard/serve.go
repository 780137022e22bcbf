package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/botdir"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/server"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// shutdownTimeout bounds a graceful stop: open requests finish, the
// pipeline drains, the store flushes.
const shutdownTimeout = 10 * time.Second

// cmdServe runs the server. Settings come from flags, then environment
// variables (SWITCHBOARD_ADDR, SWITCHBOARD_DATA, SWITCHBOARD_BOTS,
// SWITCHBOARD_DEFAULT_BOT), then defaults: a flag given on the command line
// wins over the environment.
func cmdServe(st stdio, args []string) int {
	fs := newFlags(st, "serve")
	addr := fs.String("addr", envOr("SWITCHBOARD_ADDR", "127.0.0.1:8080"), "address to listen on (env SWITCHBOARD_ADDR)")
	data := fs.String("data", envOr("SWITCHBOARD_DATA", "./data"), "directory of the embedded store (env SWITCHBOARD_DATA)")
	botsDir := fs.String("bots", envOr("SWITCHBOARD_BOTS", "flows/examples"), "directory of bot files to run (env SWITCHBOARD_BOTS)")
	defaultBot := fs.String("default-bot", os.Getenv("SWITCHBOARD_DEFAULT_BOT"), "bot of /webhooks/rest/webhook; default the first bot by id (env SWITCHBOARD_DEFAULT_BOT)")
	rest, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(rest) != 0 {
		fmt.Fprintf(st.err, "switchboard serve: unexpected arguments %s\n", strings.Join(rest, " "))
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(st.ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := serve(ctx, st.out, st.err, serveConfig{Addr: *addr, Data: *data, Bots: *botsDir, DefaultBot: *defaultBot}); err != nil {
		fmt.Fprintf(st.err, "switchboard serve: %v\n", err)
		return exitFail
	}
	return exitOK
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

type serveConfig struct {
	Addr, Data, Bots, DefaultBot string
}

// serve runs until ctx ends, then stops within shutdownTimeout.
func serve(ctx context.Context, out, errOut io.Writer, cfg serveConfig) error {
	log := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var p *pipeline.Pipeline
	starting := true
	bots := botdir.New(cfg.Bots,
		func(m map[string]*flows.Bot) {
			if p != nil {
				p.SetBots(m)
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
	st, err := store.Open(cfg.Data, store.Options{Logger: log})
	if err != nil {
		return fmt.Errorf("opening the store in %s: %w", cfg.Data, err)
	}
	defer st.Close()
	p = pipeline.New(pipeline.Config{
		Store:  st,
		Engine: engine.New(&http.Client{Timeout: 30 * time.Second}),
		Log:    log,
	})
	p.SetBots(bots.Bots())
	p.Start()
	starting = false
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		bots.Watch(2*time.Second, stopWatch, func(err error) { log.Warn("bots folder", "err", err) })
	}()
	defer func() { close(stopWatch); <-watched }()
	ids := p.BotIDs()
	srv := server.New(server.Config{Pipeline: p, DefaultBot: cfg.DefaultBot, Log: log}, p.BotIDs)
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		p.Close(context.Background())
		return err
	}
	base := "http://" + l.Addr().String()
	fmt.Fprintf(out, "Switchboard is running %d bot(s): %s\n", len(ids), strings.Join(ids, ", "))
	fmt.Fprintf(out, "  REST channel:  POST %s/webhooks/rest/webhook  {\"sender\": \"u1\", \"message\": \"hi\"}\n", base)
	fmt.Fprintf(out, "  health:        %s/healthz\n", base)
	fmt.Fprintf(out, "Press Ctrl+C to stop.\n")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		p.Close(context.Background())
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	fmt.Fprintln(out, "Stopping…")
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	if err := p.Close(sctx); err != nil {
		log.Warn("pipeline shutdown", "err", err)
	}
	return nil
}
