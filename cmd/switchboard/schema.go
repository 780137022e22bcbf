package main

import (
	"fmt"

	"github.com/switchboard-bots/switchboard/flows"
)

// cmdSchema prints the JSON Schema of bot files, derived from the block
// types this binary was built with.
func cmdSchema(st stdio, args []string) int {
	fs := newFlags(st, "schema")
	pos, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		fs.Usage()
		return exitUsage
	}
	if _, err := st.out.Write(flows.SchemaJSON()); err != nil {
		fmt.Fprintln(st.err, "switchboard schema:", err)
		return exitFail
	}
	return exitOK
}
