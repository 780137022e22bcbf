package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/switchboard-bots/switchboard/flows"
)

// BotVersions keeps the history of the bot files published through the
// API. The bots folder stays what runs: a version is only a record of a
// source, numbered 1, 2, 3… per bot.
type BotVersions interface {
	// PutBotVersion stores a version. Version 0 appends the next number
	// of the bot; a Version n > 0 replaces version n, which must exist
	// (ErrNotFound otherwise). It returns the version as stored.
	PutBotVersion(ctx context.Context, v BotVersion) (BotVersion, error)
	// BotVersions lists a bot's versions newest first, without their
	// Source, limit at a time (DefaultPage when 0, at most MaxPage). Pass
	// the returned cursor to get the next (older) page; it is empty on the
	// last page.
	BotVersions(ctx context.Context, bot, cursor string, limit int) ([]BotVersion, string, error)
	// BotVersion returns version n of bot, or ErrNotFound.
	BotVersion(ctx context.Context, bot string, n int) (*BotVersion, error)
}

// Bot version formats.
const (
	FormatYAML = "yaml"
	FormatJSON = "json"
)

// BotVersion is one stored version of a bot file.
type BotVersion struct {
	Bot     string `json:"bot"`
	Version int    `json:"version"`
	// Source is the bot file, at most flows.MaxFileSize bytes (an
	// in-memory store takes at most 1 MiB: Badger keeps its values in
	// the LSM tree).
	Source []byte `json:"-"`
	// SHA256 is the hex SHA-256 of Source, set by the store.
	SHA256 string `json:"sha256"`
	// Format is FormatYAML or FormatJSON.
	Format    string    `json:"format"`
	Author    string    `json:"author,omitempty"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Published reports whether this version was written to the bots
	// folder.
	Published bool `json:"published"`
}

func decodeBotVersion(b []byte) (*BotVersion, error) {
	var v BotVersion
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

func (s *badgerStore) PutBotVersion(ctx context.Context, v BotVersion) (BotVersion, error) {
	switch {
	case v.Bot == "" || v.Version < 0:
		return v, fmt.Errorf("%w: a bot version needs a bot", ErrInvalid)
	case len(v.Source) == 0 || len(v.Source) > flows.MaxFileSize:
		return v, fmt.Errorf("%w: a bot version's source is 1 to %d bytes", ErrInvalid, flows.MaxFileSize)
	case v.Format != FormatYAML && v.Format != FormatJSON:
		return v, fmt.Errorf("%w: a bot version's format is yaml or json", ErrInvalid)
	}
	sum := sha256.Sum256(v.Source)
	v.SHA256 = hex.EncodeToString(sum[:])
	if v.CreatedAt.IsZero() {
		v.CreatedAt = time.Now().UTC()
	}
	err := s.accountWrite(ctx, func(txn *badger.Txn) error {
		if v.Version > 0 {
			if _, err := txn.Get(keyBotVersion(nil, v.Bot, v.Version)); err != nil {
				if errors.Is(err, badger.ErrKeyNotFound) {
					return ErrNotFound
				}
				return err
			}
		} else {
			prefix := prefixBotVersions(nil, v.Bot)
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
			it.Seek(append(bytes.Clone(prefix), 0xff))
			last := 0
			if it.ValidForPrefix(prefix) {
				last = int(binary.BigEndian.Uint64(it.Item().Key()[len(prefix):]))
			}
			it.Close()
			v.Version = last + 1
		}
		meta, err := json.Marshal(&v)
		if err != nil {
			return err
		}
		if err := txn.Set(keyBotSource(nil, v.Bot, v.Version), v.Source); err != nil {
			return err
		}
		return txn.Set(keyBotVersion(nil, v.Bot, v.Version), meta)
	})
	return v, err
}

func (s *badgerStore) BotVersion(ctx context.Context, bot string, n int) (*BotVersion, error) {
	if n <= 0 {
		return nil, ErrNotFound
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	var v *BotVersion
	err := s.view(func(txn *badger.Txn) error {
		if err := getIn(txn, keyBotVersion(nil, bot, n), func(b []byte) (err error) {
			v, err = decodeBotVersion(b)
			return err
		}); err != nil {
			return err
		}
		return getIn(txn, keyBotSource(nil, bot, n), func(b []byte) error {
			v.Source = bytes.Clone(b)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (s *badgerStore) BotVersions(ctx context.Context, bot, cursor string, limit int) ([]BotVersion, string, error) {
	before := uint64(1<<63 - 1)
	if cursor != "" {
		n, err := strconv.ParseUint(cursor, 10, 63)
		if err != nil || n == 0 {
			return nil, "", ErrBadCursor
		}
		before = n
	}
	if err := s.begin(ctx); err != nil {
		return nil, "", err
	}
	defer s.life.RUnlock()
	limit = pageSize(limit, DefaultPage, MaxPage)
	var out []BotVersion
	next := ""
	err := s.view(func(txn *badger.Txn) error {
		prefix := prefixBotVersions(nil, bot)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true, PrefetchValues: true, PrefetchSize: min(limit, 100)})
		defer it.Close()
		// The first key below the cursor: versions are newest first.
		it.Seek(binary.BigEndian.AppendUint64(bytes.Clone(prefix), before-1))
		for ; it.ValidForPrefix(prefix); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if len(out) == limit {
				next = strconv.Itoa(out[len(out)-1].Version)
				return nil
			}
			var v *BotVersion
			if err := it.Item().Value(func(b []byte) (err error) {
				v, err = decodeBotVersion(b)
				return err
			}); err != nil {
				return err
			}
			out = append(out, *v)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}
