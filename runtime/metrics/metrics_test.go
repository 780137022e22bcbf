package metrics

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// parsed is an exposition parsed back: sample "name{labels}" → value, and
// the TYPE of each family.
type parsed struct {
	samples map[string]float64
	types   map[string]string
	help    map[string]string
}

// parse reads the text format strictly enough to catch malformed output.
func parse(t *testing.T, text string) parsed {
	t.Helper()
	p := parsed{samples: map[string]float64{}, types: map[string]string{}, help: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "# HELP ") {
			f := strings.SplitN(line[7:], " ", 2)
			p.help[f[0]] = f[1]
			continue
		}
		if strings.HasPrefix(line, "# TYPE ") {
			f := strings.Fields(line[7:])
			if len(f) != 2 {
				t.Fatalf("bad TYPE line %q", line)
			}
			p.types[f[0]] = f[1]
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("bad sample line %q", line)
		}
		key, val := line[:i], line[i+1:]
		name := key
		if j := strings.IndexByte(key, '{'); j >= 0 {
			if !strings.HasSuffix(key, "}") {
				t.Fatalf("bad labels in %q", line)
			}
			name = key[:j]
			// Every label is name="value" with escapes.
			rest := key[j+1 : len(key)-1]
			for rest != "" {
				eq := strings.Index(rest, `="`)
				if eq <= 0 || !validName(rest[:eq]) {
					t.Fatalf("bad label in %q", line)
				}
				rest = rest[eq+2:]
				k := 0
				for ; k < len(rest) && rest[k] != '"'; k++ {
					if rest[k] == '\\' {
						k++
					}
				}
				if k >= len(rest) {
					t.Fatalf("unterminated label value in %q", line)
				}
				rest = rest[k+1:]
				rest = strings.TrimPrefix(rest, ",")
			}
		}
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
		if p.types[name] == "" && p.types[base] == "" {
			t.Fatalf("sample %q before its TYPE", line)
		}
		var v float64
		switch val {
		case "+Inf":
			v = math.Inf(1)
		default:
			var err error
			if v, err = strconv.ParseFloat(val, 64); err != nil {
				t.Fatalf("bad value in %q", line)
			}
		}
		if _, dup := p.samples[key]; dup {
			t.Fatalf("duplicate sample %q", key)
		}
		p.samples[key] = v
	}
	return p
}

func TestExpositionParsesBack(t *testing.T) {
	r := NewRegistry()
	c := r.NewCounterVec("req_total", "Requests.\nTwo lines \\ here.", "route", "status")
	c.With("/a", "200").Add(3)
	c.With(`we"ird\path`+"\n", "500").Inc()
	g := r.NewGauge("temp", "A gauge.")
	g.Set(1.5)
	g.Add(-0.25)
	r.NewGaugeFunc("depth", "Callback.", func() float64 { return 42 })
	h := r.NewHistogram("lat_seconds", "Latency.", []float64{0.1, 0.01, 1})
	for _, v := range []float64{0.005, 0.01, 0.05, 0.5, 2, 3} {
		h.Observe(v)
	}
	var buf bytes.Buffer
	r.WriteTo(&buf)
	p := parse(t, buf.String())
	want := map[string]float64{
		`req_total{route="/a",status="200"}`:              3,
		`req_total{route="we\"ird\\path\n",status="500"}`: 1,
		`temp`:                          1.25,
		`depth`:                         42,
		`lat_seconds_bucket{le="0.01"}`: 2, // 0.01 is in le=0.01
		`lat_seconds_bucket{le="0.1"}`:  3,
		`lat_seconds_bucket{le="1"}`:    4,
		`lat_seconds_bucket{le="+Inf"}`: 6,
		`lat_seconds_count`:             6,
		`lat_seconds_sum`:               0.005 + 0.01 + 0.05 + 0.5 + 2 + 3,
	}
	for k, v := range want {
		got, ok := p.samples[k]
		if !ok || math.Abs(got-v) > 1e-9 {
			t.Errorf("%s = %v (present %v), want %v\n%s", k, got, ok, v, buf.String())
		}
	}
	if len(p.samples) != len(want) {
		t.Errorf("%d samples, want %d:\n%s", len(p.samples), len(want), buf.String())
	}
	for name, typ := range map[string]string{"req_total": "counter", "temp": "gauge", "depth": "gauge", "lat_seconds": "histogram"} {
		if p.types[name] != typ {
			t.Errorf("TYPE %s = %q, want %q", name, p.types[name], typ)
		}
	}
	if p.help["req_total"] != `Requests.\nTwo lines \\ here.` {
		t.Errorf("HELP escaped as %q", p.help["req_total"])
	}
}

func TestRegistrationChecks(t *testing.T) {
	for _, f := range []func(r *Registry){
		func(r *Registry) { r.NewCounter("bad-name", "") },
		func(r *Registry) { r.NewCounterVec("x", "", "le") },
		func(r *Registry) { r.NewCounter("x", ""); r.NewGauge("x", "") },
		func(r *Registry) { r.NewCounterVec("x", "", "a").With("1", "2") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f(NewRegistry())
		}()
	}
}

// TestConcurrent hammers every kind of metric while scraping; run with
// -race. The totals must be exact.
func TestConcurrent(t *testing.T) {
	m := NewRuntime()
	m.SetOutboxDepth(func() float64 { return 7 })
	const workers, n = 8, 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var scrapes sync.WaitGroup
	scrapes.Add(1)
	go func() {
		defer scrapes.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			var buf bytes.Buffer
			m.Registry.WriteTo(&buf)
			parse(t, buf.String())
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ch := fmt.Sprintf("ch%d", w%3)
			for i := 0; i < n; i++ {
				m.Message(ch, "in")
				m.Message(ch, "out")
				m.StepSeconds.Observe(float64(i%10) / 1000)
				m.OpenSockets.Inc()
				m.OpenSockets.Dec()
				m.HTTPRequest("/x", 200+i%2).Inc()
				m.ObserveTimer(time.Now().Add(-time.Second), time.Now())
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	scrapes.Wait()
	var buf bytes.Buffer
	m.Registry.WriteTo(&buf)
	p := parse(t, buf.String())
	var in float64
	for k, v := range p.samples {
		if strings.HasPrefix(k, "switchboard_messages_in_total{") {
			in += v
		}
	}
	for k, want := range map[string]float64{
		"switchboard_step_duration_seconds_count":                  workers * n,
		"switchboard_timer_lag_seconds_count":                      workers * n,
		"switchboard_open_sockets":                                 0,
		"switchboard_outbox_depth":                                 7,
		`switchboard_http_requests_total{route="/x",status="200"}`: workers * n / 2,
		`switchboard_http_requests_total{route="/x",status="201"}`: workers * n / 2,
	} {
		if p.samples[k] != want {
			t.Errorf("%s = %v, want %v", k, p.samples[k], want)
		}
	}
	if in != workers*n {
		t.Errorf("messages in = %v, want %v", in, workers*n)
	}
}

func TestHandler(t *testing.T) {
	m := NewRuntime()
	m.Message("rest", "in")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: m.Registry.Handler}
	go srv.Serve(l)
	defer srv.Shutdown()
	status, body, err := fasthttp.Get(nil, "http://"+l.Addr().String()+"/metrics")
	if err != nil || status != 200 {
		t.Fatal(status, err)
	}
	p := parse(t, string(body))
	if p.samples[`switchboard_messages_in_total{channel="rest"}`] != 1 {
		t.Fatalf("got\n%s", body)
	}
}

func BenchmarkCounterInc(b *testing.B) {
	c := NewRegistry().NewCounterVec("x", "", "a").With("b")
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
}

func BenchmarkHistogramObserve(b *testing.B) {
	h := NewRegistry().NewHistogram("x", "", LatencyBuckets)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.Observe(0.003)
		}
	})
}

// TestProcessMetrics: the figures an operator sizes memory by are in the
// exposition, with the memory limit the runtime has.
func TestProcessMetrics(t *testing.T) {
	prev := debug.SetMemoryLimit(123 << 20)
	defer debug.SetMemoryLimit(prev)
	runtime.GC()
	m := NewRuntime()
	var buf bytes.Buffer
	m.Registry.WriteTo(&buf)
	p := parse(t, buf.String())
	if got := p.samples["go_gc_gomemlimit_bytes"]; got != 123<<20 {
		t.Errorf("go_gc_gomemlimit_bytes = %v, want %d", got, 123<<20)
	}
	names := []string{"go_memory_used_bytes", "go_gc_heap_live_bytes", "go_memory_stacks_bytes", "go_goroutines"}
	if _, err := residentBytes(); err == nil {
		names = append(names, "process_resident_memory_bytes")
	}
	for _, name := range names {
		if p.samples[name] <= 0 || p.types[name] != "gauge" {
			t.Errorf("%s = %v (%s), want a positive gauge\n%s", name, p.samples[name], p.types[name], buf.String())
		}
	}
	if used, live, stacks := p.samples["go_memory_used_bytes"], p.samples["go_gc_heap_live_bytes"], p.samples["go_memory_stacks_bytes"]; used < live+stacks {
		t.Errorf("the runtime holds %v bytes, less than its live heap %v and stacks %v", used, live, stacks)
	}
	if v, ok := p.samples["go_cpu_classes_gc_total_cpu_seconds_total"]; !ok || v < 0 || p.types["go_cpu_classes_gc_total_cpu_seconds_total"] != "counter" {
		t.Errorf("go_cpu_classes_gc_total_cpu_seconds_total = %v (%v), want a counter", v, ok)
	}
}
