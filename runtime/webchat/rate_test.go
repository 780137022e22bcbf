package webchat_test

import (
	"fmt"
	"testing"

	"github.com/switchboard-bots/switchboard/runtime/webchat"
)

// TestNoRateLimit: with NoRateLimit a connection may send far more than a
// burst at once, and every message is taken; the default (Rate 0) still
// limits.
func TestNoRateLimit(t *testing.T) {
	const n = 30
	for _, c := range []struct {
		name    string
		rate    float64
		limited bool
	}{
		{"no limit", webchat.NoRateLimit, false},
		{"default", 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := setup(t, func(cfg *webchat.Config) { cfg.Rate = c.rate })
			cl := e.connect("", 0)
			for i := range n {
				cl.say(fmt.Sprintf("m%d", i), "hi")
			}
			acks, limited := 0, 0
			for acks+limited < n {
				switch f := cl.next(); f.Type {
				case "ack":
					acks++
				case "error":
					if f.Code != "rate_limited" {
						t.Fatalf("%+v", f)
					}
					limited++
				}
			}
			if c.limited != (limited > 0) || acks+limited != n {
				t.Fatalf("%d acked, %d rate limited", acks, limited)
			}
		})
	}
}
