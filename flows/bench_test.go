package flows_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
)

// bigBot writes a bot of n blocks in skills of ten: templated TEXT with
// buttons, LISTEN with validation and timeout, SWITCH with expression cases,
// DATA, in rotation — the mix a large real bot has.
func bigBot(n int) []byte {
	var b strings.Builder
	b.WriteString("id: big\nattributes:\n  email: {type: email}\nskills:\n")
	skills := (n + 9) / 10
	for s := 0; s < skills; s++ {
		name := fmt.Sprintf("skill%d", s)
		if s == 0 {
			name = "/start"
		}
		next := fmt.Sprintf("skill%d", (s+1)%skills)
		if (s+1)%skills == 0 {
			next = "/start"
		}
		fmt.Fprintf(&b, "  %s:\n", name)
		for i := 0; i < 10 && s*10+i < n; i++ {
			switch i % 5 {
			case 0:
				fmt.Fprintf(&b, "    - text: \"Step %d for {{ contact.name ?? 'you' }}: {{ n ?? 0 }}\"\n      buttons: [{title: Next, goto: %s}, {title: Site, url: \"https://example.com/%d\"}]\n", i, next, s)
			case 1:
				fmt.Fprintf(&b, "    - listen: answer%d\n      validate: number\n      min: 1\n      max: 100\n      retry: Please type a number from 1 to 100.\n      timeout: 10m\n", i)
			case 2:
				fmt.Fprintf(&b, "    - switch:\n        - {if: 'answer%d > 50 && contact.email != nil', goto: %s}\n        - {if: 'input matches \"(?i)stop\"', goto: /start}\n", i-1, next)
			case 3:
				fmt.Fprintf(&b, "    - data: {n: '(n ?? 0) + 1', shout: 'upper(input)'}\n")
			case 4:
				fmt.Fprintf(&b, "    - text: [\"Variant A {{ shout }}\", \"Variant B {{ n * 2 }}\"]\n")
			}
		}
	}
	return []byte(b.String())
}

func TestBigBotLoads(t *testing.T) {
	src := bigBot(500)
	bot, ds := flows.Load("big.yaml", src)
	if bot == nil {
		t.Fatal(ds)
	}
	blocks := 0
	for _, s := range bot.Skills {
		blocks += len(s.Blocks)
	}
	if blocks < 500 {
		t.Fatalf("loaded %d blocks", blocks)
	}
}

// BenchmarkLoad500 parses, validates (schema and semantics) and compiles a
// 500-block bot.
func BenchmarkLoad500(b *testing.B) {
	src := bigBot(500)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if bot, ds := flows.Load("big.yaml", src); bot == nil {
			b.Fatal(ds)
		}
	}
}
