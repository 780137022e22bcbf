package blocks_test

import (
	"strings"
	"testing"
	"time"
)

// berlin is Europe/Berlin; t0 (10:00 UTC) is 11:00 there.
func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	return loc
}

func TestWaitUntilForms(t *testing.T) {
	loc := berlin(t)
	for _, tc := range []struct {
		until string
		due   time.Time
	}{
		{`'"12:30"'`, time.Date(2026, 3, 2, 12, 30, 0, 0, loc)},
		{`'"09:00"'`, time.Date(2026, 3, 3, 9, 0, 0, 0, loc)},
		{`'"11:00"'`, time.Date(2026, 3, 3, 11, 0, 0, 0, loc)},
		{`'"2026-03-05 08:15"'`, time.Date(2026, 3, 5, 8, 15, 0, 0, loc)},
		{`'"2026-03-05"'`, time.Date(2026, 3, 5, 0, 0, 0, 0, loc)},
		{`'"2026-03-05T08:15:00Z"'`, time.Date(2026, 3, 5, 8, 15, 0, 0, time.UTC)},
		{`'date("2026-04-01 10:00:00")'`, time.Date(2026, 4, 1, 10, 0, 0, 0, loc)},
		{`now + duration("90m")`, t0.Add(90 * time.Minute)},
		{`1772460000`, time.Unix(1772460000, 0)},
		{`'"2026-03-29 03:30"'`, time.Date(2026, 3, 29, 3, 30, 0, 0, loc)},
	} {
		c := newChat(t, `
timezone: Europe/Berlin
skills:
  /start:
    - text: waiting
    - waituntil: `+tc.until+`
    - text: time has come
`)
		want(t, c.say("hi"), "waiting")
		if len(c.Timers) != 1 || !c.Timers[0].Due.Equal(tc.due) {
			t.Fatalf("until %s: timers %+v, want due %s", tc.until, c.Timers, tc.due)
		}
		want(t, c.say("ignored"))
		want(t, c.wait(c.Timers[0].Due.Sub(c.Now)-time.Second))
		want(t, c.wait(time.Second), "time has come")
	}
}

func TestWaitUntilPastContinues(t *testing.T) {
	for _, until := range []string{`'"2026-03-01"'`, `'"2026-03-02 10:59"'`, `0`, `now`} {
		c := newChat(t, `
timezone: Europe/Berlin
skills:
  /start:
    - waituntil: `+until+`
    - text: at once
`)
		want(t, c.say("hi"), "at once")
		if len(c.Timers) != 0 || c.Session.Wait != nil {
			t.Fatalf("until %s: still waits: %+v", until, c.Timers)
		}
	}
}

func TestWaitUntilInterruptible(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - waituntil: '"18:00"'
      interruptible: true
    - text: evening
  /default:
    - text: default
`)
	c.say("hi")
	want(t, c.say("hello"), "default")
	want(t, c.wait(24*time.Hour))
}

func TestWaitUntilUnparseableFails(t *testing.T) {
	for _, until := range []string{`'"next tuesday"'`, `true`, `nil`} {
		c := newChat(t, `
skills:
  /start:
    - waituntil: `+until+`
  /_error:
    - text: "{{ error.message }}"
`)
		got := c.say("hi")
		if len(got) != 1 || !strings.HasPrefix(got[0], "WAITUNTIL: until ") || !strings.Contains(got[0], `"2026-05-01 09:00", "2026-05-01", "09:00"`) {
			t.Fatalf("until %s: bot said %q", until, got)
		}
	}
}

func TestWaitUntilLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - waituntil: 'date('
`)
	if !strings.Contains(errs, `test.yaml:5:23: expression "date(" does not compile`) {
		t.Fatalf("errors: %s", errs)
	}
}
