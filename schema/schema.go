// Package schema holds the JSON Schema of bot files and the block
// reference, both generated from the block Specs. They are checked in so
// that editors and readers have them without building; `go generate
// ./schema` writes them again and a test fails when they are stale.
package schema

import (
	_ "embed"

	// Every block type must be registered before the schema is rendered.
	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
)

//go:generate go run ./gen

// File is the checked-in path of the schema, relative to the repository root.
const File = "schema/bot.schema.json"

// ReferenceFile is the checked-in block reference, relative to the root.
const ReferenceFile = "docs/blocks.md"

//go:embed bot.schema.json
var checkedIn []byte

// Bytes returns the schema as checked in (what the binary serves).
func Bytes() []byte { return checkedIn }

// Generate renders the schema from the registered block Specs.
func Generate() []byte { return flows.SchemaJSON() }
