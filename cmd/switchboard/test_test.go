package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestTestPasses(t *testing.T) {
	r := runCmd(t, "", "test", "testdata/shop.test.yaml")
	r.want(t, 0)
	want := "PASS testdata/shop.test.yaml: salad\nPASS testdata/shop.test.yaml: pizza\n2 passed, 0 failed\n"
	if r.out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.out, want)
	}
}

// TestTestDirectory runs every *.test.yaml under testdata: the failing one
// in more/ fails with expected and actual side by side, the file in a
// hidden directory is skipped.
func TestTestDirectory(t *testing.T) {
	r := runCmd(t, "", "test", "testdata")
	r.want(t, 1)
	want := `FAIL testdata/more/failing.test.yaml: wrong greeting
    testdata/more/failing.test.yaml:6:9: step 2 (bot): the bot's message text differs
      expected           | actual
      -------------------+-------------------
      text: Good morning | text: Hello  (no plan)
                         | buttons: Pizza | Salad | Website
                         | quick replies: Help
PASS testdata/more/failing.test.yaml: right greeting
PASS testdata/shop.test.yaml: salad
PASS testdata/shop.test.yaml: pizza
3 passed, 1 failed
`
	if r.out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.out, want)
	}
}

func TestTestVerboseAndRun(t *testing.T) {
	r := runCmd(t, "", "test", "-v", "testdata", "--run", "^(pizza|wrong greeting)$")
	r.want(t, 1)
	for _, s := range []string{
		"FAIL testdata/more/failing.test.yaml: wrong greeting\n",
		"PASS testdata/shop.test.yaml: pizza\n    conversation:\n      user: hi\n",
		"      wait 10m\n      bot: Still hungry?\n",
		"1 passed, 1 failed\n",
	} {
		if !strings.Contains(r.out, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.out)
		}
	}
	if strings.Contains(r.out, "salad") {
		t.Errorf("--run did not filter:\n%s", r.out)
	}
}

func TestTestBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bot.yaml", "id: b\nskills:\n  /start:\n    - text: Hi\n")
	write(t, dir, "a_ok.test.yaml", "bot: bot.yaml\ntests:\n  - name: ok\n    steps: [{user: x}, {bot: Hi}]\n")
	bad := write(t, dir, "b_bad.test.yaml", "bot: bot.yaml\ntests:\n  - name: typo\n    stepz: []\n")
	syntax := write(t, dir, "c_syntax.test.yaml", "bot: [unclosed\n")
	r := runCmd(t, "", "test", dir)
	r.want(t, 1)
	want := "PASS " + filepath.Join(dir, "a_ok.test.yaml") + ": ok\n" +
		"FAIL " + bad + ": the file cannot run\n" +
		"    " + bad + `:3:5: test "typo" has no steps` + "\n" +
		"    " + bad + `:4:5: unknown key "stepz" in a test (did you mean "steps"?); the keys are: name, contact, now, seed, skip, http, steps` + "\n" +
		"FAIL " + syntax + ": the file cannot run\n" +
		"    " + syntax + ":1:1: YAML syntax: did not find expected ',' or ']'\n" +
		"1 passed, 2 failed\n"
	if r.out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.out, want)
	}
}

func TestTestNothingToRun(t *testing.T) {
	dir := t.TempDir()
	r := runCmd(t, "", "test", dir)
	r.want(t, 1)
	if !strings.Contains(r.err, "no *.test.yaml files") {
		t.Errorf("stderr %q", r.err)
	}
	runCmd(t, "", "test", filepath.Join(dir, "missing.test.yaml")).want(t, 1)
	runCmd(t, "", "test", "--run", "(", "testdata").want(t, 2)

	r = runCmd(t, "", "test", "--run", "no such test", "testdata/shop.test.yaml")
	r.want(t, 0)
	if r.out != "0 passed, 0 failed\n" || !strings.Contains(r.err, "no test matches") {
		t.Errorf("stdout %q, stderr %q", r.out, r.err)
	}
}

func TestFindTestFiles(t *testing.T) {
	files, err := findTestFiles([]string{"testdata", "testdata/shop.test.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	want := "testdata/more/failing.test.yaml testdata/shop.test.yaml"
	if got := strings.Join(files, " "); got != want {
		t.Errorf("files %q, want %q", got, want)
	}
}
