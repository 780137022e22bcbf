package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

const cleanBot = `id: clean
skills:
  /start:
    - text: Hello
`

// warnBot loads with one warning: a skill nothing enters.
const warnBot = `id: warn
skills:
  /start:
    - text: Hello
  orphan:
    - text: Nobody comes here
`

// badBot has two errors, out of order in the file's text when sorted by
// kind, to check sorting by position.
const badBot = `id: bad
skills:
  /start:
    - text: Hello
      buttons: [{title: Go, goto: nowhere}]
    - txt: Hi
`

func TestValidateClean(t *testing.T) {
	dir := t.TempDir()
	f := write(t, dir, "clean.yaml", cleanBot)
	r := runCmd(t, "", "validate", f)
	r.want(t, 0)
	if r.out != "" {
		t.Errorf("stdout %q, want nothing", r.out)
	}
	if r.err != "1 file, 0 errors, 0 warnings\n" {
		t.Errorf("summary %q", r.err)
	}
}

func TestValidateErrorsSorted(t *testing.T) {
	dir := t.TempDir()
	bad := write(t, dir, "b_bad.yaml", badBot)
	warn := write(t, dir, "a_warn.yaml", warnBot)
	clean := write(t, dir, "c_clean.yaml", cleanBot)
	r := runCmd(t, "", "validate", bad, clean, warn)
	r.want(t, 1)
	lines := strings.Split(strings.TrimSuffix(r.out, "\n"), "\n")
	want := []string{
		warn + `:5:3: warning: skill "orphan" is never entered: no intent, goto, button or event leads to it`,
		bad + `:5:35: unknown goto target "nowhere": no skill or block id has that name`,
		bad + `:6:7: unknown block type "txt" (did you mean "text"?)`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.out, strings.Join(want, "\n"))
	}
	if r.err != "3 files, 2 errors, 1 warning\n" {
		t.Errorf("summary %q", r.err)
	}
}

func TestValidateStrict(t *testing.T) {
	dir := t.TempDir()
	warn := write(t, dir, "warn.yaml", warnBot)
	runCmd(t, "", "validate", warn).want(t, 0)
	r := runCmd(t, "", "validate", warn, "--strict")
	r.want(t, 1)
	if !strings.Contains(r.out, "warning: skill \"orphan\"") {
		t.Errorf("stdout:\n%s", r.out)
	}
}

func TestValidateJSON(t *testing.T) {
	dir := t.TempDir()
	bad := write(t, dir, "bad.yaml", badBot)
	r := runCmd(t, "", "validate", "--json", bad)
	r.want(t, 1)
	var ds []flows.Diagnostic
	if err := json.Unmarshal([]byte(r.out), &ds); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.out)
	}
	if len(ds) != 2 || ds[0].File != bad || ds[0].Line != 5 || ds[0].Col != 35 || ds[0].Severity != flows.SevError || ds[1].Line != 6 {
		t.Errorf("diagnostics: %+v", ds)
	}
	if r.err != "1 file, 2 errors, 0 warnings\n" {
		t.Errorf("summary %q", r.err)
	}

	clean := write(t, dir, "clean.yaml", cleanBot)
	r = runCmd(t, "", "validate", "--json", clean)
	r.want(t, 0)
	if strings.TrimSpace(r.out) != "[]" {
		t.Errorf("clean JSON output %q, want []", r.out)
	}
}

func TestValidateMissingFileAndNoArgs(t *testing.T) {
	r := runCmd(t, "", "validate", "/nonexistent/bot.yaml")
	r.want(t, 1)
	if !strings.HasPrefix(r.out, "/nonexistent/bot.yaml:1:1: ") {
		t.Errorf("stdout %q", r.out)
	}
	r = runCmd(t, "", "validate")
	r.want(t, 2)
	if !strings.Contains(r.err, "no files given") {
		t.Errorf("stderr %q", r.err)
	}
}

// TestValidateTestFile checks a conversation test file: its own keys and
// its bot.
func TestValidateTestFile(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bot.yaml", warnBot)
	good := write(t, dir, "good.test.yaml", "bot: bot.yaml\ntests:\n  - steps: [{user: hi}, {bot: Hello}]\n")
	bad := write(t, dir, "bad.test.yaml", "bot: bot.yaml\ntests:\n  - steps: [{usr: hi}]\n")
	r := runCmd(t, "", "validate", good, bad)
	r.want(t, 1)
	want := bad + `:3:14: unknown step "usr" (did you mean "user"?); steps are: user, bot, event, wait, no_reply, handover, handover_end, notification, expect` + "\n" +
		dir + `/bot.yaml:5:3: warning: skill "orphan" is never entered: no intent, goto, button or event leads to it` + "\n"
	if r.out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.out, want)
	}
	if r.err != "2 files, 1 error, 1 warning\n" {
		t.Errorf("summary %q", r.err)
	}
}
