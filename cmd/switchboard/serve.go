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
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
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
	bots, err := loadBots(cfg.Bots, errOut)
	if err != nil {
		return err
	}
	if len(bots) == 0 {
		return fmt.Errorf("no bot in %s loads: fix the errors above, or point --bots at a folder of bot files", cfg.Bots)
	}
	if cfg.DefaultBot != "" && bots[cfg.DefaultBot] == nil {
		return fmt.Errorf("--default-bot %q is not one of the bots loaded from %s", cfg.DefaultBot, cfg.Bots)
	}
	st, err := store.Open(cfg.Data, store.Options{Logger: log})
	if err != nil {
		return fmt.Errorf("opening the store in %s: %w", cfg.Data, err)
	}
	defer st.Close()
	p := pipeline.New(pipeline.Config{
		Store:  st,
		Engine: engine.New(&http.Client{Timeout: 30 * time.Second}),
		Log:    log,
	})
	p.SetBots(bots)
	p.Start()
	ids := make([]string, 0, len(bots))
	for id := range bots {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	srv := server.New(server.Config{Pipeline: p, DefaultBot: cfg.DefaultBot, Log: log}, func() []string { return append([]string(nil), ids...) })
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

// loadBots loads every bot file in dir (*.yaml, *.yml, *.json; not test
// files). A bot with errors is reported with its diagnostics and skipped;
// the others run.
func loadBots(dir string, errOut io.Writer) (map[string]*flows.Bot, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the bots folder: %w", err)
	}
	bots := map[string]*flows.Bot{}
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if e.IsDir() || strings.HasSuffix(name, ".test.yaml") || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			continue
		}
		path := filepath.Join(dir, name)
		bot, ds := flows.LoadFile(path)
		if bot == nil {
			fmt.Fprintf(errOut, "%s\n%s: skipped: it has errors\n", ds.Error(), path)
			continue
		}
		if prev := bots[bot.ID]; prev != nil {
			fmt.Fprintf(errOut, "%s: skipped: bot id %q is already used by %s\n", path, bot.ID, prev.File)
			continue
		}
		bots[bot.ID] = bot
	}
	return bots, nil
}
