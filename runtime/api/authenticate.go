package api

import (
	"errors"

	"github.com/switchboard-bots/switchboard/runtime/access"
)

// Errors of Authenticate.
var (
	ErrNoToken         = errors.New("no token")
	ErrInvalidToken    = errors.New("the token is not valid: it was revoked or never existed")
	ErrTokenExpired    = errors.New("the token has expired: sign in again")
	ErrAccountDisabled = errors.New("the account of the token is disabled")
)

// Authenticate checks a token (a sign-in or an API token) as the API's
// routes do, for other parts of the server (the /ws socket), and returns
// who it is: a signed-in person with the account's current role, bots and
// teams and the scopes of the role, or a program with its token's scopes
// (read, write implying read, admin implying both). Its errors are
// ErrNoToken, ErrInvalidToken, ErrTokenExpired, ErrAccountDisabled, or the
// store's.
func (a *API) Authenticate(token string) (*access.Principal, error) {
	rctx, cancel := a.reqCtx()
	defer cancel()
	p, err := a.authenticate(rctx, token)
	if err != nil {
		return nil, err
	}
	return p.p, nil
}
