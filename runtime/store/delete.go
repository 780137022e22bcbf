package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchboard-bots/switchboard/flows"
)

// deleteChunk bounds the keys one transaction of DeleteContact deletes.
const deleteChunk = 2000

// testHookDeleteChunk, when set by a test, is called after each of
// DeleteContact's transactions; an error stops it there, as a crash would.
var testHookDeleteChunk func() error

// DeleteContact deletes a contact and everything of it: the contact and its
// indexes, its session, its conversation (with the messages' outbox and
// receipt entries), its timers and its handovers. A long conversation is
// deleted in several transactions; if the process stops in the middle,
// part of it is left, and deleting again finishes. The contact's
// de-duplication keys stay (they hold channel message ids only, and expire
// with DedupTTL). Call it between the contact's steps (the pipeline does),
// so that no step writes to the contact meanwhile. A contact that does not
// exist is ErrNotFound.
func (s *badgerStore) DeleteContact(ctx context.Context, id string) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.life.RUnlock()
	s.commitMu.Lock()
	defer s.commitMu.Unlock()

	var keys, last [][]byte
	err := s.view(func(txn *badger.Txn) error {
		var c *flows.Contact
		err := getIn(txn, keyContact(nil, id), func(v []byte) (err error) {
			c, err = flows.UnmarshalContact(v)
			return err
		})
		if err != nil {
			return err
		}
		// First the timers, with the lists that point to them (f/, and
		// s/, whose head holds the list while there is a session), so
		// that no timer outlives its list; last the contact and its
		// indexes, so that a DeleteContact cut short finds it again and
		// finishes.
		l, _, err := readTimerList(txn, id)
		if err != nil {
			return err
		}
		for _, t := range l.ts {
			if t.wait == 0 {
				keys = append(keys, keyTimer(nil, t.due, t.id))
			}
		}
		keys = append(keys, keyTimerList(nil, id), keySession(nil, id), keySeq(nil, id))
		if l.wake != 0 {
			// After s/, which names it: a wake without its head is
			// deleted when it comes due, a head without its wake would
			// never wake.
			keys = append(keys, keyWake(nil, l.wake, id))
		}
		last = append(last, keyByBot(nil, c.Bot, id))
		if c.ExternalID != "" {
			x := keyExternal(nil, c.Bot, c.Channel, c.ExternalID)
			if err := getIn(txn, x, func(v []byte) error {
				if string(v) == id {
					last = append(last, x)
				}
				return nil
			}); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		// The conversation, and what points at its messages.
		err = scanPrefix(ctx, txn, prefixMessages(nil, id), true, func(k, v []byte) error {
			keys = append(keys, bytes.Clone(k))
			seq := binary.BigEndian.Uint64(k[len(k)-8:])
			var m Message
			if _, err := decodeMessageHead(v, &m); err != nil {
				return fmt.Errorf("message %d: %w", seq, err)
			}
			m.Contact, m.Seq = id, seq
			if m.Status == StatusQueued {
				keys = append(keys, keyOutbox(nil, outboxDue(&m), id, seq))
			}
			if m.Direction == DirectionOut && m.ExternalID != "" {
				e := keyMessageExternal(nil, m.Channel, m.ExternalID)
				ref := appendMessageRef(nil, id, seq)
				if err := getIn(txn, e, func(v []byte) error {
					if bytes.Equal(v, ref) {
						keys = append(keys, e)
					}
					return nil
				}); err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		prefix := prefixContactHandovers(nil, id)
		return scanPrefix(ctx, txn, prefix, false, func(k, _ []byte) error {
			hid := string(k[len(prefix):])
			keys = append(keys, bytes.Clone(k), keyHandover(nil, hid), keyOpen(nil, hid))
			return nil
		})
	})
	if err != nil {
		return err
	}
	keys = append(append(keys, last...), keyContact(nil, id))
	for len(keys) > 0 {
		n := min(len(keys), deleteChunk)
		err := s.updateLocked(func(txn *badger.Txn) error {
			for _, k := range keys[:n] {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil && testHookDeleteChunk != nil {
			err = testHookDeleteChunk()
		}
		if err != nil {
			return fmt.Errorf("store: deleting contact %s: %w", id, err)
		}
		keys = keys[n:]
	}
	s.cache.contacts.drop(id)
	s.cache.idents.drop(id)
	return nil
}

// scanPrefix calls fn with every key under prefix (and its value, when
// values is set), checking ctx as it goes.
func scanPrefix(ctx context.Context, txn *badger.Txn, prefix []byte, values bool, fn func(k, v []byte) error) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: values})
	defer it.Close()
	for it.Rewind(); it.ValidForPrefix(prefix); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		item := it.Item()
		var v []byte
		if values {
			var err error
			if v, err = item.ValueCopy(nil); err != nil {
				return err
			}
		}
		if err := fn(item.Key(), v); err != nil {
			return err
		}
	}
	return nil
}
