// Command gen writes schema/bot.schema.json and docs/blocks.md from the
// registered block Specs. Run it with `go generate ./schema`.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/switchboard-bots/switchboard/schema"
)

func main() {
	// go generate runs in the package directory: the root is one up.
	root := ".."
	if err := write(filepath.Join(root, schema.File), schema.Generate()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := write(filepath.Join(root, schema.ReferenceFile), schema.Reference()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func write(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
