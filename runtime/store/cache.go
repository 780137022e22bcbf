package store

import "strings"

// Reading back what the store itself wrote was three quarters of a commit's
// time (each Badger Get searches the memtables and every level). The store is
// the only writer of its directory (Badger locks it) and all writes hold
// commitMu, so it can remember the little it needs to read during a
// commit: a contact's last message Seq, its channel identity, and its
// timers' due times. Entries are recorded in a per-transaction overlay and
// merged into the caches only once the transaction has committed; a
// transaction that fails before Badger takes it leaves no trace, and one
// that fails after stops all writes (commitWrite). Caches are bounded; a
// miss falls back to reading Badger.

// cacheSize bounds each cache: it covers the conversations active at once
// on a small-to-medium deployment for a few MiB.
const cacheSize = 1 << 14

// identity is a contact's channel identity: the key of its x/ and b/ index
// entries.
type identity struct {
	bot, channel, ext string
}

// identState is a contact's stored identity, or that no contact is stored.
type identState struct {
	identity
	exists bool
}

// timerRef is one of a contact's timers: its ID and due time, which make
// the key of its t/ entry; or, for a wait's timer, which has no entry of
// its own (see keys.go), its ID, due time and Seq+1 in wait.
type timerRef struct {
	id   string
	due  uint64
	wait uint64
}

// contactTimers are all the timers of one contact: its timer list (see
// keys.go). Having all of them, a commit knows a new timer is new without
// reading.
type contactTimers []timerRef

// timerList is a contact's timers and where the list is stored.
type timerList struct {
	ts contactTimers
	// wake is the due of the contact's wake entry, 0 when it has none.
	wake uint64
	// inSession: the head of the contact's s/ entry holds the list.
	// inF: an f/ entry is stored, to delete when the list moves into the
	// session or empties.
	inSession, inF bool
}

func (ts contactTimers) find(id string) int {
	for i := range ts {
		if ts[i].id == id {
			return i
		}
	}
	return -1
}

func (ts contactTimers) hasWaits() bool {
	for i := range ts {
		if ts[i].wait != 0 {
			return true
		}
	}
	return false
}

// firstWait is the earliest due of the waits' timers, 0 when there is none.
func (ts contactTimers) firstWait() uint64 {
	first := uint64(0)
	for i := range ts {
		if d := max(ts[i].due, 1); ts[i].wait != 0 && (first == 0 || d < first) {
			first = d // 0 is none: a wait due at the earliest time wakes at 1
		}
	}
	return first
}

// metaCache holds what commits read, as last committed.
type metaCache struct {
	contacts bounded[*contactMeta] // by contact ID
	idents   bounded[identState]
}

// contactMeta is what commits keep of a contact besides its messages, read
// from the store together (loadMeta) and cached together, so that a step
// looks its contact up once: its last message Seq and its timer list.
type contactMeta struct {
	seq    uint64
	timers timerList
}

func newMetaCache(size int) *metaCache {
	return &metaCache{contacts: newBounded[*contactMeta](size), idents: newBounded[identState](size)}
}

// overlay is what one transaction changed, merged into the cache when it
// commits.
type overlay struct {
	seqs   map[string]uint64
	idents map[string]identState
	// timers are copies of the cached lists, changed in place.
	timers map[string]*timerList
}

func newOverlay() *overlay {
	return &overlay{seqs: map[string]uint64{}, idents: map[string]identState{}, timers: map[string]*timerList{}}
}

// reset empties the overlay for the next transaction, dropping maps that a
// very large transaction grew.
func (o *overlay) reset() {
	const keep = 4096
	if len(o.seqs)+len(o.idents)+len(o.timers) > keep {
		*o = *newOverlay()
		return
	}
	clear(o.seqs)
	clear(o.idents)
	clear(o.timers)
}

// merge takes in what a committed transaction changed. A contact the cache
// does not hold is cached only when the transaction knows both its Seq and
// its timers (it read them from the store); otherwise, as when another
// contact's entry took its place in this merge, it is left to the next
// commit to read.
func (c *metaCache) merge(o *overlay) {
	for k, seq := range o.seqs {
		t, hasTimers := o.timers[k]
		if m, ok := c.contacts.get(k); ok {
			m.seq = seq
			if hasTimers {
				m.timers = *t
			}
		} else if hasTimers {
			c.contacts.put(k, &contactMeta{seq: seq, timers: *t})
		}
	}
	for k, t := range o.timers {
		if _, done := o.seqs[k]; done {
			continue
		}
		if m, ok := c.contacts.get(k); ok {
			m.timers = *t
		}
	}
	for k, v := range o.idents {
		v.bot, v.channel, v.ext = strings.Clone(v.bot), strings.Clone(v.channel), strings.Clone(v.ext)
		c.idents.put(k, v)
	}
}

// bounded is a map that evicts an arbitrary entry when full. Keys are
// cloned on insert: callers' strings may be slices of whole decoded records.
type bounded[V any] struct {
	m   map[string]V
	max int
}

func newBounded[V any](max int) bounded[V] {
	return bounded[V]{m: make(map[string]V), max: max}
}

func (b *bounded[V]) get(k string) (V, bool) {
	v, ok := b.m[k]
	return v, ok
}

func (b *bounded[V]) drop(k string) { delete(b.m, k) }

func (b *bounded[V]) put(k string, v V) {
	if _, ok := b.m[k]; ok {
		b.m[k] = v
		return
	}
	if len(b.m) >= b.max {
		for old := range b.m { // map iteration starts at a random entry
			delete(b.m, old)
			break
		}
	}
	b.m[strings.Clone(k)] = v
}
