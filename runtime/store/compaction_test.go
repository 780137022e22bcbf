package store

import (
	"fmt"
	"testing"
)

// TestCompactionsKeepEverything writes conversations until Badger has
// compacted level 0 into the level below several times, the later
// compactions in splits (the code third_party/badger patches), then checks
// that every message is there, before and after a reopen.
func TestCompactionsKeepEverything(t *testing.T) {
	dir := t.TempDir()
	opts := quietOptions()
	opts.MemTableSize = 1 << 20 // compactions after 16 MiB instead of 48
	st, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	const contacts, perTxn = 500, 64
	rounds := 0
	lowerTables := func() int {
		n := 0
		for _, l := range st.(*badgerStore).db.Levels() {
			if l.Level > 0 {
				n = max(n, l.NumTables)
			}
		}
		return n
	}
	// A compaction's key range is split once the level below has more
	// than three tables; stop a while after that, or at a bound.
	for lowerTables() <= 6 {
		if rounds++; rounds > 400 {
			t.Fatalf("level 0 not compacted after %d rounds: %+v", rounds, st.(*badgerStore).db.Levels())
		}
		batch := make([]*Batch, 0, perTxn)
		for c := range contacts {
			batch = append(batch, stepBatch(fmt.Sprint("c", c), rounds))
			if len(batch) == perTxn || c == contacts-1 {
				if err := st.Commit(bg, batch...); err != nil {
					t.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	check := func(when string) {
		t.Helper()
		for _, c := range []int{0, 1, contacts / 2, contacts - 1} {
			cid := fmt.Sprint("c", c)
			n, cursor := 0, ""
			for range rounds {
				ms, next, err := st.Messages(bg, cid, MessageQuery{After: cursor, Limit: MaxPage})
				if err != nil {
					t.Fatal(err)
				}
				n += len(ms)
				if cursor = next; next == "" {
					break
				}
			}
			if n != 3*rounds {
				t.Errorf("%s: %s has %d messages, want %d", when, cid, n, 3*rounds)
			}
		}
	}
	check("after the compactions")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	check("after a reopen")
}
