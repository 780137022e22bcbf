package store

import (
	"hash/maphash"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
)

// seenFilter answers most Seen calls without reading Badger: it is a Bloom
// filter of the store's dedup keys. A key it does not hold was never
// recorded, so the check of a new message (nearly every one) reads nothing;
// a key it may hold is looked up. It is filled at Open by a key-only scan of
// the d/ entries, in the background, and until that scan is done every Seen
// reads Badger; commits add their keys as they land. Its size is fixed: past
// about two million keys it answers "maybe" more often, which costs reads,
// never a wrong answer. Keys that expire (Options.DedupTTL) stay in it.
type seenFilter struct {
	bits  [seenFilterBits / 64]atomic.Uint64
	ready atomic.Bool
	seed  maphash.Seed
}

const (
	seenFilterBits   = 1 << 24 // 2 MiB
	seenFilterHashes = 7
)

func newSeenFilter() *seenFilter { return &seenFilter{seed: maphash.MakeSeed()} }

// positions calls fn with the bit positions (double hashing) of the key
// whose maphash is h.
func (f *seenFilter) positions(h uint64, fn func(word int, mask uint64) bool) bool {
	h1, h2 := uint32(h), uint32(h>>32)|1
	for i := range uint32(seenFilterHashes) {
		p := (h1 + i*h2) % seenFilterBits
		if !fn(int(p/64), 1<<(p%64)) {
			return false
		}
	}
	return true
}

func (f *seenFilter) add(key string) { f.addHash(maphash.String(f.seed, key)) }

func (f *seenFilter) addHash(h uint64) {
	f.positions(h, func(w int, m uint64) bool {
		f.bits[w].Or(m)
		return true
	})
}

// mayHave reports whether key may be a recorded dedup key: true until the
// filter is ready.
func (f *seenFilter) mayHave(key string) bool {
	if !f.ready.Load() {
		return true
	}
	return f.positions(maphash.String(f.seed, key), func(w int, m uint64) bool { return f.bits[w].Load()&m != 0 })
}

// fill adds every d/ key in the store and then marks the filter ready; it
// gives up when stop closes. Keys committed meanwhile are added by their
// commits, so none is missed.
func (f *seenFilter) fill(view func(func(*badger.Txn) error) error, stop <-chan struct{}) error {
	prefix := []byte(tDedup)
	err := view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		n := 0
		for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
			if n++; n%1024 == 0 {
				select {
				case <-stop:
					return ErrClosed
				default:
				}
			}
			// maphash.Bytes hashes as maphash.String does: no string per key.
			f.addHash(maphash.Bytes(f.seed, it.Item().Key()[len(prefix):]))
		}
		return nil
	})
	if err == nil {
		f.ready.Store(true)
	}
	return err
}
