package flows_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
)

var update = flag.Bool("update", false, "write the golden files of the diagnostics tests")

// TestDiagnostics loads every bot in testdata/diagnostics and compares what
// the validator says with its .golden file. Run with -update to accept new
// output after reading the diff.
func TestDiagnostics(t *testing.T) {
	files, _ := filepath.Glob("testdata/diagnostics/*.yaml")
	more, _ := filepath.Glob("testdata/diagnostics/*.json")
	files = append(files, more...)
	if len(files) < 10 {
		t.Fatalf("found only %d test bots", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, ds := flows.LoadFile(f)
			got := ds.Error()
			if got != "" {
				got += "\n"
			}
			golden := strings.TrimSuffix(f, filepath.Ext(f)) + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./flows -run TestDiagnostics -update)", err)
			}
			if got != string(want) {
				t.Errorf("diagnostics differ\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}

func TestCleanBotLoads(t *testing.T) {
	bot, ds := flows.LoadFile("testdata/diagnostics/clean.yaml")
	if bot == nil || len(ds) != 0 {
		t.Fatalf("clean bot: %v", ds)
	}
	if bot.Location.String() != "Europe/Berlin" || bot.Settings.FallbackAfter != 3 {
		t.Fatalf("settings not read: %v %+v", bot.Location, bot.Settings)
	}
	if in := bot.MatchIntent("Where is my order?"); in == nil || in.Name != "track" {
		t.Fatalf("intent by example: %v", in)
	}
	if in := bot.MatchIntent("I want to TRACK it"); in == nil || in.Name != "track" {
		t.Fatalf("intent by pattern: %v", in)
	}
	if in := bot.MatchIntent("hello there"); in != nil {
		t.Fatalf("unrelated text matched %s", in.Name)
	}
	if e := bot.ExtractEntities("order 12345 please"); e["order"] != "12345" {
		t.Fatalf("entities: %v", e)
	}
}

func TestDiagnosticsAreSortedAndPositioned(t *testing.T) {
	_, ds := flows.LoadFile("testdata/diagnostics/targets.yaml")
	for i, d := range ds {
		if d.Line < 1 || d.Col < 1 {
			t.Errorf("diagnostic without position: %v", d)
		}
		if i > 0 && (ds[i-1].Line > d.Line || (ds[i-1].Line == d.Line && ds[i-1].Col > d.Col)) {
			t.Errorf("not sorted: %v before %v", ds[i-1], d)
		}
	}
}
