package store

import (
	"fmt"
	"runtime"
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
