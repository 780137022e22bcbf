package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Accounts keeps the people and programs that may use the API: user
// accounts (an email and a password hash) and API tokens (stored as the
// SHA-256 of the token, never the token). The store does no hashing or
// checking of its own: runtime/api does.
type Accounts interface {
	// PutAccount creates or replaces an account. Emails are unique
	// (compared in lower case): an email used by another account is
	// ErrExists.
	PutAccount(ctx context.Context, a *Account) error
	// Account returns the account with id, or ErrNotFound.
	Account(ctx context.Context, id string) (*Account, error)
	// AccountByEmail returns the account with email (any case), or
	// ErrNotFound.
	AccountByEmail(ctx context.Context, email string) (*Account, error)
	// ListAccounts returns every account in ID order.
	ListAccounts(ctx context.Context) ([]*Account, error)
	// DeleteAccount deletes an account, frees its email and deletes every
	// token it signed in with or created, in one transaction; an unknown
	// id is ErrNotFound.
	DeleteAccount(ctx context.Context, id string) error
	// PutToken creates or replaces a token. Its Hash is unique: a hash
	// used by another token is ErrExists. A token with an ExpiresAt is
	// also dropped by the store some time after it expires.
	PutToken(ctx context.Context, t *Token) error
	// TokenByHash returns the token whose Hash is hash, or ErrNotFound.
	// It does not check ExpiresAt.
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)
	// ListTokens returns every token (expired ones the store has not
	// dropped yet included) in ID order.
	ListTokens(ctx context.Context) ([]*Token, error)
	// DeleteToken deletes a token, or returns ErrNotFound.
	DeleteToken(ctx context.Context, id string) error
}

// ErrExists is returned when a unique email or token hash is taken.
var ErrExists = errors.New("store: already exists")

// Account is a person who can sign in: an admin, a manager or an agent
// (the roles of runtime/access). What the role allows is decided by
// runtime/access; the store only keeps the fields.
type Account struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	// Name is the display name agents and customers see.
	Name string `json:"name,omitempty"`
	// PasswordHash is an encoded password hash (argon2id, with its salt
	// and parameters).
	PasswordHash string `json:"password_hash"`
	// Role is "admin", "manager" or "agent". Accounts stored before
	// roles came are admins and say so.
	Role string `json:"role"`
	// Bots are the ids of the bots a manager or agent works on; an
	// admin's are ignored (it works on all).
	Bots []string `json:"bots,omitempty"`
	// Teams are the ids of the teams (queues) the account works in.
	Teams []string `json:"teams,omitempty"`
	// Capacity is the most open chats the account takes at once; 0 means
	// DefaultCapacity (see OpenLimit).
	Capacity int `json:"capacity,omitempty"`
	// Disabled accounts cannot sign in, and their tokens are refused.
	Disabled  bool      `json:"disabled,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DefaultCapacity is the capacity of an account that sets none.
const DefaultCapacity = 5

// OpenLimit is the most open chats a takes at once: its Capacity, or
// DefaultCapacity when that is 0.
func (a *Account) OpenLimit() int {
	if a.Capacity <= 0 {
		return DefaultCapacity
	}
	return a.Capacity
}

// Token kinds.
const (
	// TokenAPI is a token made for a program; it lives until revoked (or
	// its ExpiresAt).
	TokenAPI = "api"
	// TokenSession is a token handed out by a sign-in; it expires.
	TokenSession = "session"
)

// Token is an API or session token, without its secret.
type Token struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kind is TokenAPI or TokenSession.
	Kind string `json:"kind"`
	// Hash is the SHA-256 of the token.
	Hash []byte `json:"hash"`
	// Scopes are "read", "write" or "admin".
	Scopes []string `json:"scopes"`
	// Account is the account that created the token (or signed in).
	Account   string    `json:"account,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func validEmail(e string) bool { return e != "" && !strings.ContainsAny(e, "\x00") }

// accountWrite runs fn in an update transaction, serialized with commits
// (commitMu) so that its uniqueness checks cannot race another write.
func (s *badgerStore) accountWrite(ctx context.Context, fn func(txn *badger.Txn) error) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.life.RUnlock()
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	return s.updateLocked(fn)
}

func (s *badgerStore) PutAccount(ctx context.Context, a *Account) error {
	if a == nil || a.ID == "" || !validEmail(a.Email) {
		return fmt.Errorf("%w: an account needs an ID and an email", ErrInvalid)
	}
	val, err := json.Marshal(a)
	if err != nil {
		return err
	}
	email := strings.ToLower(a.Email)
	return s.accountWrite(ctx, func(txn *badger.Txn) error {
		var owner string
		err := getIn(txn, keyAccountEmail(nil, email), func(v []byte) error { owner = string(v); return nil })
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		case owner != a.ID:
			return fmt.Errorf("%w: email %s", ErrExists, a.Email)
		}
		var old Account
		err = getIn(txn, keyAccount(nil, a.ID), func(v []byte) error { return json.Unmarshal(v, &old) })
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		default:
			if oldEmail := strings.ToLower(old.Email); oldEmail != email {
				if err := txn.Delete(keyAccountEmail(nil, oldEmail)); err != nil {
					return err
				}
			}
		}
		if err := txn.Set(keyAccountEmail(nil, email), []byte(a.ID)); err != nil {
			return err
		}
		return txn.Set(keyAccount(nil, a.ID), val)
	})
}

func (s *badgerStore) Account(ctx context.Context, id string) (*Account, error) {
	var a Account
	if err := s.get(ctx, keyAccount(nil, id), func(v []byte) error { return json.Unmarshal(v, &a) }); err != nil {
		return nil, err
	}
	return &a, nil
}

func (s *badgerStore) AccountByEmail(ctx context.Context, email string) (*Account, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	var a Account
	err := s.view(func(txn *badger.Txn) error {
		var id []byte
		if err := getIn(txn, keyAccountEmail(nil, strings.ToLower(email)), func(v []byte) error { id = append(id, v...); return nil }); err != nil {
			return err
		}
		return getIn(txn, keyAccount(nil, string(id)), func(v []byte) error { return json.Unmarshal(v, &a) })
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func (s *badgerStore) ListAccounts(ctx context.Context) ([]*Account, error) {
	var out []*Account
	err := s.scan(ctx, []byte(tAccount), func(v []byte) error {
		var a Account
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		out = append(out, &a)
		return nil
	})
	return out, err
}

func (s *badgerStore) DeleteAccount(ctx context.Context, id string) error {
	return s.accountWrite(ctx, func(txn *badger.Txn) error {
		var a Account
		if err := getIn(txn, keyAccount(nil, id), func(v []byte) error { return json.Unmarshal(v, &a) }); err != nil {
			return err
		}
		// Its tokens: a scan of the token table, which holds one entry per
		// person signed in or program, not per conversation.
		var doomed []Token
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(tToken), PrefetchValues: true, PrefetchSize: 100})
		for it.Rewind(); it.Valid(); it.Next() {
			var t Token
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &t) }); err != nil {
				it.Close()
				return err
			}
			if t.Account == id {
				doomed = append(doomed, t)
			}
		}
		it.Close()
		for _, t := range doomed {
			if err := txn.Delete(keyTokenHash(nil, t.Hash)); err != nil {
				return err
			}
			if err := txn.Delete(keyToken(nil, t.ID)); err != nil {
				return err
			}
		}
		if err := txn.Delete(keyAccountEmail(nil, strings.ToLower(a.Email))); err != nil {
			return err
		}
		return txn.Delete(keyAccount(nil, id))
	})
}

func (s *badgerStore) PutToken(ctx context.Context, t *Token) error {
	if t == nil || t.ID == "" || len(t.Hash) == 0 {
		return fmt.Errorf("%w: a token needs an ID and a hash", ErrInvalid)
	}
	val, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return s.accountWrite(ctx, func(txn *badger.Txn) error {
		var owner string
		err := getIn(txn, keyTokenHash(nil, t.Hash), func(v []byte) error { owner = string(v); return nil })
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		case owner != t.ID:
			return fmt.Errorf("%w: token hash", ErrExists)
		}
		var old Token
		err = getIn(txn, keyToken(nil, t.ID), func(v []byte) error { return json.Unmarshal(v, &old) })
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		case string(old.Hash) != string(t.Hash):
			if err := txn.Delete(keyTokenHash(nil, old.Hash)); err != nil {
				return err
			}
		}
		byHash := badger.NewEntry(keyTokenHash(nil, t.Hash), []byte(t.ID))
		tok := badger.NewEntry(keyToken(nil, t.ID), val)
		if !t.ExpiresAt.IsZero() {
			// Kept a day past expiry, so that a lookup can still say
			// "expired" rather than "unknown" for a while.
			ttl := time.Until(t.ExpiresAt) + 24*time.Hour
			if ttl < time.Second {
				ttl = time.Second
			}
			byHash, tok = byHash.WithTTL(ttl), tok.WithTTL(ttl)
		}
		if err := txn.SetEntry(byHash); err != nil {
			return err
		}
		return txn.SetEntry(tok)
	})
}

func (s *badgerStore) TokenByHash(ctx context.Context, hash []byte) (*Token, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	var t Token
	err := s.view(func(txn *badger.Txn) error {
		var id []byte
		if err := getIn(txn, keyTokenHash(nil, hash), func(v []byte) error { id = append(id, v...); return nil }); err != nil {
			return err
		}
		return getIn(txn, keyToken(nil, string(id)), func(v []byte) error { return json.Unmarshal(v, &t) })
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func (s *badgerStore) ListTokens(ctx context.Context) ([]*Token, error) {
	var out []*Token
	err := s.scan(ctx, []byte(tToken), func(v []byte) error {
		var t Token
		if err := json.Unmarshal(v, &t); err != nil {
			return err
		}
		out = append(out, &t)
		return nil
	})
	return out, err
}

func (s *badgerStore) DeleteToken(ctx context.Context, id string) error {
	return s.accountWrite(ctx, func(txn *badger.Txn) error {
		var t Token
		if err := getIn(txn, keyToken(nil, id), func(v []byte) error { return json.Unmarshal(v, &t) }); err != nil {
			return err
		}
		if err := txn.Delete(keyTokenHash(nil, t.Hash)); err != nil {
			return err
		}
		return txn.Delete(keyToken(nil, id))
	})
}

// scan calls fn with the value of every key under prefix, in key order.
func (s *badgerStore) scan(ctx context.Context, prefix []byte, fn func(v []byte) error) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.life.RUnlock()
	return s.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := it.Item().Value(fn); err != nil {
				return err
			}
		}
		return nil
	})
}
