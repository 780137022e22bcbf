package server

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestLimiterRefillsAndWaits(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(RateLimit{PerSecond: 2, Burst: 2}, func() time.Time { return now })
	for i := 0; i < 2; i++ {
		if ok, _ := l.allow([]byte("k")); !ok {
			t.Fatal("burst refused")
		}
	}
	ok, wait := l.allow([]byte("k"))
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("ok %v wait %v", ok, wait)
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.allow([]byte("k")); !ok {
		t.Fatal("not refilled")
	}
	if ok, _ := l.allow([]byte("other")); !ok {
		t.Fatal("keys are not independent")
	}
}

func TestLimiterIsBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	l := newLimiter(RateLimit{PerSecond: 1, Burst: 5, MaxKeys: 640}, clock)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 5000; i++ {
				l.allow([]byte(strconv.Itoa(w) + "/" + strconv.Itoa(i)))
			}
		}(w)
	}
	wg.Wait()
	if n := l.size(); n > 640 {
		t.Fatalf("%d buckets kept, bound 640", n)
	}
	// Idle buckets go first: after they refill, new keys evict them.
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	l.allow([]byte("fresh"))
	if n := l.size(); n > 640 {
		t.Fatalf("%d buckets", n)
	}
}
