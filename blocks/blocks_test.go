package blocks_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

// TestEveryBlockHasTests fails when a block type is registered without a
// test file of its own that puts the block in a bot.
func TestEveryBlockHasTests(t *testing.T) {
	for _, typ := range flows.BlockTypes() {
		src, err := os.ReadFile(typ + "_test.go")
		if err != nil {
			t.Errorf("block %s has no test file %s_test.go", typ, typ)
			continue
		}
		if !regexp.MustCompile(`(?m)^\s*- ` + typ + `:`).Match(src) {
			t.Errorf("%s_test.go never uses a %s block in a bot", typ, typ)
		}
	}
}

// TestFieldsNeverNameABlockType: a block's type is the one key of its
// mapping that names a block type, so no field may be named like one.
func TestFieldsNeverNameABlockType(t *testing.T) {
	types := map[string]bool{}
	for _, typ := range flows.BlockTypes() {
		types[typ] = true
	}
	// Blocks that arrive with later work are reserved now.
	for _, typ := range []string{"email", "sms", "nlp", "action"} {
		types[typ] = true
	}
	for _, s := range flows.BlockSpecs() {
		for _, f := range s.Fields {
			if f.Name != s.Primary && types[f.Name] {
				t.Errorf("block %s has a field %q, which names a block type", s.Type, f.Name)
			}
		}
	}
}
