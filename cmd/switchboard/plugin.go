package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/host"
)

// cmdPlugin dispatches the plugin subcommands.
func cmdPlugin(st stdio, args []string) int {
	if len(args) == 0 {
		newFlags(st, "plugin").Usage()
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		return cmdPluginList(st, []string{"-h"})
	}
	switch args[0] {
	case "list":
		return cmdPluginList(st, args[1:])
	}
	fmt.Fprintf(st.err, "switchboard plugin: unknown subcommand %q (want list)\n", args[0])
	return exitUsage
}

// cmdPluginList launches every plugin of a plugins folder, reads its
// manifest, prints what it found and stops them all.
func cmdPluginList(st stdio, args []string) int {
	fs := newFlags(st, "plugin")
	dir := fs.String("plugins", defaultPluginsDir(), "the plugins folder: every executable file in it is a plugin")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the plugins to start")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fs.Usage()
		return exitUsage
	}
	// Only the host's warnings: a plugin that fails says why in its row.
	log := slog.New(slog.NewTextHandler(st.err, &slog.HandlerOptions{Level: slog.LevelError + 4}))
	h, err := host.New(host.Config{Dir: *dir, Log: log, MaxFailures: 1})
	if err != nil {
		fmt.Fprintf(st.err, "switchboard plugin list: %v\n", err)
		return exitFail
	}
	ctx, cancel := context.WithTimeout(st.ctx, *timeout)
	startErr := h.Start(ctx)
	cancel()
	plugins := h.Plugins()
	cctx, ccancel := context.WithTimeout(context.Background(), 15*time.Second)
	closeErr := h.Close(cctx)
	ccancel()
	if startErr != nil {
		fmt.Fprintf(st.err, "switchboard plugin list: %v\n", startErr)
	}
	if closeErr != nil {
		fmt.Fprintf(st.err, "switchboard plugin list: %v\n", closeErr)
	}
	failed := 0
	for _, p := range plugins {
		if p.State != host.StateRunning {
			failed++
		}
	}
	if *asJSON {
		if plugins == nil {
			plugins = []host.Status{}
		}
		enc := json.NewEncoder(st.out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(plugins)
	} else if len(plugins) == 0 {
		fmt.Fprintf(st.out, "no plugins in %s\n", *dir)
	} else {
		tw := tabwriter.NewWriter(st.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tVERSION\tKIND\tSTATUS\tRESTARTS\tPATH")
		for _, p := range plugins {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", p.Name, dash(p.Version), dash(string(p.Kind)), p.State, p.Restarts, p.Path)
		}
		_ = tw.Flush()
		for _, p := range plugins {
			if p.State != host.StateRunning && p.LastError != "" {
				// go-plugin's launch errors go on for lines; the first says it.
				msg, _, _ := strings.Cut(p.LastError, "\n")
				fmt.Fprintf(st.out, "%s: %s\n", p.Name, msg)
			}
		}
	}
	if failed > 0 || startErr != nil {
		return exitFail
	}
	return exitOK
}

// defaultPluginsDir is $SWITCHBOARD_PLUGINS, or bin/plugins (where make
// plugins builds them; plugins/ holds their sources).
func defaultPluginsDir() string {
	if d := os.Getenv("SWITCHBOARD_PLUGINS"); d != "" {
		return d
	}
	return filepath.Join("bin", "plugins")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
