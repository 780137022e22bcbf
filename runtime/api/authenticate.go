package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"slices"

	"github.com/switchboard-bots/switchboard/runtime/store"
)

// Errors of Authenticate.
var (
	ErrNoToken      = errors.New("no token")
	ErrInvalidToken = errors.New("the token is not valid: it was revoked or never existed")
	ErrTokenExpired = errors.New("the token has expired: sign in again")
)

// Authenticate checks a bearer token (a sign-in or an API token) as the
// API's routes do, for other parts of the server (the /ws socket), and
// returns the scopes it grants: read, write (implies read), admin (implies
// both). Its errors are ErrNoToken, ErrInvalidToken, ErrTokenExpired, or
// the store's.
func (a *API) Authenticate(token string) (scopes []string, err error) {
	if token == "" {
		return nil, ErrNoToken
	}
	sum := sha256.Sum256([]byte(token))
	rctx, cancel := a.reqCtx()
	defer cancel()
	t, err := a.cfg.Store.TokenByHash(rctx, sum[:])
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrInvalidToken
	case err != nil:
		return nil, err
	}
	if subtle.ConstantTimeCompare(t.Hash, sum[:]) != 1 {
		return nil, ErrInvalidToken
	}
	if !t.ExpiresAt.IsZero() && !a.cfg.Now().Before(t.ExpiresAt) {
		return nil, ErrTokenExpired
	}
	return slices.Clone(t.Scopes), nil
}
