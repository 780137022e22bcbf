package metrics_test

import (
	"context"
	"testing"
	"time"

	_ "github.com/switchboard-bots/switchboard/blocks"
	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/metrics"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// TestPipelineWiring is the wiring serve uses: messages are counted from
// the pipeline's OnCommit, once durable.
func TestPipelineWiring(t *testing.T) {
	m := metrics.NewRuntime()
	st, err := store.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bot, ds := flows.Load("b.yaml", []byte("id: b\nskills:\n  /start:\n    - text: one\n    - text: two\n"))
	if bot == nil {
		t.Fatal(ds)
	}
	p := pipeline.New(pipeline.Config{Store: st, Engine: engine.New(nil), Shards: 2, OnCommit: m.Committed})
	p.SetBots(map[string]*flows.Bot{"b": bot})
	p.Start()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	defer p.Close(ctx)
	if _, err := p.Handle(ctx, pipeline.Inbound{Bot: "b", Channel: "rest", Sender: "u", Content: flows.Content{Text: "hi"}, Replied: true}); err != nil {
		t.Fatal(err)
	}
	if in, out := m.MessagesIn.With("rest").Value(), m.MessagesOut.With("rest").Value(); in != 1 || out != 2 {
		t.Fatalf("in %d out %d", in, out)
	}
	if n := m.StepSeconds.Count(); n != 1 {
		t.Fatalf("%d latencies observed, want 1", n)
	}
}
