package metrics

import (
	"bytes"
	"os"
	"runtime/metrics"
	"strconv"
)

// goRead reads some of the Go runtime's figures (runtime/metrics names),
// all in one read.
func goRead(names ...string) []float64 {
	s := make([]metrics.Sample, len(names))
	for i, n := range names {
		s[i].Name = n
	}
	metrics.Read(s)
	v := make([]float64, len(s))
	for i := range s {
		switch s[i].Value.Kind() {
		case metrics.KindUint64:
			v[i] = float64(s[i].Value.Uint64())
		case metrics.KindFloat64:
			v[i] = s[i].Value.Float64()
		}
	}
	return v
}

// goSum returns a callback that reads the sum of some of the Go runtime's
// figures.
func goSum(names ...string) func() float64 {
	return func() float64 {
		var sum float64
		for _, v := range goRead(names...) {
			sum += v
		}
		return sum
	}
}

// registerProcess adds what an operator watches to size the server's
// memory (serve --memory-limit, docs/operations.md): its resident memory;
// the memory the limit counts, the limit, and what of it the server
// cannot do without (the live heap and the goroutines' stacks); the CPU
// time spent collecting garbage; and the goroutines.
func registerProcess(r *Registry) {
	if _, err := residentBytes(); err == nil {
		r.NewGaugeFunc("process_resident_memory_bytes", "Resident memory of the process (RSS), in bytes.", func() float64 {
			n, _ := residentBytes()
			return float64(n)
		})
	}
	r.NewGaugeFunc("go_memory_used_bytes", "Memory the Go runtime holds from the system, which the memory limit counts: all it mapped less what it returned.", func() float64 {
		v := goRead("/memory/classes/total:bytes", "/memory/classes/heap/released:bytes")
		return v[0] - v[1]
	})
	r.NewGaugeFunc("go_gc_gomemlimit_bytes", "The Go runtime's soft memory limit (serve --memory-limit), in bytes; 9.223372036854776e+18 is none.", goSum("/gc/gomemlimit:bytes"))
	r.NewGaugeFunc("go_gc_heap_live_bytes", "Bytes of the Go heap found live by the last garbage collection.", goSum("/gc/heap/live:bytes"))
	r.NewGaugeFunc("go_memory_stacks_bytes", "Bytes of goroutine and system stacks.", goSum("/memory/classes/heap/stacks:bytes", "/memory/classes/os-stacks:bytes"))
	r.NewCounterFunc("go_cpu_classes_gc_total_cpu_seconds_total", "CPU time spent collecting garbage, in seconds (an estimate that includes marking on otherwise idle cores).", goSum("/cpu/classes/gc/total:cpu-seconds"))
	r.NewGaugeFunc("go_goroutines", "Goroutines that exist.", goSum("/sched/goroutines:goroutines"))
}

// residentBytes reads the process's resident memory from /proc (Linux).
func residentBytes() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, os.ErrInvalid
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0, err
	}
	return pages * int64(os.Getpagesize()), nil
}
