package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/convo"
)

// cmdValidate loads bot files and prints every diagnostic, sorted by file
// and position. Files named *.test.yaml are checked as conversation test
// files, their bot included. It exits 1 when there are errors (or warnings
// with --strict).
func cmdValidate(st stdio, args []string) int {
	fs := newFlags(st, "validate")
	strict := fs.Bool("strict", false, "treat warnings as errors: exit 1 when there are any")
	asJSON := fs.Bool("json", false, "print the diagnostics as a JSON array of {file, line, col, severity, message}")
	files, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(files) == 0 {
		fmt.Fprintln(st.err, "switchboard validate: no files given")
		fs.Usage()
		return exitUsage
	}
	var all flows.Diagnostics
	seen := map[flows.Diagnostic]bool{}
	for _, f := range files {
		var ds flows.Diagnostics
		if isTestFile(f) {
			_, ds = convo.ParseTestFile(f)
		} else {
			_, ds = flows.LoadFile(f)
		}
		for _, d := range ds {
			// A bot shared by several test files reports once.
			if !seen[d] {
				seen[d] = true
				all = append(all, d)
			}
		}
	}
	all.Sort()
	errs, warns := 0, 0
	for _, d := range all {
		if d.Severity == flows.SevError {
			errs++
		} else {
			warns++
		}
	}
	if *asJSON {
		out := all
		if out == nil {
			out = flows.Diagnostics{}
		}
		enc := json.NewEncoder(st.out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			fmt.Fprintln(st.err, "switchboard validate:", err)
			return exitFail
		}
	} else {
		for _, d := range all {
			fmt.Fprintln(st.out, d.String())
		}
	}
	fmt.Fprintf(st.err, "%s, %s, %s\n", plural(len(files), "file"), plural(errs, "error"), plural(warns, "warning"))
	if errs > 0 || (*strict && warns > 0) {
		return exitFail
	}
	return exitOK
}

// isTestFile reports whether a path names a conversation test file.
func isTestFile(path string) bool {
	return strings.HasSuffix(path, ".test.yaml") || strings.HasSuffix(path, ".test.yml")
}
