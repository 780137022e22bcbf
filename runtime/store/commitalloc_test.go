package store

import (
	"fmt"
	"testing"
)

// TestCommitAllocatesLittlePerBatch commits step batches 64 to a
// transaction, as the Committer does under load, and counts the heap
// allocations per batch. A step batch writes about ten Badger entries
// (messages, outbox entries, session, timers, dedup key). Upstream Badger
// copied every key into a new string for its transaction's map and into a
// new slice with its timestamp, and boxed the arguments of its arena's
// bounds checks on every insert (third_party/badger, patches 9, 6 and 5):
// any one of those back would add ten or more allocations per batch.
func TestCommitAllocatesLittlePerBatch(t *testing.T) {
	// Memtables big enough that no flush, with its table builder, runs
	// while allocations are counted (the count is the whole process's).
	opts := quietOptions()
	opts.MemTableSize = 64 << 20
	st, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const contacts, perTxn, rounds = 640, 64, 40
	prepared := make([][]*Batch, rounds)
	for r := range prepared {
		for i := range perTxn {
			n := r*perTxn + i
			prepared[r] = append(prepared[r], stepBatch(fmt.Sprint("c", n%contacts), n/contacts))
		}
	}
	// Warm up: the first rounds create the contacts, and the store's
	// arena and caches reach their size.
	for r := range rounds / 2 {
		if err := st.Commit(bg, prepared[r]...); err != nil {
			t.Fatal(err)
		}
	}
	r := rounds / 2
	allocs := testing.AllocsPerRun(rounds/2-1, func() {
		if err := st.Commit(bg, prepared[r]...); err != nil {
			t.Fatal(err)
		}
		r++
	})
	perBatch := allocs / perTxn
	t.Logf("%.0f allocations per transaction of %d batches, %.1f per batch", allocs, perTxn, perBatch)
	if perBatch > 10 {
		t.Errorf("a commit allocates %.1f times per batch; want at most 10", perBatch)
	}
}
