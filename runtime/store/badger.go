package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/switchboard-bots/switchboard/flows"
)

// Options tune the Badger store. The zero value suits a small machine; see
// badgerOptions for what it sets and docs/performance.md for what it costs.
type Options struct {
	// SyncWrites makes every commit wait for fsync. Off by default: a
	// commit then survives a crash of the process but not of the machine,
	// and costs a fraction of the latency.
	SyncWrites bool
	// Logger receives Badger's warnings and errors (its info chatter is
	// dropped); nil means slog.Default().
	Logger *slog.Logger
	// MemTableSize is the size of one memtable; 0 means 3 MiB. Badger
	// keeps two in memory (one filling, one being written out), and one
	// transaction may hold at most 15% of one, which bounds the largest
	// batch: about 460 KB by default, where a value above 4 KiB (sent to
	// the value log) counts only as a pointer.
	MemTableSize int64
	// GCInterval is how often the value log is garbage-collected; 0 means
	// five minutes, negative disables it.
	GCInterval time.Duration
	// DedupTTL is how long DedupKeys are remembered; 0 means forever.
	DedupTTL time.Duration
}

const (
	defaultMemTable = 3 << 20
	numMemtables    = 2
	// A level-0 table is a written-out memtable. Compacting them into the
	// levels below merges 16 at a time, and writes stall at 32.
	level0Tables, level0Stall = 16, 32
	// baseTable is the size of every table below level 0, compressed. A
	// table's builder holds the table until it is written, and a compaction
	// has several builders at once, so small tables keep compactions'
	// memory small. Before the patches of third_party/badger, when a
	// builder held its blocks before and after compression, 640 KiB tables
	// peaked at 346 MiB over a million-message REST load against 498 MiB
	// with 1.25 MiB ones, at the same throughput.
	baseTable  = 640 << 10
	blockCache = 8 << 20 // decompressed blocks
	indexCache = 8 << 20 // bounds the memory of table indexes and Bloom filters
	defaultGC  = 5 * time.Minute
	// gcRounds bounds the value-log files rewritten per GC tick.
	gcRounds = 8
	// valueThreshold keeps sessions and messages in the LSM tree and sends
	// rare large values (a session holding a big API response) to the
	// value log, which the GC goroutine compacts.
	valueThreshold = 4 << 10
	// maxArena bounds the encoding buffer kept between commits.
	maxArena = 1 << 20
)

// Open opens (creating if needed) the on-disk store in dir.
func Open(dir string, opts Options) (Store, error) {
	if dir == "" {
		return nil, errors.New("store: no directory given (use OpenInMemory for a store without one)")
	}
	bo := badgerOptions(badger.DefaultOptions(dir), opts)
	return open(bo, opts, false)
}

// OpenInMemory opens a store that lives in memory only, for tests and
// throwaway runs.
func OpenInMemory() (Store, error) {
	// Without a value log, every value must fit under the threshold, which
	// must fit in a transaction (15% of a memtable): 8 MiB memtables let
	// values up to 1 MiB be stored, as on disk.
	opts := Options{MemTableSize: 8 << 20}
	bo := badgerOptions(badger.DefaultOptions("").WithInMemory(true), opts).WithValueThreshold(1 << 20)
	return open(bo, opts, true)
}

// badgerOptions scales Badger's defaults (sized for servers: 64 MiB x 5
// memtables, a 256 MiB cache, 4 compactors) down to a small machine, where
// memory, not disk, is what runs out first. Measured under the REST load
// (docs/performance.md):
//
//   - Two memtables of 3 MiB instead of three of 8: the builder of a level-0
//     table grows to hold the whole memtable, and Badger keeps builders'
//     buffers for reuse, so the memtable's size multiplies.
//   - 16 level-0 tables before a compaction, instead of 5: with small
//     memtables, compacting every few of them rewrote the level below each
//     time; merging more at once costs less CPU and no more memory.
//   - Snappy: tables are about half the size, so less is written and
//     synced when a table is written, and the parts of the mapped table
//     files that reads bring into the process are half as large; it
//     measured faster than no compression. Reads decompress blocks into a
//     small cache.
//   - Tables of one size at every level (Badger doubles it per level): a
//     builder's buffers follow the table's size, and a compaction runs
//     several, so under a long write load the deeper levels' builders took
//     hundreds of MB.
func badgerOptions(bo badger.Options, opts Options) badger.Options {
	mem := opts.MemTableSize
	if mem <= 0 {
		mem = defaultMemTable
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	bo.TableSizeMultiplier = 1 // no With method in Badger v4
	return bo.
		WithLogger(slogAdapter{logger.With("component", "badger")}).
		WithSyncWrites(opts.SyncWrites).
		WithMemTableSize(mem).
		WithNumMemtables(numMemtables).
		WithNumLevelZeroTables(level0Tables).
		WithNumLevelZeroTablesStall(level0Stall).
		WithBlockCacheSize(blockCache).
		WithIndexCacheSize(indexCache).
		WithCompression(options.Snappy).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithValueLogFileSize(128 << 20).
		WithBaseTableSize(baseTable).
		WithValueThreshold(valueThreshold).
		WithMetricsEnabled(false).
		// Commits are serialized by the store, so Badger's conflict
		// tracking would only cost memory.
		WithDetectConflicts(false)
}

func open(bo badger.Options, opts Options, inMemory bool) (Store, error) {
	db, err := badger.OpenManaged(bo)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	s := &badgerStore{db: db, clock: newClock(db.MaxVersion()), dedupTTL: opts.DedupTTL, cache: newMetaCache(cacheSize), ov: newOverlay(),
		seen: newSeenFilter(), stop: make(chan struct{}), gcDone: make(chan struct{}), fillDone: make(chan struct{})}
	if err := s.migrateTimerIndex(); err != nil {
		db.Close()
		return nil, err
	}
	go func() {
		defer close(s.fillDone)
		if err := s.seen.fill(s.view, s.stop); err != nil && !errors.Is(err, ErrClosed) {
			bo.Logger.Warningf("dedup filter: %v (every Seen reads the store)", err)
		}
	}()
	interval := opts.GCInterval
	if interval == 0 {
		interval = defaultGC
	}
	if inMemory || interval < 0 {
		close(s.gcDone)
	} else {
		go s.gcLoop(interval, bo.Logger)
	}
	return s, nil
}

// slogAdapter routes Badger's log to slog: warnings and errors only, since
// Badger reports every compaction and flush at info level.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Errorf(f string, args ...any) {
	a.l.Error(strings.TrimSpace(fmt.Sprintf(f, args...)))
}

func (a slogAdapter) Warningf(f string, args ...any) {
	a.l.Warn(strings.TrimSpace(fmt.Sprintf(f, args...)))
}

func (slogAdapter) Infof(string, ...any)  {}
func (slogAdapter) Debugf(string, ...any) {}

// badgerStore is the embedded Store. See keys.go for its key layout.
type badgerStore struct {
	db       *badger.DB
	clock    *clock // transaction timestamps; see versions.go
	dedupTTL time.Duration

	// life lets Close wait for the calls in progress: every call holds its
	// read side, Close its write side.
	life   sync.RWMutex
	closed bool

	// commitMu serializes every write (Commit, update): Message Seqs and
	// index updates are read-modify-write, with one writer no transaction
	// can conflict, and the clock gives out timestamps in commit order.
	commitMu sync.Mutex
	// writeFailure, once set (under commitMu), is returned by every write:
	// see commitWrite.
	writeFailure atomic.Pointer[error]
	arena        []byte     // encoding buffer, reused across commits
	cache        *metaCache // what commits would read back; see cache.go
	ov           *overlay   // the running transaction's changes to cache

	// Polls of the timers and the outbox skip their scans through these.
	timerHint, outboxHint dueHint
	// seen spares Seen its read for keys never recorded.
	seen *seenFilter

	// The value-log GC goroutine and the filling of seen are owned by the
	// store: stop ends them, and gcDone and fillDone tell Close they have.
	stop      chan struct{}
	gcDone    chan struct{}
	fillDone  chan struct{}
	closeOnce sync.Once
	closeErr  error
}

func (s *badgerStore) gcLoop(interval time.Duration, log badger.Logger) {
	defer close(s.gcDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		for range gcRounds {
			err := s.db.RunValueLogGC(0.5)
			if err != nil {
				if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
					log.Warningf("value log GC: %v", err)
				}
				break
			}
			select {
			case <-s.stop:
				return
			default:
			}
		}
	}
}

// Close stops the GC goroutine, waits for the calls in progress, and closes
// Badger, which flushes its memtables.
func (s *badgerStore) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.gcDone
		<-s.fillDone
		s.life.Lock()
		defer s.life.Unlock()
		s.closed = true
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("store: close: %w", err)
		}
	})
	return s.closeErr
}

// begin starts a call: on success the caller holds the read side of life
// and must release it.
func (s *badgerStore) begin(ctx context.Context) error {
	s.life.RLock()
	if s.closed {
		s.life.RUnlock()
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		s.life.RUnlock()
		return err
	}
	return nil
}

// get reads one key and decodes it with dec, mapping a missing key to
// ErrNotFound.
func (s *badgerStore) get(ctx context.Context, key []byte, dec func([]byte) error) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.life.RUnlock()
	return s.view(func(txn *badger.Txn) error { return getIn(txn, key, dec) })
}

func getIn(txn *badger.Txn, key []byte, dec func([]byte) error) error {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return item.Value(dec)
}

func (s *badgerStore) Contact(ctx context.Context, id string) (*flows.Contact, error) {
	var c *flows.Contact
	err := s.get(ctx, keyContact(nil, id), func(v []byte) (err error) {
		c, err = flows.UnmarshalContact(v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *badgerStore) ContactByExternal(ctx context.Context, bot, channel, externalID string) (*flows.Contact, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	var c *flows.Contact
	err := s.view(func(txn *badger.Txn) error {
		var key []byte
		if err := getIn(txn, keyExternal(nil, bot, channel, externalID), func(v []byte) error {
			key = keyContact(nil, string(v))
			return nil
		}); err != nil {
			return err
		}
		return getIn(txn, key, func(v []byte) (err error) {
			c, err = flows.UnmarshalContact(v)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *badgerStore) Contacts(ctx context.Context, bot string, cursor string, limit int) ([]*flows.Contact, string, error) {
	if err := s.begin(ctx); err != nil {
		return nil, "", err
	}
	defer s.life.RUnlock()
	limit = pageSize(limit, DefaultPage, MaxPage)
	var out []*flows.Contact
	next := ""
	err := s.view(func(txn *badger.Txn) error {
		byBot := bot != ""
		prefix := []byte(tContact)
		if byBot {
			prefix = prefixByBot(nil, bot)
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: !byBot, PrefetchSize: min(limit, 100)})
		defer it.Close()
		start := append(bytes.Clone(prefix), cursor...)
		it.Seek(start)
		if cursor != "" && it.ValidForPrefix(prefix) && bytes.Equal(it.Item().Key(), start) {
			it.Next() // the cursor is the last contact of the previous page
		}
		for ; it.ValidForPrefix(prefix); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			id := string(it.Item().Key()[len(prefix):])
			if len(out) == limit {
				next = out[len(out)-1].ID
				return nil
			}
			dec := func(v []byte) error {
				c, err := flows.UnmarshalContact(v)
				if err != nil {
					return fmt.Errorf("contact %s: %w", id, err)
				}
				out = append(out, c)
				return nil
			}
			var err error
			if byBot {
				err = getIn(txn, keyContact(nil, id), dec)
				if errors.Is(err, ErrNotFound) {
					continue // cannot happen: index and contact are written together
				}
			} else {
				err = it.Item().Value(dec)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

func (s *badgerStore) Session(ctx context.Context, contactID string) (*flows.Session, error) {
	var sess *flows.Session
	err := s.get(ctx, keySession(nil, contactID), func(v []byte) error {
		_, _, v, err := splitSessionHead(v)
		if err != nil {
			return err
		}
		sess, err = flows.UnmarshalSession(v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

func (s *badgerStore) Seen(ctx context.Context, dedupKey string) (bool, error) {
	if !s.seen.mayHave(dedupKey) {
		if err := s.begin(ctx); err != nil {
			return false, err
		}
		s.life.RUnlock()
		return false, nil
	}
	err := s.get(ctx, keyDedup(nil, dedupKey), func([]byte) error { return nil })
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// parseCursor reads a message cursor: a Seq in decimal.
func parseCursor(c string) (uint64, error) {
	n, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	return n, nil
}

func (s *badgerStore) Messages(ctx context.Context, contactID string, q MessageQuery) ([]Message, string, error) {
	if err := s.begin(ctx); err != nil {
		return nil, "", err
	}
	defer s.life.RUnlock()
	limit := pageSize(q.Limit, DefaultPage, MaxPage)
	forward := q.After != ""
	var after, before uint64 = 0, 1<<64 - 1
	var err error
	if q.After != "" {
		if after, err = parseCursor(q.After); err != nil {
			return nil, "", err
		}
	}
	if q.Before != "" {
		if before, err = parseCursor(q.Before); err != nil {
			return nil, "", err
		}
	}
	if after >= before || (forward && after == 1<<64-1) || (!forward && before == 0) {
		return nil, "", nil
	}
	prefix := prefixMessages(nil, contactID)
	out := make([]Message, 0, min(limit, 64))
	next := ""
	err = s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: min(limit, 100), Reverse: !forward})
		defer it.Close()
		if forward {
			it.Seek(keyMessage(nil, contactID, after+1))
		} else {
			it.Seek(keyMessage(nil, contactID, before-1))
		}
		for ; it.ValidForPrefix(prefix); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			k := item.Key()
			if len(k) != len(prefix)+8 {
				return fmt.Errorf("store: bad message key %q", k)
			}
			seq := binary.BigEndian.Uint64(k[len(prefix):])
			if forward && seq >= before {
				return nil
			}
			if len(out) == limit {
				next = strconv.FormatUint(out[len(out)-1].Seq, 10)
				return nil
			}
			m := Message{Contact: contactID, Seq: seq}
			if err := item.Value(func(v []byte) error { return decodeMessage(v, &m) }); err != nil {
				return fmt.Errorf("message %s/%d: %w", contactID, seq, err)
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	if !forward {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, next, nil
}

func (s *badgerStore) DueTimers(ctx context.Context, now time.Time, limit int) ([]flows.Timer, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	limit = pageSize(limit, 100, MaxDueTimers)
	var bound uint64
	switch {
	case now.Before(minDue):
		return nil, nil
	case now.After(maxDue):
		bound = 1<<64 - 1
	default:
		bound = dueBits(now)
	}
	if s.timerHint.skip(bound) {
		return nil, nil
	}
	s.timerHint.begin()
	first := uint64(math.MaxUint64)
	var out []flows.Timer
	prefix := []byte(tTimer)
	err := s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: min(limit, 100)})
		defer it.Close()
		for it.Rewind(); it.ValidForPrefix(prefix) && len(out) < limit; it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			item := it.Item()
			k := item.Key()
			if len(k) < len(prefix)+8 {
				return fmt.Errorf("store: bad timer key %q", k)
			}
			due := binary.BigEndian.Uint64(k[len(prefix):])
			first = min(first, due)
			if due > bound {
				return nil
			}
			if id := k[len(prefix)+8:]; bytes.HasPrefix(id, []byte(wakeMark)) {
				var err error
				if out, err = dueWaits(txn, out, string(id[len(wakeMark):]), due, bound, limit); err != nil {
					return err
				}
				continue
			}
			if err := item.Value(func(v []byte) error {
				t, err := flows.UnmarshalTimer(v)
				if err != nil {
					return fmt.Errorf("timer %q: %w", k[len(prefix)+8:], err)
				}
				out = append(out, t)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		first = 0
	}
	s.timerHint.end(first)
	if err != nil {
		return nil, err
	}
	// A wake's waits are due no earlier than the wake, maybe after timers
	// found later in the scan.
	slices.SortStableFunc(out, func(a, b flows.Timer) int { return a.Due.Compare(b.Due) })
	return out, nil
}

// dueWaits appends to out, up to limit, the contact's waits due by bound,
// for its wake due at wake; or the wake itself when none is due, or when
// the contact's list names another wake (this one was left behind, by a
// contact deletion cut short).
func dueWaits(txn *badger.Txn, out []flows.Timer, contact string, wake, bound uint64, limit int) ([]flows.Timer, error) {
	var l timerList
	err := getIn(txn, keySession(nil, contact), func(v []byte) error {
		var err error
		_, l, _, err = splitSessionHead(v)
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return out, fmt.Errorf("store: session of contact %s: %w", contact, err)
	}
	n := len(out)
	for _, r := range l.ts {
		if len(out) == limit || l.wake != wake {
			break
		}
		if r.wait != 0 && r.due <= bound {
			out = append(out, waitTimer(contact, r))
		}
	}
	if len(out) == n {
		out = append(out, flows.Timer{ID: wakeMark + contact, Contact: contact, Due: dueTime(wake), Kind: TimerWake})
	}
	return out, nil
}

// waitTimer is the timer of a wait, from the contact's list.
func waitTimer(contact string, r timerRef) flows.Timer {
	return flows.Timer{ID: r.id, Contact: contact, Due: dueTime(r.due), Kind: flows.TimerWait, Seq: r.wait - 1}
}

func (s *badgerStore) ContactTimers(ctx context.Context, contactID string) ([]flows.Timer, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	var out []flows.Timer
	err := s.view(func(txn *badger.Txn) error {
		l, _, err := readTimerList(txn, contactID)
		if err != nil {
			return err
		}
		refs := l.ts
		slices.SortFunc(refs, func(a, b timerRef) int { return cmp.Or(cmp.Compare(a.due, b.due), strings.Compare(a.id, b.id)) })
		var key []byte
		for _, r := range refs[:min(len(refs), MaxDueTimers)] {
			if err := ctx.Err(); err != nil {
				return err
			}
			if r.wait != 0 {
				out = append(out, waitTimer(contactID, r))
				continue
			}
			key = keyTimer(key[:0], r.due, r.id)
			err := getIn(txn, key, func(v []byte) error {
				t, err := flows.UnmarshalTimer(v)
				if err != nil {
					return fmt.Errorf("timer %q: %w", r.id, err)
				}
				out = append(out, t)
				return nil
			})
			if errors.Is(err, ErrNotFound) {
				continue // cannot happen: a timer and its list are written together
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *badgerStore) Outbox(ctx context.Context, now time.Time, limit int) ([]Message, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	limit = pageSize(limit, 100, MaxOutbox)
	var bound uint64
	switch {
	case now.Before(minDue):
		bound = 0 // only the messages clamped to minDue
	case now.After(maxDue):
		bound = 1<<64 - 1
	default:
		bound = dueBits(now)
	}
	if s.outboxHint.skip(bound) {
		return nil, nil
	}
	s.outboxHint.begin()
	first := uint64(math.MaxUint64)
	var out []Message
	prefix := []byte(tOutbox)
	err := s.view(func(txn *badger.Txn) error {
		// The o/ keys say all: they end with the message's reference.
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		var key []byte
		for it.Rewind(); it.ValidForPrefix(prefix) && len(out) < limit; it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			k := it.Item().Key()
			if len(k) < len(prefix)+8 {
				return fmt.Errorf("store: bad outbox key %q", k)
			}
			due := binary.BigEndian.Uint64(k[len(prefix):])
			first = min(first, due)
			if due > bound {
				return nil
			}
			m, err := readMessage(txn, k[len(prefix)+8:], &key)
			if errors.Is(err, ErrNotFound) {
				continue // cannot happen: a message and its o/ entry are written together
			}
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		first = 0
	}
	s.outboxHint.end(first)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *badgerStore) MessageByExternal(ctx context.Context, channel, externalID string) (*Message, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	var m Message
	err := s.view(func(txn *badger.Txn) error {
		var ref []byte
		if err := getIn(txn, keyMessageExternal(nil, channel, externalID), func(v []byte) error {
			ref = bytes.Clone(v)
			return nil
		}); err != nil {
			return err
		}
		var err error
		m, err = readMessage(txn, ref, new([]byte))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// readMessage reads the message of a reference ({lp contact id}{seq}),
// building its key in *buf.
func readMessage(txn *badger.Txn, ref []byte, buf *[]byte) (Message, error) {
	contact, seq, ok := parseMessageRef(ref)
	if !ok {
		return Message{}, fmt.Errorf("store: bad message reference %q", ref)
	}
	m := Message{Contact: string(contact), Seq: seq}
	*buf = append(append((*buf)[:0], tMessage...), ref...)
	err := getIn(txn, *buf, func(v []byte) error { return decodeMessage(v, &m) })
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("message %d of contact %q: %w", seq, m.Contact, err)
	}
	return m, err
}

// Commit validates every batch, then writes them in as few transactions as
// Badger's size limit allows (one, almost always).
func (s *badgerStore) Commit(ctx context.Context, batches ...*Batch) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.life.RUnlock()
	for i, b := range batches {
		if err := b.validate(); err != nil {
			return fmt.Errorf("batch %d: %w", i, err)
		}
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	defer func() {
		if cap(s.arena) > maxArena {
			s.arena = nil
		}
	}()
	done := 0
	// Every round commits at least one batch or returns, so this loop runs
	// at most len(batches) times.
	for done < len(batches) {
		n, err := s.commitPrefix(batches[done:])
		done += n
		if err != nil {
			if done > 0 {
				return &PartialCommitError{Committed: done, Err: err}
			}
			return err
		}
	}
	return nil
}

// commitPrefix commits as many leading batches as fit in one transaction
// and returns how many it committed.
func (s *badgerStore) commitPrefix(bs []*Batch) (int, error) {
	n, err := s.tryCommit(bs)
	if err == nil {
		return n, nil
	}
	if !errors.Is(err, badger.ErrTxnTooBig) {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: %w", ErrTooBig, err)
	}
	// The first n batches fitted: write exactly those, in a new
	// transaction, since Badger cannot take back the half-written batch.
	if m, err := s.tryCommit(bs[:n]); err != nil || m != n {
		return 0, fmt.Errorf("store: commit of %d batches that fitted failed: %w", n, err)
	}
	return n, nil
}

// tryCommit applies bs to one transaction and commits it. When a batch does
// not fit, it discards the transaction and returns ErrTxnTooBig with the
// number of batches that did fit; after any other error nothing is written.
func (s *badgerStore) tryCommit(bs []*Batch) (int, error) {
	if err := s.WriteFailure(); err != nil {
		return 0, err
	}
	txn := s.newWrite()
	defer txn.Discard()
	txn.ExpectWrites(expectedEntries(bs))
	s.ov.reset()
	w := writer{s: s, txn: txn, arena: s.arena[:0], minTimer: math.MaxUint64, minOutbox: math.MaxUint64, batches: len(bs)}
	for i, b := range bs {
		if err := w.apply(b); err != nil {
			return i, err
		}
	}
	s.arena = w.arena
	if err := s.commitWrite(txn); err != nil {
		return 0, fmt.Errorf("store: commit: %w", err)
	}
	s.cache.merge(s.ov)
	for _, b := range bs {
		if b.DedupKey != "" {
			s.seen.add(b.DedupKey)
		}
	}
	if w.minTimer != math.MaxUint64 {
		s.timerHint.wrote(w.minTimer)
	}
	if w.minOutbox != math.MaxUint64 {
		s.outboxHint.wrote(w.minOutbox)
	}
	return len(bs), nil
}

// expectedEntries is about how many entries committing bs writes: a
// batch's messages and timers, its session and a few more.
func expectedEntries(bs []*Batch) int {
	n := 0
	for _, b := range bs {
		n += len(b.Messages) + len(b.Timers) + len(b.CancelTimers) + 2
	}
	return n
}

// writer applies batches to one transaction. Keys and values are appended
// to one arena, which Badger references until the commit: the arena only
// grows, so earlier slices stay valid when it is reallocated. Their bytes
// must not change before the transaction ends: Badger keys its map of
// pending writes by them (third_party/badger, patch 9).
type writer struct {
	s     *badgerStore
	txn   *badger.Txn
	arena []byte
	// The earliest timer and outbox entry written, for the due hints.
	minTimer, minOutbox uint64
	// dirtyTimers are the contacts whose timer lists the batch being
	// applied changed.
	dirtyTimers []string
	// entries hold the commit's Badger entries, a chunk at a time, so that
	// an entry is not an allocation of its own; batches is the commit's
	// number of batches, which sizes the chunks.
	entries []badger.Entry
	batches int
}

// entriesPerBatch is about how many entries a batch writes (a REST
// message writes six to eight), and maxEntryChunk bounds one allocation
// of writer.entries.
const entriesPerBatch, maxEntryChunk = 8, 64

// entry returns a new entry of the commit for key and val.
func (w *writer) entry(key, val []byte) *badger.Entry {
	if len(w.entries) == cap(w.entries) {
		w.entries = make([]badger.Entry, 0, min(max(w.batches, 1)*entriesPerBatch, maxEntryChunk))
	}
	w.entries = append(w.entries, badger.Entry{Key: key, Value: val})
	return &w.entries[len(w.entries)-1]
}

// mark returns the arena length, to slice what is appended next.
func (w *writer) mark() int { return len(w.arena) }

// since returns what was appended after mark, capped so that a later append
// cannot write into it.
func (w *writer) since(mark int) []byte { return w.arena[mark:len(w.arena):len(w.arena)] }

func (w *writer) set(key, val []byte) error { return w.txn.SetEntry(w.entry(key, val)) }

func (w *writer) apply(b *Batch) error {
	cid := b.contactID()
	if b.Contact != nil {
		if err := w.putContact(b.Contact); err != nil {
			return err
		}
	}
	for i := range b.Messages {
		m := &b.Messages[i]
		if err := w.putMessage(m, cid); err != nil {
			return err
		}
		// The contact's last Seq is written once per run of its messages,
		// in the session's entry when the batch writes it.
		last := i == len(b.Messages)-1 || b.Messages[i+1].contact(cid) != m.Contact
		if last && (m.Contact != cid || b.Session == nil) {
			if err := w.putLastSeq(m.Contact, m.Seq); err != nil {
				return err
			}
		}
	}
	for i := range b.Updates {
		if err := w.updateMessage(&b.Updates[i], cid); err != nil {
			return err
		}
	}
	w.dirtyTimers = w.dirtyTimers[:0]
	if b.Fired != nil {
		if err := w.fired(b.Fired, cid); err != nil {
			return err
		}
	}
	for _, id := range b.CancelTimers {
		if err := w.cancelTimer(cid, id); err != nil {
			return err
		}
	}
	for i := range b.Timers {
		// A wait's timer rides in the session's head (see keys.go): this
		// batch writes the head.
		t := &b.Timers[i]
		wait := t.Kind == flows.TimerWait && b.Session != nil && (t.Contact == "" || t.Contact == cid) && t.Seq < math.MaxUint64
		if err := w.putTimer(*t, cid, wait); err != nil {
			return err
		}
	}
	switch {
	case b.Session != nil:
		// The session's entry holds the last Seq and the timer list.
		seq, err := w.lastSeq(cid)
		if err != nil {
			return err
		}
		l, err := w.timers(cid)
		if err != nil {
			return err
		}
		k := w.mark()
		w.arena = keySession(w.arena, cid)
		key := w.since(k)
		v := w.mark()
		w.arena = appendSessionHead(w.arena, seq, l)
		if b.SessionEncoded != nil {
			w.arena = append(w.arena, b.SessionEncoded...)
		} else if w.arena, err = flows.AppendSession(w.arena, b.Session); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if err := w.set(key, w.since(v)); err != nil {
			return err
		}
		l.inSession = true
		if l.inF {
			l.inF = false
			k := w.mark()
			w.arena = keyTimerList(w.arena, cid)
			if err := w.txn.Delete(w.since(k)); err != nil {
				return err
			}
		}
		w.dirtyTimers = slices.DeleteFunc(w.dirtyTimers, func(c string) bool { return c == cid })
	case b.DeleteSession:
		// q/ keeps the last Seq, f/ the timers.
		seq, err := w.lastSeq(cid)
		if err != nil {
			return err
		}
		if seq > 0 {
			if err := w.putLastSeq(cid, seq); err != nil {
				return err
			}
		}
		l, err := w.timers(cid)
		if err != nil {
			return err
		}
		k := w.mark()
		w.arena = keySession(w.arena, cid)
		if err := w.txn.Delete(w.since(k)); err != nil {
			return err
		}
		if l.inSession {
			l.inSession = false
			w.dirty(cid)
		}
	}
	for _, c := range w.dirtyTimers {
		if err := w.storeTimers(c, w.s.ov.timers[c]); err != nil {
			return err
		}
	}
	for _, h := range b.Handovers {
		if err := w.putHandover(h); err != nil {
			return err
		}
	}
	if b.DedupKey != "" {
		k := w.mark()
		w.arena = keyDedup(w.arena, b.DedupKey)
		e := w.entry(w.since(k), nil)
		if w.s.dedupTTL > 0 {
			e = e.WithTTL(w.s.dedupTTL)
		}
		if err := w.txn.SetEntry(e); err != nil {
			return err
		}
	}
	return nil
}

// putContact upserts c and, when its channel identity is new or changed,
// its x/ and b/ index entries.
func (w *writer) putContact(c *flows.Contact) error {
	old, err := w.identity(c.ID)
	if err != nil {
		return err
	}
	k := w.mark()
	w.arena = keyContact(w.arena, c.ID)
	key := w.since(k)
	v := w.mark()
	if w.arena, err = flows.AppendContact(w.arena, c); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := w.set(key, w.since(v)); err != nil {
		return err
	}
	id := identity{bot: c.Bot, channel: c.Channel, ext: c.ExternalID}
	w.s.ov.idents[c.ID] = identState{identity: id, exists: true}
	if old.exists && old.identity == id {
		return nil
	}
	if old.exists {
		if err := w.dropIndex(c.ID, old.identity); err != nil {
			return err
		}
	}
	if c.ExternalID != "" {
		k := w.mark()
		w.arena = keyExternal(w.arena, c.Bot, c.Channel, c.ExternalID)
		key := w.since(k)
		v := w.mark()
		w.arena = append(w.arena, c.ID...)
		if err := w.set(key, w.since(v)); err != nil {
			return err
		}
	}
	k = w.mark()
	w.arena = keyByBot(w.arena, c.Bot, c.ID)
	return w.set(w.since(k), nil)
}

// identity returns the stored identity of contact id: from this
// transaction, the cache, or the stored contact.
func (w *writer) identity(id string) (identState, error) {
	if st, ok := w.s.ov.idents[id]; ok {
		return st, nil
	}
	if st, ok := w.s.cache.idents.get(id); ok {
		return st, nil
	}
	var st identState
	err := getIn(w.txn, keyContact(w.arena[len(w.arena):], id), func(v []byte) error {
		old, err := flows.UnmarshalContact(v)
		if err != nil {
			return err
		}
		st = identState{identity: identity{bot: old.Bot, channel: old.Channel, ext: old.ExternalID}, exists: true}
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return st, fmt.Errorf("store: contact %s: %w", id, err)
	}
	return st, nil
}

// dropIndex deletes the index entries of a contact's previous identity; the
// x/ entry only if no other contact has claimed it since.
func (w *writer) dropIndex(id string, old identity) error {
	k := w.mark()
	w.arena = keyByBot(w.arena, old.bot, id)
	if err := w.txn.Delete(w.since(k)); err != nil {
		return err
	}
	if old.ext == "" {
		return nil
	}
	k = w.mark()
	w.arena = keyExternal(w.arena, old.bot, old.channel, old.ext)
	key := w.since(k)
	mine := false
	err := getIn(w.txn, key, func(v []byte) error {
		mine = string(v) == id
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if mine {
		return w.txn.Delete(key)
	}
	return nil
}

// lastSeq returns the Seq of the contact's latest message: from this
// transaction, the cache, or the store (loadMeta).
func (w *writer) lastSeq(contact string) (uint64, error) {
	if last, ok := w.s.ov.seqs[contact]; ok {
		return last, nil
	}
	if m, ok := w.s.cache.contacts.get(contact); ok {
		return m.seq, nil
	}
	if err := w.loadMeta(contact); err != nil {
		return 0, err
	}
	return w.s.ov.seqs[contact], nil
}

// loadMeta reads, in one go, what commits keep of a contact besides its
// messages, into the transaction's overlay where it is not there yet: its
// last message Seq, the greater of its q/ entry and its session's head, and
// its timer list (readTimerList).
func (w *writer) loadMeta(contact string) error {
	l, last, err := readTimerList(w.txn, contact)
	if err != nil {
		return err
	}
	err = getIn(w.txn, keySeq(w.arena[len(w.arena):], contact), func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("store: bad sequence of contact %s", contact)
		}
		last = max(last, binary.BigEndian.Uint64(v))
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if _, ok := w.s.ov.seqs[contact]; !ok {
		w.s.ov.seqs[contact] = last
	}
	if _, ok := w.s.ov.timers[contact]; !ok {
		w.s.ov.timers[contact] = &l
	}
	return nil
}

// putMessage assigns m the contact's next Seq and writes it.
func (w *writer) putMessage(m *Message, cid string) error {
	if m.Contact == "" {
		m.Contact = cid
	}
	last, err := w.lastSeq(m.Contact)
	if err != nil {
		return err
	}
	m.Seq = last + 1
	w.s.ov.seqs[m.Contact] = m.Seq
	queued := m.Direction == DirectionOut && m.Status == StatusQueued
	if queued && m.NextAttempt.IsZero() {
		m.NextAttempt = m.Time
	}
	k := w.mark()
	w.arena = keyMessage(w.arena, m.Contact, m.Seq)
	key := w.since(k)
	v := w.mark()
	w.arena = appendMessage(w.arena, m)
	if err := w.set(key, w.since(v)); err != nil {
		return err
	}
	if queued {
		if err := w.setOutbox(outboxDue(m), m.Contact, m.Seq); err != nil {
			return err
		}
	}
	if m.Direction == DirectionOut && m.ExternalID != "" {
		return w.setMessageExternal(m.Channel, m.ExternalID, m.Contact, m.Seq)
	}
	return nil
}

func (w *writer) setOutbox(due uint64, contact string, seq uint64) error {
	w.minOutbox = min(w.minOutbox, due)
	k := w.mark()
	w.arena = keyOutbox(w.arena, due, contact, seq)
	return w.set(w.since(k), nil)
}

func (w *writer) setMessageExternal(channel, ext, contact string, seq uint64) error {
	k := w.mark()
	w.arena = keyMessageExternal(w.arena, channel, ext)
	key := w.since(k)
	v := w.mark()
	w.arena = appendMessageRef(w.arena, contact, seq)
	return w.set(key, w.since(v))
}

// updateMessage applies a StatusUpdate: it rewrites the stored message
// (its content bytes are copied, not decoded) and moves its o/ and e/
// entries. The message is read in the transaction, so an update sees the
// messages and updates applied before it in the same Commit.
func (w *writer) updateMessage(u *StatusUpdate, cid string) error {
	contact := u.contact(cid)
	k := w.mark()
	w.arena = keyMessage(w.arena, contact, u.Seq)
	key := w.since(k)
	var old, m Message
	v := w.mark()
	err := getIn(w.txn, key, func(val []byte) error {
		i, err := decodeMessageHead(val, &old)
		if err != nil {
			return err
		}
		if old.Direction != DirectionOut {
			return fmt.Errorf("%w: status update of message %d of contact %q, which is inbound", ErrInvalid, u.Seq, contact)
		}
		m = old
		m.Status = u.Status
		if u.ExternalID != "" {
			m.ExternalID = u.ExternalID
		}
		if u.Error != "" {
			m.Error = u.Error
		}
		if u.Attempts != 0 {
			m.Attempts = u.Attempts
		}
		if !u.NextAttempt.IsZero() {
			m.NextAttempt = u.NextAttempt
		}
		w.arena = appendMessageHead(w.arena, &m)
		w.arena = append(w.arena, val[i:]...)
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: status update of message %d of contact %q: %w", ErrInvalid, u.Seq, contact, ErrNotFound)
	}
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			err = fmt.Errorf("store: message %d of contact %q: %w", u.Seq, contact, err)
		}
		return err
	}
	if err := w.set(key, w.since(v)); err != nil {
		return err
	}
	wasQueued, queued := old.Status == StatusQueued, m.Status == StatusQueued
	oldDue, due := outboxDue(&old), outboxDue(&m)
	if wasQueued && (!queued || oldDue != due) {
		k := w.mark()
		w.arena = keyOutbox(w.arena, oldDue, contact, u.Seq)
		if err := w.txn.Delete(w.since(k)); err != nil {
			return err
		}
	}
	if queued && (!wasQueued || oldDue != due) {
		if err := w.setOutbox(due, contact, u.Seq); err != nil {
			return err
		}
	}
	if m.ExternalID == old.ExternalID {
		return nil
	}
	if old.ExternalID != "" {
		if err := w.dropMessageExternal(old.Channel, old.ExternalID, contact, u.Seq); err != nil {
			return err
		}
	}
	return w.setMessageExternal(m.Channel, m.ExternalID, contact, u.Seq)
}

// dropMessageExternal deletes the e/ entry of a message's previous external
// id, if it still refers to the message.
func (w *writer) dropMessageExternal(channel, ext, contact string, seq uint64) error {
	k := w.mark()
	w.arena = keyMessageExternal(w.arena, channel, ext)
	key := w.since(k)
	r := w.mark()
	w.arena = appendMessageRef(w.arena, contact, seq)
	ref := w.since(r)
	mine := false
	err := getIn(w.txn, key, func(v []byte) error {
		mine = bytes.Equal(v, ref)
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if mine {
		return w.txn.Delete(key)
	}
	return nil
}

// putLastSeq records the contact's last Seq, where the next commit (after
// a restart, or a cache eviction) finds it.
func (w *writer) putLastSeq(contact string, seq uint64) error {
	k := w.mark()
	w.arena = keySeq(w.arena, contact)
	key := w.since(k)
	v := w.mark()
	w.arena = binary.BigEndian.AppendUint64(w.arena, seq)
	return w.set(key, w.since(v))
}

// timers returns the contact's timer list: from this transaction, the
// cache, or the store. The list is the transaction's own, to change in
// place; changing it, call dirty.
func (w *writer) timers(contact string) (*timerList, error) {
	if l, ok := w.s.ov.timers[contact]; ok {
		return l, nil
	}
	if m, ok := w.s.cache.contacts.get(contact); ok {
		l := m.timers
		l.ts = slices.Clone(l.ts)
		w.s.ov.timers[contact] = &l
		return &l, nil
	}
	if err := w.loadMeta(contact); err != nil {
		return nil, err
	}
	return w.s.ov.timers[contact], nil
}

// readTimerList reads a contact's timer list from the head of its s/ entry
// and from f/ (only one holds it, but a list in both is merged), and the
// last message Seq the head holds.
func readTimerList(txn *badger.Txn, contact string) (l timerList, seq uint64, err error) {
	err = getIn(txn, keySession(nil, contact), func(v []byte) error {
		var err error
		seq, l, _, err = splitSessionHead(v)
		l.inSession = true
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return l, 0, fmt.Errorf("store: session of contact %s: %w", contact, err)
	}
	err = getIn(txn, keyTimerList(nil, contact), func(v []byte) error {
		ts, rest, err := parseTimerList(v, false)
		if err == nil && len(rest) > 0 {
			err = errBadTimerList
		}
		for _, t := range ts {
			if l.ts.find(t.id) < 0 {
				l.ts = append(l.ts, t)
			}
		}
		l.inF = true
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return l, 0, fmt.Errorf("store: timers of contact %s: %w", contact, err)
	}
	return l, seq, nil
}

// dirty records that the contact's timer list changed in this batch.
func (w *writer) dirty(contact string) {
	if !slices.Contains(w.dirtyTimers, contact) {
		w.dirtyTimers = append(w.dirtyTimers, contact)
	}
}

// storeTimers writes a changed timer list where it lives: into the head of
// the contact's s/ entry (keeping the rest of it), else into f/. A session
// written by the batch itself carries its list, so this is for the other
// batches (a timer of a contact without a session, a system timer).
func (w *writer) storeTimers(contact string, l *timerList) error {
	if l.inSession {
		k := w.mark()
		w.arena = keySession(w.arena, contact)
		key := w.since(k)
		v := w.mark()
		err := getIn(w.txn, key, func(old []byte) error {
			seq, _, sess, err := splitSessionHead(old)
			if err != nil {
				return err
			}
			w.arena = append(appendSessionHead(w.arena, seq, l), sess...)
			return nil
		})
		if err == nil {
			return w.set(key, w.since(v))
		}
		if !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("store: session of contact %s: %w", contact, err)
		}
		l.inSession = false // gone: the list goes to f/
	}
	// Without a session there is nothing to wait for: f/ holds no waits,
	// and the wake goes.
	l.ts = slices.DeleteFunc(l.ts, func(t timerRef) bool { return t.wait != 0 })
	if l.wake != 0 {
		if err := w.deleteWake(contact, l); err != nil {
			return err
		}
	}
	k := w.mark()
	w.arena = keyTimerList(w.arena, contact)
	key := w.since(k)
	if len(l.ts) == 0 {
		if !l.inF {
			return nil
		}
		l.inF = false
		return w.txn.Delete(key)
	}
	v := w.mark()
	w.arena = appendTimerList(w.arena, l.ts)
	l.inF = true
	return w.set(key, w.since(v))
}

func (w *writer) cancelTimer(contact, id string) error {
	l, err := w.timers(contact)
	if err != nil {
		return err
	}
	i := l.ts.find(id)
	if i < 0 {
		return nil
	}
	t := l.ts[i]
	l.ts = slices.Delete(l.ts, i, i+1)
	w.dirty(contact)
	if t.wait != 0 {
		return nil // the wake stays, and finds nothing due
	}
	k := w.mark()
	w.arena = keyTimer(w.arena, t.due, id)
	return w.txn.Delete(w.since(k))
}

// fired deletes a timer that came due (see Batch.Fired).
func (w *writer) fired(t *flows.Timer, cid string) error {
	contact := t.Contact
	if contact == "" {
		contact = cid
	}
	l, err := w.timers(contact)
	if err != nil {
		return err
	}
	due := dueBits(t.Due)
	if t.Kind == TimerWake {
		if l.wake != due {
			// Moved since, or a wake whose list lost it: delete what fired.
			k := w.mark()
			w.arena = keyTimer(w.arena, due, t.ID)
			return w.txn.Delete(w.since(k))
		}
		return w.moveWake(contact, l)
	}
	i := l.ts.find(t.ID)
	switch {
	case i >= 0 && l.ts[i].due != due:
		return nil // moved since it fired: the move deleted this entry
	case i >= 0 && l.ts[i].wait != 0:
		l.ts = slices.Delete(l.ts, i, i+1)
		w.dirty(contact)
		return w.moveWake(contact, l)
	case i >= 0:
		l.ts = slices.Delete(l.ts, i, i+1)
		w.dirty(contact)
	}
	k := w.mark()
	w.arena = keyTimer(w.arena, due, t.ID)
	if err := w.txn.Delete(w.since(k)); err != nil {
		return err
	}
	if i < 0 && t.Kind == flows.TimerWait && l.wake != 0 && l.wake <= due {
		// A wait that ended after its wake found it due: the wake moves on.
		return w.moveWake(contact, l)
	}
	return nil
}

// moveWake moves the contact's wake to its earliest wait, or deletes it
// when no wait is left.
func (w *writer) moveWake(contact string, l *timerList) error {
	if first := l.ts.firstWait(); first != 0 {
		return w.setWake(contact, l, first)
	}
	if l.wake != 0 {
		return w.deleteWake(contact, l)
	}
	return nil
}

func (w *writer) deleteWake(contact string, l *timerList) error {
	k := w.mark()
	w.arena = keyWake(w.arena, l.wake, contact)
	l.wake = 0
	w.dirty(contact)
	return w.txn.Delete(w.since(k))
}

// setWake sets the contact's wake at due, in place of the one it had.
func (w *writer) setWake(contact string, l *timerList, due uint64) error {
	due = max(due, 1) // 0 is no wake
	if due == l.wake {
		return nil
	}
	if l.wake != 0 {
		if err := w.deleteWake(contact, l); err != nil {
			return err
		}
	}
	l.wake = due
	w.dirty(contact)
	w.minTimer = min(w.minTimer, due)
	k := w.mark()
	w.arena = keyWake(w.arena, due, contact)
	return w.set(w.since(k), nil)
}

// putTimer sets t; wait: as a wait's timer, in the list only (the batch
// writes the contact's session).
func (w *writer) putTimer(t flows.Timer, cid string, wait bool) error {
	if t.Contact == "" {
		t.Contact = cid
	}
	l, err := w.timers(t.Contact)
	if err != nil {
		return err
	}
	due := dueBits(t.Due)
	i := l.ts.find(t.ID)
	if i >= 0 && l.ts[i].wait == 0 && (wait || l.ts[i].due != due) {
		// Its own entry goes: it moves, or now lives in the list only.
		k := w.mark()
		w.arena = keyTimer(w.arena, l.ts[i].due, t.ID)
		if err := w.txn.Delete(w.since(k)); err != nil {
			return err
		}
	}
	switch {
	case i < 0:
		if len(l.ts) >= maxContactTimers {
			return fmt.Errorf("%w: contact %s has %d timers, the most it may have", ErrInvalid, t.Contact, maxContactTimers)
		}
		l.ts = append(l.ts, timerRef{id: strings.Clone(t.ID), due: due})
		i = len(l.ts) - 1
		w.dirty(t.Contact)
	case l.ts[i].due != due:
		l.ts[i].due = due
		w.dirty(t.Contact)
	}
	if wait {
		l.ts[i].wait = t.Seq + 1
		w.dirty(t.Contact)
		if l.wake != 0 && l.wake <= max(due, 1) {
			return nil // an earlier wake finds it
		}
		return w.setWake(t.Contact, l, due)
	}
	if l.ts[i].wait != 0 {
		l.ts[i].wait = 0
		w.dirty(t.Contact)
	}
	w.minTimer = min(w.minTimer, due)
	k := w.mark()
	w.arena = keyTimer(w.arena, due, t.ID)
	key := w.since(k)
	v := w.mark()
	if w.arena, err = flows.AppendTimer(w.arena, &t); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return w.set(key, w.since(v))
}
