package store

import (
	"fmt"
	"testing"
	"time"
)

// waitSeenReady waits for the store's dedup filter to be filled.
func waitSeenReady(t *testing.T, st Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !st.(*badgerStore).seen.ready.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the dedup filter was not filled within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSeenFilter: after a reopen, the filter holds every recorded key,
// including those committed while it was being filled, so Seen finds them;
// and it rules out nearly all keys never recorded, whose Seen then reads
// nothing.
func TestSeenFilter(t *testing.T) {
	st, dir := openOnDisk(t)
	const n = 3000
	for i := range n / 100 {
		var bs []*Batch
		for j := range 100 {
			bs = append(bs, &Batch{ContactID: fmt.Sprint("c", j), DedupKey: fmt.Sprint("old-", i*100+j)})
		}
		commit(t, st, bs...)
	}
	st = reopen(t, st, dir)
	defer st.Close()
	// Commits race the filling.
	for i := range 50 {
		commit(t, st, &Batch{ContactID: "c", DedupKey: fmt.Sprint("new-", i)})
	}
	waitSeenReady(t, st)
	for _, k := range []string{"old-0", "old-1234", fmt.Sprint("old-", n-1), "new-0", "new-49"} {
		if seen, err := st.Seen(bg, k); !seen || err != nil {
			t.Errorf("Seen(%s) = %v, %v", k, seen, err)
		}
	}
	maybe := 0
	for i := range 10000 {
		k := fmt.Sprint("never-", i)
		if st.(*badgerStore).seen.mayHave(k) {
			maybe++
		}
		if seen, err := st.Seen(bg, k); seen || err != nil {
			t.Fatalf("Seen(%s) = %v, %v", k, seen, err)
		}
	}
	if maybe > 10 {
		t.Errorf("the filter may hold %d of 10000 keys never recorded", maybe)
	}
}

// TestSeenFilterNotReady: until it is filled, the filter rules nothing out.
func TestSeenFilterNotReady(t *testing.T) {
	f := newSeenFilter()
	if !f.mayHave("x") {
		t.Error("an unfilled filter ruled out a key")
	}
	f.ready.Store(true)
	if f.mayHave("x") {
		t.Error("an empty filter may hold x")
	}
	f.add("x")
	if !f.mayHave("x") {
		t.Error("the filter lost x")
	}
}
