package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// The timer index of stores written before timer lists (keys.go):
// i/{timer id} → {due}{contact id}, and an empty k/{lp contact id}{due}{timer
// id} entry beside it.
const (
	tOldTimerID      = "i/"
	tOldContactTimer = "k/"
)

// migrateChunk bounds the timers one migration transaction rewrites; a
// transaction that is too big (contacts' sessions are rewritten whole, to
// take their timer lists) is retried with half as many.
const migrateChunk = 200

// migrateTimerIndex rewrites the timer index of a store written before the
// current layout (keys.go): the i/ and k/ entries become each contact's
// timer list. A store without i/ entries costs one seek. Each chunk is one
// transaction and removes the i/ entries it rewrote, so an interrupted
// migration resumes at the next Open.
func (s *badgerStore) migrateTimerIndex() error {
	prefix := []byte(tOldTimerID)
	type old struct {
		id, contact string
		due         uint64
	}
	chunk := migrateChunk
	for {
		var olds []old
		err := s.view(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
			defer it.Close()
			for it.Rewind(); it.ValidForPrefix(prefix) && len(olds) < chunk; it.Next() {
				item := it.Item()
				id := string(item.Key()[len(prefix):])
				err := item.Value(func(v []byte) error {
					if len(v) < 8 {
						return fmt.Errorf("bad index entry of timer %q", id)
					}
					olds = append(olds, old{id: id, contact: string(v[8:]), due: binary.BigEndian.Uint64(v)})
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("store: migrating the timer index: %w", err)
		}
		if len(olds) == 0 {
			return nil
		}
		err = s.update(func(txn *badger.Txn) error {
			w := writer{txn: txn}
			lists := map[string]*timerList{}
			for _, o := range olds {
				l := lists[o.contact]
				if l == nil {
					read, _, err := readTimerList(txn, o.contact)
					if err != nil {
						return err
					}
					l = &read
					lists[o.contact] = l
				}
				if l.ts.find(o.id) < 0 {
					l.ts = append(l.ts, timerRef{id: o.id, due: o.due})
				}
				oldKey := binary.BigEndian.AppendUint64(appendLP([]byte(tOldContactTimer), o.contact), o.due)
				if err := txn.Delete(append(oldKey, o.id...)); err != nil {
					return err
				}
				if err := txn.Delete(append([]byte(tOldTimerID), o.id...)); err != nil {
					return err
				}
			}
			for c, l := range lists {
				if err := w.storeTimers(c, l); err != nil {
					return err
				}
			}
			return nil
		})
		if errors.Is(err, badger.ErrTxnTooBig) && chunk > 1 {
			chunk /= 2
			continue
		}
		if err != nil {
			return fmt.Errorf("store: migrating the timer index: %w", err)
		}
	}
}
