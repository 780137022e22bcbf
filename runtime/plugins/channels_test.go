package plugins

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/plugins/host"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// TestFetchMediaOfABotsChannel: an attachment is fetched through the
// plugin of the bot's channel it came by, as that bot's instance.
func TestFetchMediaOfABotsChannel(t *testing.T) {
	h := startTestPlugin(t, "testchan", "")
	st, err := store.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	bot, ds := flows.Load("b.yaml", []byte(`id: b
channels:
  - type: testchan
    name: tc
    config: {token: tok-b}
skills:
  /start:
    - text: hi
`))
	if bot == nil {
		t.Fatal(ds.Error())
	}
	bots := map[string]*flows.Bot{"b": bot}
	// The test plugin polls: what it receives goes through a pipeline.
	p := pipeline.New(pipeline.Config{Store: st, Engine: engine.New(nil), Shards: 2})
	p.SetBots(bots)
	p.Start()
	chans := New(Config{Host: h, Pipeline: p, Store: st, Log: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		chans.Close(ctx)
		p.Close(ctx)
		st.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if errs := chans.SetBots(ctx, bots); len(errs) > 0 {
		t.Fatal(errs)
	}

	if !chans.FetchesMedia("b", "tc") || chans.FetchesMedia("b", "nope") || chans.FetchesMedia("other", "tc") {
		t.Error("FetchesMedia: only bot b's channel tc fetches media")
	}
	r, info, err := chans.FetchMedia(ctx, "b", "tc", "tp:receipt")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(data) != "file:receipt" || info.Name != "receipt.txt" {
		t.Fatalf("FetchMedia = %q, %+v, %v", data, info, err)
	}
	if _, _, err := chans.FetchMedia(ctx, "other", "tc", "tp:receipt"); !errors.Is(err, host.ErrNoMedia) {
		t.Errorf("FetchMedia of a channel the bot does not have = %v", err)
	}
}
