package schema_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/convo"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/schema"
)

// TestCheckedInFilesAreCurrent fails when a block Spec changed and the
// generated files were not written again.
func TestCheckedInFilesAreCurrent(t *testing.T) {
	for _, c := range []struct {
		file string
		want []byte
	}{
		{schema.File, schema.Generate()},
		{schema.ReferenceFile, schema.Reference()},
	} {
		got, err := os.ReadFile(filepath.Join("..", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s is stale: run `go generate ./schema` and commit the result", c.file)
		}
	}
	if !bytes.Equal(schema.Bytes(), schema.Generate()) {
		t.Errorf("embedded schema is stale: run `go generate ./schema`")
	}
}

func TestSchemaIsValidJSONSchema(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(schema.Generate(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Fatalf("$schema = %v", doc["$schema"])
	}
	defs := doc["$defs"].(map[string]any)
	for _, typ := range flows.BlockTypes() {
		if _, ok := defs["block_"+typ]; !ok {
			t.Errorf("schema has no definition for block %s", typ)
		}
	}
}

// TestBlockExamplesRun loads every block's documented example as a bot and
// runs it with a first message: it must load without errors and no block
// may fail.
func TestBlockExamplesRun(t *testing.T) {
	for _, s := range flows.BlockSpecs() {
		t.Run(s.Type, func(t *testing.T) {
			if strings.TrimSpace(s.Example) == "" {
				t.Fatalf("block %s has no example", s.Type)
			}
			if !strings.Contains(s.Example, s.Type+":") {
				t.Fatalf("the example of %s does not use the block", s.Type)
			}
			src := "id: example\nskills:\n" + indentLines(s.Example, "  ")
			bot, ds := flows.Load(s.Type+".example.yaml", []byte(src))
			if bot == nil {
				t.Fatalf("example does not load:\n%s\n%s", ds.Error(), src)
			}
			c := convo.New(bot, engine.New(nil), &flows.Contact{ID: "c1", Name: "Ann"}, t0)
			var failed []string
			c.OnSprint = func(sp *flows.Sprint) {
				for _, tr := range sp.Trace {
					if tr.Error != "" {
						failed = append(failed, tr.Type+": "+tr.Error)
					}
				}
			}
			if _, err := c.Say("hi"); err != nil {
				t.Fatal(err)
			}
			if len(failed) > 0 {
				t.Fatalf("example failed: %v", failed)
			}
		})
	}
}

func indentLines(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}
