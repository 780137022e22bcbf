package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/convo"
)

// columnWidth caps each column of the expected | actual display.
const columnWidth = 60

// cmdTest runs conversation test files and prints PASS or FAIL per test
// (with its file),
// what failed side by side, and a closing "N passed, N failed" line. A file
// that does not parse, or whose bot does not load, counts as one failure.
func cmdTest(st stdio, args []string) int {
	fset := newFlags(st, "test")
	verbose := fset.Bool("v", false, "print every test's conversation, and the bots' warnings")
	runRe := fset.String("run", "", "run only the tests whose names match this regular expression")
	paths, code, ok := parseArgs(fset, args)
	if !ok {
		return code
	}
	opts := convo.RunOptions{}
	if *runRe != "" {
		re, err := regexp.Compile(*runRe)
		if err != nil {
			fmt.Fprintf(st.err, "switchboard test: --run: %v\n", err)
			return exitUsage
		}
		opts.Filter = re
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := findTestFiles(paths)
	if err != nil {
		fmt.Fprintf(st.err, "switchboard test: %v\n", err)
		return exitFail
	}
	if len(files) == 0 {
		fmt.Fprintf(st.err, "switchboard test: no *.test.yaml files in %s\n", strings.Join(paths, ", "))
		return exitFail
	}
	passed, failed, skipped := 0, 0, 0
	for _, f := range files {
		res, err := convo.RunFile(f, opts)
		if err != nil {
			failed++
			fmt.Fprintf(st.out, "FAIL %s: the file cannot run\n", f)
			var ds flows.Diagnostics
			if errors.As(err, &ds) {
				for _, d := range ds {
					fmt.Fprintf(st.out, "    %s\n", d)
				}
			} else {
				fmt.Fprintf(st.out, "    %v\n", err)
			}
			continue
		}
		if *verbose {
			for _, w := range res.Warnings {
				fmt.Fprintf(st.out, "    %s\n", w)
			}
		}
		for i := range res.Tests {
			tr := &res.Tests[i]
			switch {
			case tr.Skipped:
				skipped++
				reason := ""
				if tr.SkipReason != "" {
					reason = " (" + tr.SkipReason + ")"
				}
				fmt.Fprintf(st.out, "SKIP %s: %s%s\n", f, tr.Name, reason)
			case tr.Failure != nil:
				failed++
				fmt.Fprintf(st.out, "FAIL %s: %s\n", f, tr.Name)
				printFailure(st.out, tr.Failure)
				if *verbose {
					printTranscript(st.out, tr.Transcript)
				}
			default:
				passed++
				fmt.Fprintf(st.out, "PASS %s: %s\n", f, tr.Name)
				if *verbose {
					printTranscript(st.out, tr.Transcript)
				}
			}
		}
	}
	if opts.Filter != nil && passed+failed+skipped == 0 {
		fmt.Fprintf(st.err, "switchboard test: no test matches --run %s\n", *runRe)
	}
	summary := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if skipped > 0 {
		summary += fmt.Sprintf(", %d skipped", skipped)
	}
	fmt.Fprintln(st.out, summary)
	if failed > 0 {
		return exitFail
	}
	return exitOK
}

func printFailure(w io.Writer, f *convo.Failure) {
	fmt.Fprintf(w, "    %s:%d:%d: step %d (%s): %s\n", f.File, f.Line, f.Col, f.Step, f.Kind, f.Message)
	if len(f.Expected) > 0 || len(f.Actual) > 0 {
		fmt.Fprint(w, convo.FormatColumns(f.Expected, f.Actual, "      ", columnWidth))
	}
}

func printTranscript(w io.Writer, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w, "    conversation:")
	for _, l := range lines {
		fmt.Fprintf(w, "      %s\n", l)
	}
}

// findTestFiles expands the arguments: a file stands for itself, a
// directory for every *.test.yaml (or .test.yml) under it, hidden
// directories skipped. The result is sorted and without duplicates.
func findTestFiles(paths []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			add(p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if isTestFile(d.Name()) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		for _, f := range found {
			add(f)
		}
	}
	return out, nil
}
