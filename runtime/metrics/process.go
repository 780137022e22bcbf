package metrics

import (
	"bytes"
	"os"
	"runtime/metrics"
	"strconv"
)

// goValue returns a callback that reads one of the Go runtime's figures
// (a runtime/metrics name).
func goValue(name string) func() float64 {
	return func() float64 {
		s := []metrics.Sample{{Name: name}}
		metrics.Read(s)
		switch s[0].Value.Kind() {
		case metrics.KindUint64:
			return float64(s[0].Value.Uint64())
		case metrics.KindFloat64:
			return s[0].Value.Float64()
		}
		return 0
	}
}

// registerProcess adds what an operator watches to size the server's
// memory (serve --memory-limit, docs/operations.md): its resident memory,
// the Go heap's live bytes against the memory limit, the CPU time spent
// collecting garbage, and the goroutines.
func registerProcess(r *Registry) {
	if _, err := residentBytes(); err == nil {
		r.NewGaugeFunc("process_resident_memory_bytes", "Resident memory of the process (RSS), in bytes.", func() float64 {
			n, _ := residentBytes()
			return float64(n)
		})
	}
	r.NewGaugeFunc("go_gc_heap_live_bytes", "Bytes of the Go heap found live by the last garbage collection.", goValue("/gc/heap/live:bytes"))
	r.NewGaugeFunc("go_gc_gomemlimit_bytes", "The Go runtime's soft memory limit (serve --memory-limit), in bytes; 9.223372036854776e+18 is none.", goValue("/gc/gomemlimit:bytes"))
	r.NewCounterFunc("go_cpu_classes_gc_total_cpu_seconds_total", "CPU time spent collecting garbage, in seconds.", goValue("/cpu/classes/gc/total:cpu-seconds"))
	r.NewGaugeFunc("go_goroutines", "Goroutines that exist.", goValue("/sched/goroutines:goroutines"))
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
