package store

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/badger/v4/y"
	"github.com/dgraph-io/ristretto/v2/z"
)

// TestTableBuilderHoldsItsTableOnce builds a table the way the store's
// compactions do (compressed, baseTable in size) and checks that, until
// it is written, the builder holds about the table, not the table
// uncompressed and again compressed (third_party/badger, patch 7). The
// builders of compactions in flight were most of the heap under load.
func TestTableBuilderHoldsItsTableOnce(t *testing.T) {
	pool := z.NewAllocatorPool(1)
	defer pool.Release()
	opts := table.Options{
		TableSize:          baseTable,
		BlockSize:          4 << 10,
		BloomFalsePositive: 0.01,
		Compression:        options.Snappy,
		AllocPool:          pool,
	}
	// Messages of a conversation: text that compresses about as well as
	// the store's values do.
	value := []byte(`{"text":"Hello! I can help with orders, returns and delivery. What would you like to do?","buttons":["Track an order","Return an item"]}`)

	before := heapInUse()
	b := table.NewTableBuilder(opts)
	n := 0
	for ; !b.ReachedCapacity(); n++ {
		if n > 1_000_000 {
			t.Fatal("the builder never reached its capacity")
		}
		key := y.KeyWithTs(fmt.Appendf(nil, "m/contact-%06d/%08d", n%5000, n), 1)
		b.Add(key, y.ValueStruct{Value: value}, 0)
	}
	data := b.Done()
	held := heapInUse() - before
	runtime.KeepAlive(b)
	b.Close()

	if data.Size == 0 || data.Size > 2*baseTable {
		t.Fatalf("a table of %d entries is %d bytes; want about %d", n, data.Size, baseTable)
	}
	// The allocator starts at the table's size rounded up to a power of
	// two; the keys' hashes and offsets come on top. Upstream held over
	// twenty times the table here (15 MiB for 620 KiB).
	if held > 3*int64(data.Size) {
		t.Errorf("building a %d KiB table (%d entries) held %d KiB of heap; want under 3x the table", data.Size>>10, n, held>>10)
	}
	t.Logf("%d entries, table %d KiB, builder held %d KiB", n, data.Size>>10, held>>10)
}

// heapInUse is the live heap after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestWrittenTablesAreNotResident writes conversations until Badger has
// written several tables, then reads from /proc how much of the tables is
// in the process's resident memory: only what reads touched (third_party/
// badger, patch 8), not every page written, as when tables were written
// through their mapping.
func TestWrittenTablesAreNotResident(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps"); err != nil {
		t.Skip("no /proc/self/smaps here")
	}
	dir := t.TempDir()
	opts := quietOptions()
	opts.MemTableSize = 2 << 20
	st, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A handful of level-0 tables, fewer than a compaction takes, so that
	// no compaction is reading them while they are measured.
	tables := func() int {
		n := 0
		for _, l := range st.(*badgerStore).db.Levels() {
			n += l.NumTables
		}
		return n
	}
	for round := 1; tables() < 6; round++ {
		if round > 400 {
			t.Fatalf("fewer than 6 tables after %d rounds", round)
		}
		batch := make([]*Batch, 0, 64)
		for c := range 64 {
			batch = append(batch, stepBatch(fmt.Sprint("c", c), round))
		}
		if err := st.Commit(t.Context(), batch...); err != nil {
			t.Fatal(err)
		}
	}
	rss, size := mappedKB(t, dir, ".sst")
	if size < 1024 {
		t.Fatalf("the tables map %d KiB; want at least a MiB of them", size)
	}
	if rss > size/2 {
		t.Errorf("%d KiB of the %d KiB of tables mapped is resident; want what reads touched, under half", rss, size)
	}
	t.Logf("%d tables, %d KiB mapped, %d KiB resident", tables(), size, rss)
}

// mappedKB sums the size and the resident part of the process's mappings
// of files in dir whose name ends in suffix, from /proc/self/smaps.
func mappedKB(t *testing.T, dir, suffix string) (rss, size int) {
	t.Helper()
	// /proc shows the path with its links resolved.
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && len(fields[1]) == 4:
			// A mapping's first line: address range, permissions, offset,
			// device, inode, then the file, if there is one, to the end
			// of the line (it may hold spaces).
			path := ""
			if rest := strings.SplitN(line, " ", 6); len(rest) == 6 {
				path = strings.TrimSuffix(strings.TrimSpace(rest[5]), " (deleted)")
			}
			in = filepath.Dir(path) == dir && strings.HasSuffix(path, suffix)
		case in && len(fields) == 3 && (fields[0] == "Rss:" || fields[0] == "Size:"):
			n, _ := strconv.Atoi(fields[1])
			if fields[0] == "Rss:" {
				rss += n
			} else {
				size += n
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rss, size
}
