package host_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/host"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// benchHost starts a host with the plugins, AutoMTLS on as always.
func benchHost(b *testing.B, files ...string) *host.Host {
	b.Helper()
	dir := b.TempDir()
	for _, f := range files {
		if err := symlink(f, dir); err != nil {
			b.Fatal(err)
		}
	}
	h, err := host.New(host.Config{Dir: dir, Log: discardLog()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.Close(ctx)
	})
	return h
}

// measure runs op b.N times (after a warm-up) and reports the median and
// the 99th percentile of one round trip.
func measure(b *testing.B, op func() error) {
	b.Helper()
	for i := 0; i < 200; i++ {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkSendRoundTrip is one Send through the host to a channel plugin
// that does no I/O: the cost of the plugin protocol itself (host call
// wrapper, timeout, gRPC over AutoMTLS on a Unix socket, the SDK's
// dispatch).
func BenchmarkSendRoundTrip(b *testing.B) {
	h := benchHost(b, bins.channel)
	ch, _ := h.Channel("testchan")
	ctx := context.Background()
	if err := ch.Configure(ctx, "a", json.RawMessage(`{"token": "t"}`)); err != nil {
		b.Fatal(err)
	}
	m := &sdk.OutboundMessage{ID: "m1", Recipient: "u1", Content: sdk.Content{Text: "hello"}}
	measure(b, func() error {
		_, err := ch.Send(ctx, "a", m)
		return err
	})
}

// BenchmarkInvokeRoundTrip is one trivial integration action.
func BenchmarkInvokeRoundTrip(b *testing.B) {
	h := benchHost(b, bins.integration)
	in, _ := h.Integration("testint")
	ctx := context.Background()
	params := json.RawMessage(`{"Text": "x"}`)
	measure(b, func() error {
		_, err := in.Invoke(ctx, "act", params, sdk.Conversation{Bot: "b", InvocationID: "i"})
		return err
	})
}

// BenchmarkEchoSend is one Send through the example echo channel, which
// POSTs to a no-op provider on loopback: protocol plus the plugin's HTTP
// call.
func BenchmarkEchoSend(b *testing.B) {
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id": "x"}`)
	}))
	defer prov.Close()
	h := benchHost(b, bins.echo)
	ch, _ := h.Channel("echo")
	ctx := context.Background()
	if err := ch.Configure(ctx, "a", json.RawMessage(`{"url": "`+prov.URL+`", "token": "t"}`)); err != nil {
		b.Fatal(err)
	}
	m := &sdk.OutboundMessage{ID: "m1", Recipient: "u1", Content: sdk.Content{Text: "hello"}}
	measure(b, func() error {
		_, err := ch.Send(ctx, "a", m)
		return err
	})
}
