package store

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPeakMemory runs BenchmarkCommit's 64-batch case and reports the peak
// anonymous and file-backed resident memory, to check the Badger tuning.
// It is opt-in, being slow: STORE_MEMORY_REPORT=1 go test -run PeakMemory -v
// -benchtime 20000x ./runtime/store/
func TestPeakMemory(t *testing.T) {
	if os.Getenv("STORE_MEMORY_REPORT") == "" {
		t.Skip("set STORE_MEMORY_REPORT=1 to run")
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	var maxAnon, maxFile int
	go func() {
		defer close(done)
		tk := time.NewTicker(200 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			a, f := rssKB()
			maxAnon, maxFile = max(maxAnon, a), max(maxFile, f)
		}
	}()
	res := testing.Benchmark(func(b *testing.B) { benchCommit(b, false, 64) })
	close(stop)
	<-done
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d commits in %v %v; peak RssAnon %d MB, peak RssFile %d MB, heap sys %d MB",
		res.N, res.T, res.Extra, maxAnon>>10, maxFile>>10, ms.HeapSys>>20)
}

// rssKB reads the process's resident memory from /proc, in KiB.
func rssKB() (anon, file int) {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "RssAnon:":
			anon = n
		case "RssFile:":
			file = n
		}
	}
	return anon, file
}
