package sdktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

// recorder is a testing.TB that keeps failures instead of failing.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Error(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprint(args...))
}
func (r *recorder) Errorf(f string, args ...any) { r.Error(fmt.Sprintf(f, args...)) }

func post(t *testing.T, url, body string, header map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestProviderReportsEveryMismatch(t *testing.T) {
	p := sdktest.NewProvider(t)
	p.Expect(
		sdktest.Mock{Path: "/a", JSON: `{"x": 1, "y": [1, 2]}`, Header: map[string]string{"Authorization": "Bearer k"}, Response: `{"ok": true}`},
		sdktest.Mock{Path: "/b", Status: 201},
		sdktest.Mock{Method: "GET", Path: "/never"},
	)
	// Matches /a: key order and spacing do not matter.
	if st := post(t, p.URL+"/a", `{"y":[1,2],"x":1}`, map[string]string{"Authorization": "Bearer k"}); st != 200 {
		t.Fatalf("status %d", st)
	}
	// /b with a wrong header would still be answered; here: right.
	if st := post(t, p.URL+"/b", ``, nil); st != 201 {
		t.Fatalf("status %d", st)
	}
	// Nobody expects /c.
	if st := post(t, p.URL+"/c", `{}`, nil); st != http.StatusNotImplemented {
		t.Fatalf("status %d", st)
	}
	r := &recorder{TB: t}
	p.Verify(r)
	if len(r.errs) != 2 || !strings.Contains(r.errs[0], "unexpected request POST /c") || !strings.Contains(r.errs[1], "GET /never was not called") {
		t.Fatalf("errors = %q", r.errs)
	}

	p.Expect(sdktest.Mock{Path: "/a", JSON: `{"x": 1}`, Header: map[string]string{"Authorization": "Bearer k"}})
	post(t, p.URL+"/a", `{"x": 2}`, map[string]string{"Authorization": "Bearer nope"})
	r = &recorder{TB: t}
	p.Verify(r)
	if len(r.errs) != 2 {
		t.Fatalf("errors = %q", r.errs)
	}
}

// leaky logs its configuration: the secrets check must catch it.
type leaky struct{ sdk.Channel }

func (leaky) Manifest() sdk.ChannelManifest { return sdk.ChannelManifest{Name: "leaky"} }
func (leaky) Configure(_ context.Context, instance string, config json.RawMessage) error {
	sdk.Logger().Info("configured", "instance", instance, "config", string(config))
	return nil
}

func TestSecretsInLogsAreCaught(t *testing.T) {
	p := sdktest.Start(t, leaky{})
	if err := p.Configure("x", json.RawMessage(`{"token": "hunter2-very-secret"}`)); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	p.CheckSecrets(r, []string{"hunter2-very-secret"})
	if len(r.errs) != 1 || strings.Contains(r.errs[0], "hunter2") {
		t.Fatalf("errors = %q", r.errs)
	}
	r = &recorder{TB: t}
	p.CheckSecrets(r, []string{"not-there"}, "an answer")
	if len(r.errs) != 0 {
		t.Fatalf("errors = %q", r.errs)
	}
}

// poller emits two batches and reports what the host said.
type poller struct {
	sdk.Channel
	results chan error
}

func (p *poller) Manifest() sdk.ChannelManifest { return sdk.ChannelManifest{Name: "poller"} }
func (p *poller) Poll(ctx context.Context, instance string, emit func(context.Context, sdk.Received) error) error {
	for i := 1; i <= 2; i++ {
		err := emit(ctx, sdk.Received{
			Messages: []sdk.InboundMessage{{Sender: instance, ID: fmt.Sprint(i), Content: sdk.Content{Text: "m", Buttons: []sdk.Button{{Title: "b", Payload: "p"}}}, Time: time.UnixMilli(1700000000000).UTC()}},
			Statuses: []sdk.StatusUpdate{{ExternalID: "e", Status: sdk.StatusRead}},
		})
		p.results <- err
	}
	<-ctx.Done()
	return nil
}

func TestReceiveAcknowledgesEachEvent(t *testing.T) {
	impl := &poller{results: make(chan error, 2)}
	p := sdktest.Start(t, impl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []sdk.Received
	done := make(chan error, 1)
	go func() {
		done <- p.Receive(ctx, "inst", func(_ context.Context, r sdk.Received) error {
			got = append(got, r)
			if len(got) == 1 {
				return errors.New("store is full")
			}
			return nil
		})
	}()
	first, second := <-impl.results, <-impl.results
	if first == nil || !strings.Contains(first.Error(), "store is full") || !sdk.IsRetryable(first) {
		t.Errorf("first emit = %v, want the host's refusal", first)
	}
	if second != nil {
		t.Errorf("second emit = %v", second)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Receive = %v", err)
	}
	if len(got) != 2 || got[1].Messages[0].ID != "2" || got[1].Messages[0].Sender != "inst" ||
		got[1].Messages[0].Content.Buttons[0].Payload != "p" || !got[1].Messages[0].Time.Equal(time.UnixMilli(1700000000000)) ||
		got[1].Statuses[0].Status != sdk.StatusRead {
		t.Errorf("got %+v", got)
	}
}

func TestReceiveOfANonPollingChannel(t *testing.T) {
	p := sdktest.Start(t, leaky{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.Receive(ctx, "x", func(context.Context, sdk.Received) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "does not poll") {
		t.Fatalf("Receive = %v", err)
	}
}

type calc struct{}

func (calc) Manifest() sdk.IntegrationManifest {
	return sdk.IntegrationManifest{Name: "calc", Version: "0.1.0", Actions: []sdk.Action{
		{Name: "add", Description: "adds", Params: json.RawMessage(`{"type":"object"}`), Result: json.RawMessage(`{"type":"object"}`)},
	}}
}

func (calc) Invoke(ctx context.Context, action string, params json.RawMessage, conv sdk.Conversation) (json.RawMessage, error) {
	switch action {
	case "add":
		var p struct{ A, B float64 }
		if err := json.Unmarshal(params, &p); err != nil {
			return nil, sdk.Final(err)
		}
		return json.Marshal(map[string]any{"sum": p.A + p.B, "bot": conv.Bot, "vip": conv.Attributes["vip"], "id": conv.InvocationID})
	case "busy":
		return nil, sdk.Retryable(errors.New("busy"), 2*time.Second)
	case "boom":
		panic("boom")
	}
	return nil, sdk.Final(fmt.Errorf("no action %q", action))
}

func TestIntegrationRoundTrip(t *testing.T) {
	p := sdktest.Start(t, calc{})
	m, err := p.IntegrationManifest()
	if err != nil || m.Name != "calc" || len(m.Actions) != 1 || string(m.Actions[0].Result) != `{"type":"object"}` {
		t.Fatalf("manifest = %+v, %v", m, err)
	}
	if err := p.ConfigureIntegration(json.RawMessage(`{}`)); err != nil {
		t.Fatalf("configure: %v", err)
	}
	// The invocation id reaches the plugin as the test gives it.
	res, err := p.Invoke("add", json.RawMessage(`{"A": 1, "B": 2}`), sdk.Conversation{Bot: "b1", Attributes: map[string]any{"vip": true}, InvocationID: "inv-7"})
	if err != nil || string(res) != `{"bot":"b1","id":"inv-7","sum":3,"vip":true}` {
		t.Fatalf("add = %s, %v", res, err)
	}
	var se *sdk.Error
	_, err = p.Invoke("busy", nil, sdk.Conversation{})
	if !errors.As(err, &se) || !se.Retryable || se.RetryAfter != 2*time.Second {
		t.Fatalf("busy = %v", err)
	}
	// A panic is a final error, and the plugin lives on.
	_, err = p.Invoke("boom", nil, sdk.Conversation{})
	if !errors.As(err, &se) || se.Retryable || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("boom = %v", err)
	}
	if !strings.Contains(p.Logs(), "plugin panicked") {
		t.Errorf("the panic was not logged")
	}
	if _, err := p.Invoke("add", json.RawMessage(`{"A": 1}`), sdk.Conversation{}); err != nil {
		t.Fatalf("after the panic: %v", err)
	}
}

// files is a channel that fetches media out of memory: "f:<name>" is a
// file of this package's table, anything else is not its own.
type files struct {
	sdk.Channel
	closed chan string
}

var table = map[string]struct {
	data string
	info sdk.MediaInfo
	err  error
}{
	"big":   {data: strings.Repeat("0123456789abcdef", 20000), info: sdk.MediaInfo{ContentType: "image/png", Name: "big.png", Size: 320000}},
	"small": {data: "hello", info: sdk.MediaInfo{ContentType: "text/plain"}},
	"empty": {info: sdk.MediaInfo{Name: "empty.txt"}},
	"liar":  {data: "12345", info: sdk.MediaInfo{Size: 10}},
	"huge":  {info: sdk.MediaInfo{Size: 26 << 20}},
	"gone":  {err: sdk.Final(errors.New("the provider has no such file (404)"))},
	"busy":  {err: sdk.Retryable(errors.New("the provider is busy (503)"), 0)},
}

func (files) Manifest() sdk.ChannelManifest                            { return sdk.ChannelManifest{Name: "files"} }
func (files) Configure(context.Context, string, json.RawMessage) error { return nil }

func (f files) FetchMedia(ctx context.Context, instance, url string) (io.ReadCloser, sdk.MediaInfo, error) {
	name, ok := strings.CutPrefix(url, "f:")
	if name == "hang" {
		return &hanging{closed: f.closed, stop: make(chan struct{})}, sdk.MediaInfo{}, nil
	}
	e, known := table[name]
	if !ok || !known {
		return nil, sdk.MediaInfo{}, fmt.Errorf("%w: %q", sdk.ErrUnknownMedia, url)
	}
	if e.err != nil {
		return nil, sdk.MediaInfo{}, e.err
	}
	return &tracked{Reader: strings.NewReader(e.data), name: name, closed: f.closed}, e.info, nil
}

// tracked tells when it is closed.
type tracked struct {
	io.Reader
	name   string
	closed chan string
}

func (r *tracked) Close() error { r.closed <- r.name; return nil }

// hanging is a provider that went quiet: Read blocks until Close.
type hanging struct {
	closed chan string
	stop   chan struct{}
}

func (h *hanging) Read([]byte) (int, error) { <-h.stop; return 0, errors.New("closed") }
func (h *hanging) Close() error             { close(h.stop); h.closed <- "hang"; return nil }

func TestFetchMedia(t *testing.T) {
	impl := files{closed: make(chan string, 10)}
	sdktest.RunMedia(t, impl, sdktest.Setup{}, []sdktest.MediaCase{
		{Label: "a file of several chunks", URL: "f:big", WantBody: table["big"].data, WantInfo: table["big"].info},
		{Label: "a small file of unknown size", URL: "f:small", WantBody: "hello", WantInfo: sdk.MediaInfo{ContentType: "text/plain"}},
		{Label: "an empty file", URL: "f:empty", WantInfo: sdk.MediaInfo{Name: "empty.txt"}},
		{Label: "not its own", URL: "https://example.com/f:big", WantError: "not an attachment of this channel", WantUnknown: true},
		{Label: "a size that lies", URL: "f:liar", WantError: "not the 10 its MediaInfo.Size says"},
		{Label: "too large", URL: "f:huge", WantError: "larger than the limit of 26214400 bytes"},
		{Label: "the provider's 404", URL: "f:gone", WantError: "no such file"},
		{Label: "the provider's 503", URL: "f:busy", WantError: "busy", WantRetryable: true},
	})
	// Every reader handed over was closed: big, small, empty, liar, huge.
	for range 5 {
		select {
		case <-impl.closed:
		case <-time.After(5 * time.Second):
			t.Fatal("a reader was not closed")
		}
	}
}

func TestFetchMediaEndsWithItsDeadline(t *testing.T) {
	impl := files{closed: make(chan string, 1)}
	p := sdktest.Start(t, impl)
	defer func(d time.Duration) { sdktest.CallTimeout = d }(sdktest.CallTimeout)
	sdktest.CallTimeout = 300 * time.Millisecond
	began := time.Now()
	_, _, err := p.FetchMedia("x", "f:hang")
	if err == nil || !sdk.IsRetryable(err) || time.Since(began) > 5*time.Second {
		t.Fatalf("FetchMedia = %v after %v", err, time.Since(began))
	}
	select {
	case <-impl.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the reader of a fetch past its deadline was not closed")
	}
}

func TestFetchMediaOfAChannelThatDoesNot(t *testing.T) {
	p := sdktest.Start(t, leaky{})
	if _, _, err := p.FetchMedia("x", "f:big"); err == nil || !strings.Contains(err.Error(), "does not fetch media") {
		t.Fatalf("FetchMedia = %v", err)
	}
}

// queued is a channel whose Send waits for the test to release it, or for
// its context to end, and reports which.
type queued struct {
	sdk.Channel
	release chan struct{}
	ended   chan error
}

func (queued) Manifest() sdk.ChannelManifest                            { return sdk.ChannelManifest{Name: "queued"} }
func (queued) Configure(context.Context, string, json.RawMessage) error { return nil }
func (q queued) HandleWebhook(_ context.Context, _ string, r *sdk.WebhookRequest) (*sdk.WebhookResult, error) {
	return &sdk.WebhookResult{Status: http.StatusAccepted, Body: r.Body}, nil
}
func (q queued) Send(ctx context.Context, _ string, m *sdk.OutboundMessage) (string, error) {
	if m.Recipient != "slow" {
		return "sent:" + m.Recipient, nil
	}
	select {
	case <-q.release:
		return "sent:slow", nil
	case <-ctx.Done():
		q.ended <- ctx.Err()
		return "", ctx.Err()
	}
}

// Calls share one stream without waiting for each other: a slow send does
// not hold up the sends and webhooks behind it, and each gets its own
// answer.
func TestCallsDoNotWaitForEachOther(t *testing.T) {
	q := queued{release: make(chan struct{}), ended: make(chan error, 1)}
	p := sdktest.Start(t, q)
	slow := make(chan string, 1)
	go func() {
		id, _ := p.Send("i", &sdk.OutboundMessage{Recipient: "slow"})
		slow <- id
	}()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			to := fmt.Sprint("u", i)
			if id, err := p.Send("i", &sdk.OutboundMessage{Recipient: to}); err != nil || id != "sent:"+to {
				t.Errorf("send %s: %q, %v", to, id, err)
			}
			body := fmt.Sprint("hook ", i)
			if res, err := p.HandleWebhook("i", &sdk.WebhookRequest{Method: http.MethodPost, Body: []byte(body)}); err != nil || res.Status != http.StatusAccepted || string(res.Body) != body {
				t.Errorf("webhook %d: %+v, %v", i, res, err)
			}
		}()
	}
	wg.Wait()
	select {
	case id := <-slow:
		t.Fatalf("the slow send finished before it was released: %q", id)
	default:
	}
	close(q.release)
	if id := <-slow; id != "sent:slow" {
		t.Fatalf("slow send: %q", id)
	}
}

// A call the host gives up on (its deadline passed) ends in the plugin too:
// its context is done.
func TestCallDeadlineReachesThePlugin(t *testing.T) {
	old := sdktest.CallTimeout
	sdktest.CallTimeout = 100 * time.Millisecond
	defer func() { sdktest.CallTimeout = old }()
	q := queued{release: make(chan struct{}), ended: make(chan error, 1)}
	p := sdktest.Start(t, q)
	if _, err := p.Send("i", &sdk.OutboundMessage{Recipient: "slow"}); !sdk.IsRetryable(err) {
		t.Fatalf("a send past its deadline: %v", err)
	}
	select {
	case err := <-q.ended:
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			t.Fatalf("the plugin's context ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the plugin's call went on after the host gave up")
	}
}
