package schema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// offline fails every HTTP request, as a machine without network would, so
// the JSON example takes its error branch.
type offline struct{}

func (offline) Do(*http.Request) (*http.Response, error) {
	return nil, errors.New("no network in this test")
}

// TestBlockExamplesRun loads every block's documented example as a bot and
// drives it until the block itself has run: a first message, two replies, every
// event its CATCH skills handle, then two days for timers. The example must
// load without errors, the block must run, and no block may fail.
func TestBlockExamplesRun(t *testing.T) {
	for _, s := range flows.BlockSpecs() {
		t.Run(s.Type, func(t *testing.T) {
			if strings.TrimSpace(s.Example) == "" {
				t.Fatalf("block %s has no example", s.Type)
			}
			src := "id: example\nskills:\n" + indentLines(s.Example, "  ")
			bot, ds := flows.Load(s.Type+".example.yaml", []byte(src))
			if bot == nil {
				t.Fatalf("example does not load:\n%s\n%s", ds.Error(), src)
			}
			if len(ds) > 0 {
				t.Errorf("example has warnings:\n%s", ds.Error())
			}
			eng := engine.New(offline{})
			c := convo.New(bot, eng, &flows.Contact{ID: "c1", Name: "Ann"}, t0)
			c.RoundTrip = convo.SessionRoundTrip
			ran := false
			var failed []string
			c.OnSprint = func(sp *flows.Sprint) {
				for _, tr := range sp.Trace {
					ran = ran || tr.Type == s.Type
					if tr.Error != "" {
						failed = append(failed, tr.Type+": "+tr.Error)
					}
				}
			}
			drive := []func() error{
				func() error { _, err := c.Say("hi"); return err },
				func() error { _, err := c.Say("12345"); return err },
				func() error { _, err := c.Say("ann@example.com"); return err },
			}
			for _, ev := range bot.CaughtEvents() {
				drive = append(drive, func() error { _, err := c.Event(ev, map[string]any{"order": "12345"}); return err })
			}
			drive = append(drive, func() error { _, err := c.Advance(48 * time.Hour); return err })
			for _, d := range drive {
				if err := d(); err != nil {
					t.Fatal(err)
				}
				if ran {
					break
				}
			}
			if !ran {
				t.Fatalf("the example never runs its %s block", s.Title)
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
