package blocks

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// WaitUntil pauses the flow until a point in time.
type WaitUntil struct {
	Until         flows.Expr `yaml:"until" required:"true" doc:"When to continue: an expression giving a date (date(\"2026-05-01 09:00:00\")), text like \"2026-05-01 09:00\", \"2026-05-01\", \"09:00\" (the next time the clock shows it) or an RFC 3339 time, or unix seconds. Times without a zone are in the bot's time zone."`
	Interruptible bool       `yaml:"interruptible" default:"false" doc:"When true, a message from the user cancels the wait and is answered as usual, and the blocks below do not run. When false, messages during the wait are ignored."`
}

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "waituntil",
		Title:       "WAITUNTIL",
		Category:    "Time",
		Description: "Pauses the flow until a date and time, or the next time the clock shows a time of day, in the bot's time zone; a time already past continues at once.",
		Primary:     "until",
		New:         func() flows.Block { return &WaitUntil{} },
		Example: `/start:
  - text: Our office is closed. I'll message you when it opens at 9.
  - waituntil: '"09:00"'
  - text: Good morning! We're open now. How can we help?`,
	})
}

var (
	_ flows.Enterer = (*WaitUntil)(nil)
	_ flows.Resumer = (*WaitUntil)(nil)
)

// untilForms lists what WAITUNTIL accepts, for its error message.
const untilForms = `a date (date("2026-05-01 09:00:00")), text like "2026-05-01 09:00", "2026-05-01", "09:00" or an RFC 3339 time like "2026-05-01T09:00:00+02:00", or unix seconds`

// Enter computes the due time and waits for it.
func (b *WaitUntil) Enter(r flows.Run) flows.Result {
	v, err := r.Eval(&b.Until)
	if err != nil {
		return flows.Fail(err)
	}
	t, err := untilTime(v, r.Now(), r.Location())
	if err != nil {
		return flows.Failf("WAITUNTIL: until %s: %v; it takes %s", b.Until.Src, err, untilForms)
	}
	if !t.After(r.Now()) {
		return flows.Next()
	}
	return flows.Suspend(flows.WaitSpec{Kind: flows.WaitTimer, Until: t, Interruptible: b.Interruptible})
}

// Resume continues when the time has come.
func (b *WaitUntil) Resume(r flows.Run, ev *flows.Event) flows.Result { return flows.Next() }

// untilTime turns the value of an until expression into a time.
func untilTime(v any, now time.Time, loc *time.Location) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case int:
		return time.Unix(int64(x), 0), nil
	case int64:
		return time.Unix(x, 0), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e13 {
			return time.Time{}, fmt.Errorf("%v is not a usable number of unix seconds", x)
		}
		sec, frac := math.Modf(x)
		return time.Unix(int64(sec), int64(frac*1e9)), nil
	case string:
		s := strings.TrimSpace(x)
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
		for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return t, nil
			}
		}
		for _, layout := range []string{"15:04", "15:04:05"} {
			if c, err := time.Parse(layout, s); err == nil {
				n := now.In(loc)
				t := time.Date(n.Year(), n.Month(), n.Day(), c.Hour(), c.Minute(), c.Second(), 0, loc)
				if !t.After(n) {
					t = time.Date(n.Year(), n.Month(), n.Day()+1, c.Hour(), c.Minute(), c.Second(), 0, loc)
				}
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("%q is not a time", x)
	case nil:
		return time.Time{}, fmt.Errorf("the expression gave nothing")
	}
	return time.Time{}, fmt.Errorf("%v (%T) is not a time", v, v)
}
