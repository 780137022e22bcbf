package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"
)

func TestAccounts(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		ctx := context.Background()
		if as, err := st.ListAccounts(ctx); err != nil || len(as) != 0 {
			t.Fatalf("empty store: %v %v", as, err)
		}
		a := &Account{ID: "a1", Email: "Admin@Localhost", PasswordHash: "$argon2id$x", Role: "admin", CreatedAt: time.Unix(1, 0).UTC()}
		if err := st.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err := st.AccountByEmail(ctx, "admin@localhost")
		if err != nil || got.ID != "a1" || got.PasswordHash != "$argon2id$x" || got.Email != "Admin@Localhost" {
			t.Fatalf("by email: %+v %v", got, err)
		}
		if err := st.PutAccount(ctx, &Account{ID: "a2", Email: "ADMIN@localhost"}); !errors.Is(err, ErrExists) {
			t.Fatalf("duplicate email: %v", err)
		}
		// A new email frees the old one.
		a.Email = "root@localhost"
		if err := st.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AccountByEmail(ctx, "admin@localhost"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("old email: %v", err)
		}
		if err := st.PutAccount(ctx, &Account{ID: "a2", Email: "admin@localhost"}); err != nil {
			t.Fatal(err)
		}
		if got, err := st.Account(ctx, "a1"); err != nil || got.Email != "root@localhost" {
			t.Fatalf("by id: %+v %v", got, err)
		}
		if as, err := st.ListAccounts(ctx); err != nil || len(as) != 2 || as[0].ID != "a1" || as[1].ID != "a2" {
			t.Fatalf("list: %v %v", as, err)
		}
		if err := st.PutAccount(ctx, &Account{ID: "a3"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("no email: %v", err)
		}
	})
}

func TestTokens(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		ctx := context.Background()
		h1, h2 := sha256.Sum256([]byte("one")), sha256.Sum256([]byte("two"))
		t1 := &Token{ID: "t1", Name: "ci", Kind: TokenAPI, Hash: h1[:], Scopes: []string{"read"}, CreatedAt: time.Now()}
		t2 := &Token{ID: "t2", Kind: TokenSession, Hash: h2[:], Scopes: []string{"admin"}, ExpiresAt: time.Now().Add(time.Hour)}
		for _, tk := range []*Token{t1, t2} {
			if err := st.PutToken(ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.TokenByHash(ctx, h1[:])
		if err != nil || got.ID != "t1" || got.Name != "ci" || got.Scopes[0] != "read" || !got.ExpiresAt.IsZero() {
			t.Fatalf("by hash: %+v %v", got, err)
		}
		if err := st.PutToken(ctx, &Token{ID: "t3", Hash: h1[:]}); !errors.Is(err, ErrExists) {
			t.Fatalf("duplicate hash: %v", err)
		}
		if ts, err := st.ListTokens(ctx); err != nil || len(ts) != 2 || ts[1].ExpiresAt.IsZero() {
			t.Fatalf("list: %v %v", ts, err)
		}
		if err := st.DeleteToken(ctx, "t1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.TokenByHash(ctx, h1[:]); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted: %v", err)
		}
		if err := st.DeleteToken(ctx, "t1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted twice: %v", err)
		}
		// Account data lives apart from the conversation tables.
		if cs, _, err := st.Contacts(ctx, "", "", 10); err != nil || len(cs) != 0 {
			t.Fatalf("contacts: %v %v", cs, err)
		}
	})
}

func TestAccountRolesAndDelete(t *testing.T) {
	eachStore(t, func(t *testing.T, st Store) {
		ctx := context.Background()
		a := &Account{ID: "ag1", Email: "ann@example.com", Name: "Ann", Role: "agent", Bots: []string{"shop"}, Teams: []string{"sales", "support"}, Capacity: 3, Disabled: true}
		if err := st.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err := st.Account(ctx, "ag1")
		if err != nil || got.Name != "Ann" || got.Role != "agent" || len(got.Bots) != 1 || len(got.Teams) != 2 || got.Capacity != 3 || !got.Disabled || got.OpenLimit() != 3 {
			t.Fatalf("round trip: %+v %v", got, err)
		}
		if (&Account{}).OpenLimit() != DefaultCapacity {
			t.Fatal("default capacity")
		}
		// An account stored before roles (no new fields) reads as it was.
		if err := st.PutAccount(ctx, &Account{ID: "ad1", Email: "admin@localhost", Role: "admin"}); err != nil {
			t.Fatal(err)
		}
		if got, err := st.Account(ctx, "ad1"); err != nil || got.Role != "admin" || got.Bots != nil || got.Disabled {
			t.Fatalf("admin: %+v %v", got, err)
		}
		// Deleting an account deletes its tokens and frees its email; the
		// tokens of others stay.
		var hashes [][]byte
		for i, acct := range []string{"ag1", "ag1", "ad1"} {
			h := sha256.Sum256([]byte{byte(i)})
			hashes = append(hashes, h[:])
			if err := st.PutToken(ctx, &Token{ID: "t" + string(rune('0'+i)), Kind: TokenSession, Hash: h[:], Account: acct}); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.DeleteAccount(ctx, "ag1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Account(ctx, "ag1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted: %v", err)
		}
		if _, err := st.AccountByEmail(ctx, "ANN@example.com"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("email: %v", err)
		}
		for i, h := range hashes {
			_, err := st.TokenByHash(ctx, h)
			if gone := errors.Is(err, ErrNotFound); gone != (i < 2) {
				t.Fatalf("token %d: %v", i, err)
			}
		}
		if ts, err := st.ListTokens(ctx); err != nil || len(ts) != 1 || ts[0].Account != "ad1" {
			t.Fatalf("tokens left: %v %v", ts, err)
		}
		if err := st.DeleteAccount(ctx, "ag1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("twice: %v", err)
		}
		if err := st.PutAccount(ctx, &Account{ID: "ag2", Email: "ann@example.com", Role: "agent"}); err != nil {
			t.Fatalf("email reused: %v", err)
		}
	})
}
