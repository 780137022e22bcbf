// Command switchboard runs bots and works with bot files: it serves them,
// validates them, runs their conversation tests, lets you chat with a bot in
// the terminal and prints the bot-file schema. Each command lives in its own file; main only
// dispatches.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"

	_ "time/tzdata" // time zones work on machines without tzdata

	_ "github.com/switchboard-bots/switchboard/blocks"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// stdio is what a command reads and writes; tests pass buffers.
type stdio struct {
	ctx    context.Context
	in     io.Reader
	out    io.Writer
	err    io.Writer
	isTerm bool // stdin is a terminal
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and found problems
	exitUsage = 2 // the command line is wrong
)

type command struct {
	name    string
	args    string
	summary string
	run     func(io stdio, args []string) int
}

var commands []command

func init() {
	commands = []command{
		{"validate", "[--strict] [--json] FILE...", "check bot files (and *.test.yaml files) and print every problem as file:line:col: message", cmdValidate},
		{"test", "[-v] [--run REGEX] [FILE_OR_DIR...]", "run conversation tests: *.test.yaml files, or every one under a directory", cmdTest},
		{"chat", "[--data DIR] [--contact ID] [--name NAME] [--attr k=v]... FILE", "talk to a bot in the terminal; --data keeps the conversation across runs", cmdChat},
		{"serve", "[--config FILE] [--addr HOST:PORT] [--data DIR] [--bots DIR] [--default-bot ID]", "run the server: every bot in the bots folder, on the web chat, the REST channel and the API", cmdServe},
		{"load", "[--url URL] [--bot ID] [--users N --conns N | --webchat --sockets N | --hook PATH [--sink ADDR]] [--console N] [--messages N | --duration D]", "drive many users through a running server's REST channel (or web chat sockets, or a plugin channel's webhook), check every reply, report messages/s and latency", cmdLoad},
		{"plugin", "list [--plugins DIR] [--json]", "launch the plugins of a plugins folder and list each: name, version, kind, status, restarts", cmdPlugin},
		{"schema", "", "print the JSON Schema of bot files", cmdSchema},
		{"version", "", "print the version", cmdVersion},
		{"help", "[COMMAND]", "show this help, or a command's flags", cmdHelp},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st := stdio{ctx: ctx, in: os.Stdin, out: os.Stdout, err: os.Stderr}
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		st.isTerm = true
	}
	code := run(st, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches to a command and returns the exit code.
func run(st stdio, args []string) int {
	if st.ctx == nil {
		st.ctx = context.Background()
	}
	if len(args) == 0 {
		usage(st.out)
		return exitOK
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		usage(st.out)
		return exitOK
	case "--version", "-version":
		name = "version"
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(st, args[1:])
		}
	}
	fmt.Fprintf(st.err, "switchboard: unknown command %q\n\n", name)
	usage(st.err)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Switchboard runs bots written as YAML files of skills and blocks.

Usage:
  switchboard <command> [arguments]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'switchboard help <command>' for a command's arguments and flags.\n")
}

func cmdHelp(st stdio, args []string) int {
	if len(args) == 0 {
		usage(st.out)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] && c.name != "help" {
			return c.run(stdio{ctx: st.ctx, in: st.in, out: st.out, err: st.out}, []string{"-h"})
		}
	}
	if args[0] == "help" {
		usage(st.out)
		return exitOK
	}
	fmt.Fprintf(st.err, "switchboard help: unknown command %q\n\n", args[0])
	usage(st.err)
	return exitUsage
}

func cmdVersion(st stdio, args []string) int {
	if len(args) > 0 {
		fmt.Fprintln(st.err, "usage: switchboard version")
		return exitUsage
	}
	v := version
	goVersion := ""
	if info, ok := debug.ReadBuildInfo(); ok {
		goVersion = info.GoVersion
		if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
	}
	if goVersion != "" {
		fmt.Fprintf(st.out, "switchboard %s (%s)\n", v, goVersion)
	} else {
		fmt.Fprintf(st.out, "switchboard %s\n", v)
	}
	return exitOK
}

// newFlags makes a command's flag set; its usage goes to st.err and names
// the command's arguments.
func newFlags(st stdio, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("switchboard "+name, flag.ContinueOnError)
	fs.SetOutput(st.err)
	var c command
	for _, cc := range commands {
		if cc.name == name {
			c = cc
		}
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: switchboard %s %s\n\n%s.\n", name, c.args, upperFirst(c.summary))
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses flags that may come before, between or after the
// positional arguments ("--" ends the flags). It returns the positional
// arguments, or the exit code to return: 0 after -h, 2 for a bad flag.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
