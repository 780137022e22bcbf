package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

// fakeBotAPI serves getUpdates as the Bot API documents it: the updates
// not yet confirmed (an update is confirmed by a later call with an offset
// above its id), or, when there are none, an empty list after the long
// polling timeout. It records the offsets asked for and the callback
// queries answered.
type fakeBotAPI struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	updates   []json.RawMessage
	ids       []int64
	confirmed int64
	rateLimit int // answer this many getUpdates with 429 first
	offsets   []int64
	answered  []string
}

func newFakeBotAPI(t *testing.T, updates ...string) *fakeBotAPI {
	f := &fakeBotAPI{t: t}
	for _, u := range updates {
		var h struct {
			UpdateID int64 `json:"update_id"`
		}
		if err := json.Unmarshal([]byte(u), &h); err != nil {
			t.Fatal(err)
		}
		f.updates = append(f.updates, json.RawMessage(u))
		f.ids = append(f.ids, h.UpdateID)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBotAPI) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	var p struct {
		Offset          int64    `json:"offset"`
		Timeout         int      `json:"timeout"`
		AllowedUpdates  []string `json:"allowed_updates"`
		CallbackQueryID string   `json:"callback_query_id"`
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&p) != nil {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"ok": false, "error_code": 400, "description": "Bad Request"}`))
		return
	}
	switch r.URL.Path {
	case botPath + "answerCallbackQuery":
		f.mu.Lock()
		f.answered = append(f.answered, p.CallbackQueryID)
		f.mu.Unlock()
		w.Write([]byte(`{"ok": true, "result": true}`))
	case botPath + "getUpdates":
		if !reflect.DeepEqual(p.AllowedUpdates, []string{"message", "callback_query"}) || p.Timeout != 1 {
			f.t.Errorf("getUpdates %+v: want allowed_updates [message callback_query] and timeout 1", p)
		}
		f.mu.Lock()
		f.offsets = append(f.offsets, p.Offset)
		if f.rateLimit > 0 {
			f.rateLimit--
			f.mu.Unlock()
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}`))
			return
		}
		f.confirmed = max(f.confirmed, p.Offset)
		var out []json.RawMessage
		for i, id := range f.ids {
			if id >= f.confirmed {
				out = append(out, f.updates[i])
			}
		}
		f.mu.Unlock()
		if len(out) == 0 {
			select {
			case <-time.After(time.Duration(p.Timeout) * time.Second):
			case <-r.Context().Done():
				return
			}
			out = []json.RawMessage{}
		}
		b, _ := json.Marshal(map[string]any{"ok": true, "result": out})
		w.Write(b)
	default:
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"ok": false, "error_code": 404, "description": "Not Found"}`))
	}
}

func (f *fakeBotAPI) state() (offsets []int64, answered []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.offsets...), append([]string(nil), f.answered...)
}

// TestPoll: updates are handed over one by one; one the runtime refuses
// is not confirmed and comes again in the next round; a rate limit is
// waited out; a tapped button is answered once stored.
func TestPoll(t *testing.T) {
	api := newFakeBotAPI(t, textUpdate, callbackUpdate, editedUpdate)
	api.rateLimit = 1
	ch := New()
	ch.pollTimeout = time.Second
	p := sdktest.Start(t, ch)
	if err := p.Configure("tg", json.RawMessage(`{"token": "`+token+`", "mode": "polling", "api_url": "`+api.srv.URL+`"}`)); err != nil {
		t.Fatal(err)
	}

	// Round 1: the runtime cannot store the first message; the round ends.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	err := p.Receive(ctx, "tg", func(context.Context, sdk.Received) error { return errors.New("the store is down") })
	if err == nil || ctx.Err() != nil {
		t.Fatalf("first round = %v, want the refusal to end it", err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("the rate limit was not waited out (%v)", d)
	}

	// Round 2: everything is stored and confirmed.
	var (
		mu  sync.Mutex
		got []sdk.InboundMessage
	)
	ctx2, cancel2 := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- p.Receive(ctx2, "tg", func(_ context.Context, r sdk.Received) error {
			mu.Lock()
			got = append(got, r.Messages...)
			mu.Unlock()
			return nil
		})
	}()
	for {
		offsets, answered := api.state()
		if len(offsets) > 0 && offsets[len(offsets)-1] == 10005 && len(answered) == 1 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("second round ended: %v", err)
		case <-ctx.Done():
			t.Fatalf("updates were not confirmed; offsets %v, answered %v", offsets, answered)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel2()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("second round = %v, want context.Canceled", err)
	}

	offsets, answered := api.state()
	// 429, then offset 0 twice (the refused round and the next), then past
	// the last update (the edit is skipped, and confirmed with the rest).
	if want := []int64{0, 0, 0, 10005}; len(offsets) < 4 || !reflect.DeepEqual(offsets[:4], want) {
		t.Errorf("offsets = %v, want them to start %v", offsets, want)
	}
	for _, o := range offsets[4:] {
		if o != 10005 {
			t.Errorf("offsets = %v: the offset went back", offsets)
		}
	}
	if !reflect.DeepEqual(answered, []string{"4382bfdwdsb323b2d9"}) {
		t.Errorf("answered callback queries = %v", answered)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []sdk.InboundMessage{textMsg, callbackMsg}; !reflect.DeepEqual(got, want) {
		t.Errorf("messages = %+v, want %+v", got, want)
	}
	p.CheckSecrets(t, []string{token})
}

// TestPollWebhookMode: an instance in webhook mode polls nothing.
func TestPollWebhookMode(t *testing.T) {
	prov := sdktest.NewProvider(t)
	p := sdktest.Start(t, New())
	if err := p.Configure("tg", json.RawMessage(setup.Config(prov.URL))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := p.Receive(ctx, "tg", func(context.Context, sdk.Received) error {
		t.Error("a webhook-mode instance emitted")
		return nil
	})
	// The stream ends with the deadline (reported as ctx's error or as a
	// timed-out call, depending on which side notices first).
	if err == nil {
		t.Error("Receive returned nil, want the deadline")
	}
	prov.Verify(t) // no request at all
}
