// Package metrics is a small Prometheus registry written by hand: counters
// and gauges with labels, histograms with fixed buckets, and a handler that
// writes the text exposition format (version 0.0.4).
//
// The hot path is a few atomic operations: resolve a labelled child once
// (With) and keep the pointer; Inc, Add, Set and Observe never lock.
package metrics

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/valyala/fasthttp"
)

// ContentType is the content type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Registry holds metric families in registration order.
type Registry struct {
	mu       sync.Mutex
	families []*family
	names    map[string]bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{names: map[string]bool{}} }

type kind string

const (
	kindCounter   kind = "counter"
	kindGauge     kind = "gauge"
	kindHistogram kind = "histogram"
)

// family is one metric name with its children, one per label set.
type family struct {
	name, help string
	kind       kind
	labels     []string
	buckets    []float64 // histograms

	mu       sync.RWMutex
	children map[string]*child // by joined label values
	fn       func() float64    // gauge set by a callback
}

type child struct {
	values []string
	c      Counter
	g      Gauge
	h      *Histogram
}

func (r *Registry) register(f *family) *family {
	if !validName(f.name) {
		panic("metrics: invalid metric name " + strconv.Quote(f.name))
	}
	for _, l := range f.labels {
		if !validName(l) || strings.HasPrefix(l, "__") || l == "le" {
			panic("metrics: invalid label name " + strconv.Quote(l))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[f.name] {
		panic("metrics: " + f.name + " registered twice")
	}
	r.names[f.name] = true
	f.children = map[string]*child{}
	r.families = append(r.families, f)
	return f
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

// child returns the child for label values, creating it once.
func (f *family) child(values []string) *child {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", f.name, len(f.labels), len(values)))
	}
	key := strings.Join(values, "\xff")
	f.mu.RLock()
	c := f.children[key]
	f.mu.RUnlock()
	if c != nil {
		return c
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c = f.children[key]; c == nil {
		c = &child{values: append([]string(nil), values...)}
		if f.kind == kindHistogram {
			c.h = newHistogram(f.buckets)
		}
		f.children[key] = c
	}
	return c
}

// Counter is a monotonically increasing count.
type Counter struct{ v atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Value returns the count.
func (c *Counter) Value() uint64 { return c.v.Load() }

// Gauge is a value that goes up and down.
type Gauge struct{ bits atomic.Uint64 }

// Set sets the value.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Add adds d (which may be negative).
func (g *Gauge) Add(d float64) {
	for {
		old := g.bits.Load()
		if g.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// Inc adds one; Dec subtracts one.
func (g *Gauge) Inc() { g.Add(1) }
func (g *Gauge) Dec() { g.Add(-1) }

// Value returns the value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

// Histogram counts observations in fixed buckets (upper bounds, ascending).
type Histogram struct {
	bounds []float64
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	count  atomic.Uint64
	sum    Gauge
}

func newHistogram(bounds []float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe records v.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v: v <= le
	h.counts[i].Add(1)
	h.sum.Add(v)
	h.count.Add(1)
}

// Count returns the number of observations.
func (h *Histogram) Count() uint64 { return h.count.Load() }

// CounterVec is a counter family with labels.
type CounterVec struct{ f *family }

// GaugeVec is a gauge family with labels.
type GaugeVec struct{ f *family }

// HistogramVec is a histogram family with labels.
type HistogramVec struct{ f *family }

// NewCounter registers a counter without labels.
func (r *Registry) NewCounter(name, help string) *Counter {
	return r.NewCounterVec(name, help).With()
}

// NewCounterVec registers a counter with the given label names.
func (r *Registry) NewCounterVec(name, help string, labels ...string) *CounterVec {
	return &CounterVec{r.register(&family{name: name, help: help, kind: kindCounter, labels: labels})}
}

// With returns the counter of these label values; keep it to skip the
// lookup on the hot path.
func (v *CounterVec) With(values ...string) *Counter { return &v.f.child(values).c }

// NewGauge registers a gauge without labels.
func (r *Registry) NewGauge(name, help string) *Gauge { return r.NewGaugeVec(name, help).With() }

// NewGaugeVec registers a gauge with the given label names.
func (r *Registry) NewGaugeVec(name, help string, labels ...string) *GaugeVec {
	return &GaugeVec{r.register(&family{name: name, help: help, kind: kindGauge, labels: labels})}
}

// With returns the gauge of these label values.
func (v *GaugeVec) With(values ...string) *Gauge { return &v.f.child(values).g }

// NewGaugeFunc registers a gauge whose value fn returns at each scrape. fn
// must be safe to call from any goroutine and fast.
func (r *Registry) NewGaugeFunc(name, help string, fn func() float64) {
	r.register(&family{name: name, help: help, kind: kindGauge, fn: fn})
}

// NewCounterFunc registers a counter whose value fn returns at each
// scrape, for counts kept elsewhere (the Go runtime's). fn must be safe to
// call from any goroutine and fast, and never go down.
func (r *Registry) NewCounterFunc(name, help string, fn func() float64) {
	r.register(&family{name: name, help: help, kind: kindCounter, fn: fn})
}

// NewHistogram registers a histogram without labels. buckets are upper
// bounds; they are sorted and +Inf is implied.
func (r *Registry) NewHistogram(name, help string, buckets []float64) *Histogram {
	return r.NewHistogramVec(name, help, buckets).With()
}

// NewHistogramVec registers a histogram with the given label names.
func (r *Registry) NewHistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	b := append([]float64(nil), buckets...)
	sort.Float64s(b)
	for len(b) > 0 && math.IsInf(b[len(b)-1], 1) {
		b = b[:len(b)-1]
	}
	return &HistogramVec{r.register(&family{name: name, help: help, kind: kindHistogram, labels: labels, buckets: b})}
}

// With returns the histogram of these label values.
func (v *HistogramVec) With(values ...string) *Histogram { return v.f.child(values).h }

// ExpBuckets returns n bucket bounds start, start*factor, ...
func ExpBuckets(start, factor float64, n int) []float64 {
	b := make([]float64, n)
	for i := range b {
		b[i] = start
		start *= factor
	}
	return b
}

// WriteTo writes every metric in the text exposition format.
func (r *Registry) WriteTo(buf *bytes.Buffer) {
	r.mu.Lock()
	fams := append([]*family(nil), r.families...)
	r.mu.Unlock()
	for _, f := range fams {
		f.write(buf)
	}
}

func (f *family) write(buf *bytes.Buffer) {
	fmt.Fprintf(buf, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.kind)
	if f.fn != nil {
		buf.WriteString(f.name)
		buf.WriteByte(' ')
		buf.WriteString(formatFloat(f.fn()))
		buf.WriteByte('\n')
		return
	}
	f.mu.RLock()
	kids := make([]*child, 0, len(f.children))
	for _, c := range f.children {
		kids = append(kids, c)
	}
	f.mu.RUnlock()
	sort.Slice(kids, func(i, j int) bool { return lessValues(kids[i].values, kids[j].values) })
	for _, c := range kids {
		switch f.kind {
		case kindCounter:
			sample(buf, f.name, f.labels, c.values, "", "", strconv.FormatUint(c.c.Value(), 10))
		case kindGauge:
			sample(buf, f.name, f.labels, c.values, "", "", formatFloat(c.g.Value()))
		case kindHistogram:
			h := c.h
			// _count is the +Inf bucket, so the two always agree even
			// while observations race with the scrape.
			var cum uint64
			for i, b := range h.bounds {
				cum += h.counts[i].Load()
				sample(buf, f.name+"_bucket", f.labels, c.values, "le", formatFloat(b), strconv.FormatUint(cum, 10))
			}
			cum += h.counts[len(h.bounds)].Load()
			sample(buf, f.name+"_bucket", f.labels, c.values, "le", "+Inf", strconv.FormatUint(cum, 10))
			sample(buf, f.name+"_sum", f.labels, c.values, "", "", formatFloat(h.sum.Value()))
			sample(buf, f.name+"_count", f.labels, c.values, "", "", strconv.FormatUint(cum, 10))
		}
	}
}

func lessValues(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func sample(buf *bytes.Buffer, name string, labels, values []string, extraName, extraValue, v string) {
	buf.WriteString(name)
	if len(labels) > 0 || extraName != "" {
		buf.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(l)
			buf.WriteString(`="`)
			buf.WriteString(escapeLabel(values[i]))
			buf.WriteByte('"')
		}
		if extraName != "" {
			if len(labels) > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(extraName)
			buf.WriteString(`="`)
			buf.WriteString(extraValue)
			buf.WriteByte('"')
		}
		buf.WriteByte('}')
	}
	buf.WriteByte(' ')
	buf.WriteString(v)
	buf.WriteByte('\n')
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Handler serves GET /metrics.
func (r *Registry) Handler(ctx *fasthttp.RequestCtx) {
	var buf bytes.Buffer
	r.WriteTo(&buf)
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType(ContentType)
	ctx.SetBody(buf.Bytes())
}
