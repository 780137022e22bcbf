package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// runLoadHook drives a plugin channel's webhook (--hook /hooks/{bot}/{channel})
// with the example echo channel's requests, {"id", "from", "text"}: each
// counts once the server answered 200, that is once the message is stored
// (the runtime answers a webhook after the pipeline committed what it
// carried). The bot's replies leave through the outbox and the plugin to
// the provider; with --sink the load tool is that provider, and reports how
// many replies it got.
func runLoadHook(ctx context.Context, cfg loadConfig, progress io.Writer) (*loadReport, error) {
	var sink *replySink
	if cfg.Sink != "" {
		var err error
		if sink, err = startSink(cfg.Sink); err != nil {
			return nil, err
		}
		defer sink.close()
	}
	prefix := runID()
	hc := hostClient(cfg)
	defer hc.CloseIdleConnections()
	fmt.Fprintf(progress, "load: http://%s%s, %d users, %d connections, up to %d messages or %s\n", cfg.hostname, cfg.Hook, cfg.Users, cfg.Conns, cfg.Messages, cfg.Duration)
	r := newLoadRun(ctx, cfg)
	defer r.cancel()
	var wg sync.WaitGroup
	lats := make([][]uint32, cfg.Conns)
	start, stopClock := r.startClock()
	defer stopClock()
	for w := 0; w < cfg.Conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			lat := make([]uint32, 0, 1024)
			body := make([]byte, 0, 256)
			// Worker w owns users w, w+conns, …: one message in flight
			// per user, as a person writes.
			for i := 0; r.claim(); i++ {
				user := w + (i%max(1, cfg.Users/cfg.Conns))*cfg.Conns
				if user >= cfg.Users {
					user = w
				}
				sender := prefix + strconv.Itoa(user)
				body = append(body[:0], `{"id":"`...)
				body = append(body, prefix...)
				body = strconv.AppendInt(body, int64(w), 10)
				body = append(body, '-')
				body = strconv.AppendInt(body, int64(i), 10)
				body = append(body, `","from":`...)
				body = strconv.AppendQuote(body, sender)
				body = append(body, `,"text":`...)
				body = strconv.AppendQuote(body, "hello "+strconv.Itoa(i))
				body = append(body, '}')
				req.Reset()
				req.SetRequestURI(cfg.Hook)
				req.Header.SetHost(cfg.hostname)
				req.Header.SetMethod(fasthttp.MethodPost)
				req.Header.SetContentType("application/json")
				req.SetBody(body)
				resp.Reset()
				t0 := time.Now()
				err := hc.DoTimeout(req, resp, cfg.Timeout)
				d := time.Since(t0)
				if err == nil && resp.StatusCode() != fasthttp.StatusOK {
					err = fmt.Errorf("status %d: %s", resp.StatusCode(), resp.Body())
				}
				if err != nil {
					r.fail("user "+sender, i, err)
					continue
				}
				lat = appendLatency(lat, d)
			}
			lats[w] = lat
		}(w)
	}
	wg.Wait()
	rep := r.report(lats, time.Since(start))
	rep.Endpoint = cfg.Hook
	if sink != nil {
		rep.SinkReplies = sink.settle(ctx, rep.Messages, 30*time.Second)
		rep.Sink = true
	}
	return rep, nil
}

// replySink is a provider for the echo channel on loopback: it answers
// every POST {"to", "text"} with an id, and counts them. It is a fasthttp
// server, as light as the load tool's client, so that the provider's share
// of the machine (which a real provider does not take) stays small.
type replySink struct {
	srv  *fasthttp.Server
	n    atomic.Int64
	done chan struct{}
}

func startSink(addr string) (*replySink, error) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--sink %q: a loopback address, like 127.0.0.1:18099", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--sink: %w", err)
	}
	s := &replySink{done: make(chan struct{})}
	s.srv = &fasthttp.Server{ReadTimeout: 30 * time.Second, MaxRequestBodySize: 1 << 20, Handler: func(ctx *fasthttp.RequestCtx) {
		n := s.n.Add(1)
		ctx.SetContentType("application/json")
		fmt.Fprintf(ctx, `{"id":"sink-%d"}`, n)
	}}
	go func() {
		defer close(s.done)
		s.srv.Serve(l)
	}()
	return s, nil
}

// settle waits until want replies came, or they stop coming for two
// seconds, or wait passed, and returns how many came.
func (s *replySink) settle(ctx context.Context, want int64, wait time.Duration) int64 {
	deadline := time.Now().Add(wait)
	last, lastChange := s.n.Load(), time.Now()
	for n := last; n < want && time.Now().Before(deadline) && time.Since(lastChange) < 2*time.Second && ctx.Err() == nil; n = s.n.Load() {
		if n != last {
			last, lastChange = n, time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s.n.Load()
}

func (s *replySink) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s.srv.ShutdownWithContext(ctx)
	<-s.done
}
