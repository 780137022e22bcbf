package metrics

import (
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/runtime/pipeline"
)

// Runtime holds the metrics of a Switchboard server.
type Runtime struct {
	Registry *Registry

	// MessagesIn and MessagesOut count stored messages by channel.
	MessagesIn  *CounterVec
	MessagesOut *CounterVec
	// StepSeconds is the time from a message's arrival to the commit of
	// its step (the answer of the REST channel).
	StepSeconds *Histogram
	// TimerLag is how late timers fire against their due time.
	TimerLag *Histogram
	// OpenSockets is the number of open web chat sockets: the web chat
	// adds one on open and subtracts one on close.
	OpenSockets *Gauge
	// HTTPRequests counts HTTP requests by route and status;
	// HTTPSeconds times them by route.
	HTTPRequests *CounterVec
	HTTPSeconds  *HistogramVec
	// RateLimited counts requests refused with 429, by limit ("ip",
	// "contact").
	RateLimited *CounterVec

	mu     sync.Mutex
	outbox func() float64

	httpMu   sync.RWMutex
	httpKids map[httpKey]*Counter
	httpDur  map[string]*Histogram
}

type httpKey struct {
	route  string
	status int
}

// LatencyBuckets are the step and HTTP latency buckets, in seconds: 100 µs
// to about 6.5 s.
var LatencyBuckets = ExpBuckets(0.0001, 2, 17)

// LagBuckets are the timer lag buckets, in seconds: 10 ms to about 10 min.
var LagBuckets = ExpBuckets(0.01, 2, 17)

// NewRuntime registers Switchboard's metrics in a new registry.
func NewRuntime() *Runtime {
	r := NewRegistry()
	m := &Runtime{Registry: r, httpKids: map[httpKey]*Counter{}, httpDur: map[string]*Histogram{}}
	m.MessagesIn = r.NewCounterVec("switchboard_messages_in_total", "Inbound messages stored, by channel.", "channel")
	m.MessagesOut = r.NewCounterVec("switchboard_messages_out_total", "Outbound messages stored, by channel.", "channel")
	m.StepSeconds = r.NewHistogram("switchboard_step_duration_seconds", "Time from a message's arrival to the commit of its step.", LatencyBuckets)
	r.NewGaugeFunc("switchboard_outbox_depth", "Outbound messages waiting to be sent.", func() float64 {
		m.mu.Lock()
		fn := m.outbox
		m.mu.Unlock()
		if fn == nil {
			return 0
		}
		return fn()
	})
	m.TimerLag = r.NewHistogram("switchboard_timer_lag_seconds", "How late timers fire after their due time.", LagBuckets)
	m.OpenSockets = r.NewGauge("switchboard_open_sockets", "Open web chat sockets.")
	m.HTTPRequests = r.NewCounterVec("switchboard_http_requests_total", "HTTP requests by route and status.", "route", "status")
	m.HTTPSeconds = r.NewHistogramVec("switchboard_http_request_duration_seconds", "HTTP request handling time by route.", LatencyBuckets, "route")
	m.RateLimited = r.NewCounterVec("switchboard_rate_limited_total", "Requests refused with 429, by limit.", "limit")
	registerProcess(r)
	return m
}

// SetOutboxDepth sets the callback the outbox depth gauge reads at each
// scrape.
func (m *Runtime) SetOutboxDepth(fn func() float64) {
	m.mu.Lock()
	m.outbox = fn
	m.mu.Unlock()
}

// Message counts one stored message; direction is "in" or "out".
func (m *Runtime) Message(channel, direction string) {
	if direction == "in" {
		m.MessagesIn.With(channel).Inc()
	} else {
		m.MessagesOut.With(channel).Inc()
	}
}

// Committed records a durable step of the pipeline: its messages, the
// time from arrival to commit, and for a timer how late it fired. It is the
// pipeline's OnCommit hook (atomics only: it never blocks a shard).
func (m *Runtime) Committed(c pipeline.Committed) {
	for i := range c.Messages {
		m.Message(c.Messages[i].Channel, c.Messages[i].Direction)
	}
	if c.Latency > 0 {
		m.StepSeconds.Observe(c.Latency.Seconds())
	}
	if c.Timer != nil {
		m.ObserveTimer(c.Timer.Due, c.At)
	}
}

// ObserveTimer records that a timer due at due fired at now.
func (m *Runtime) ObserveTimer(due, now time.Time) {
	lag := now.Sub(due).Seconds()
	if lag < 0 {
		lag = 0
	}
	m.TimerLag.Observe(lag)
}

// HTTPRequest returns the request counter of a route and status, from a
// cache so the hot path does not build label strings.
func (m *Runtime) HTTPRequest(route string, status int) *Counter {
	k := httpKey{route, status}
	m.httpMu.RLock()
	c := m.httpKids[k]
	m.httpMu.RUnlock()
	if c != nil {
		return c
	}
	c = m.HTTPRequests.With(route, strconv.Itoa(status))
	m.httpMu.Lock()
	m.httpKids[k] = c
	m.httpMu.Unlock()
	return c
}

// HTTPDuration returns the request duration histogram of a route, cached.
func (m *Runtime) HTTPDuration(route string) *Histogram {
	m.httpMu.RLock()
	h := m.httpDur[route]
	m.httpMu.RUnlock()
	if h != nil {
		return h
	}
	h = m.HTTPSeconds.With(route)
	m.httpMu.Lock()
	m.httpDur[route] = h
	m.httpMu.Unlock()
	return h
}
