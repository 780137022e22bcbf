package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
	"golang.org/x/crypto/argon2"

	"github.com/switchboard-bots/switchboard/runtime/access"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// Scopes (access.Allows): each implies the ones before it.
const (
	scopeRead  = access.ScopeRead
	scopeWrite = access.ScopeWrite
	scopeAdmin = access.ScopeAdmin
)

// AdminEmail is the account EnsureAdmin creates.
const AdminEmail = "admin@localhost"

// EnsureAdmin creates the admin account on a store that has no account:
// with password, or with a random one-time password when password is
// empty. It reports whether it created the account and the password it set
// (for the serve command to print once). On a store with accounts it does
// nothing.
func EnsureAdmin(ctx context.Context, st store.Store, password string) (created bool, pw string, err error) {
	accts, err := st.ListAccounts(ctx)
	if err != nil {
		return false, "", err
	}
	if len(accts) > 0 {
		return false, "", nil
	}
	if password == "" {
		password = randomString(18)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return false, "", err
	}
	now := time.Now().UTC()
	err = st.PutAccount(ctx, &store.Account{ID: "acc_" + randomString(12), Email: AdminEmail, PasswordHash: hash, Name: "Admin", Role: access.RoleAdmin, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return false, "", err
	}
	return true, password, nil
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Argon2id parameters of new hashes (OWASP's second recommendation: 19 MiB,
// two passes, one lane). A hash carries its own, so they can be raised
// without invalidating stored passwords.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// HashPassword hashes a password with argon2id and a random salt, in the
// PHC string format: $argon2id$v=19$m=19456,t=2,p=1$salt$hash.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches an encoded hash made by
// HashPassword, comparing in constant time.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<21 || t > 16 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when an email is unknown, so that a sign-in
// takes as long whether or not the account exists.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword(randomString(16))
	return h
})

// tokenPrefix starts every token, so that a leaked one is recognisable
// (secret scanners) and a wrong kind of credential fails early.
const tokenPrefix = "sb_"

// newToken returns a token (32 random bytes) and its SHA-256.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	tok := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(tok))
	return tok, h[:]
}

// Cookies and the header of cookie sessions. A browser signed in with POST
// /auth/login holds the session token in SessionCookie (HttpOnly: scripts
// cannot read it) and a CSRF token in CSRFCookie (readable by the page's
// scripts); a request authenticated by the cookie that changes anything
// must echo the CSRF token in CSRFHeader. Another site can make the
// browser send the cookies, but cannot read CSRFCookie to echo it.
const (
	SessionCookie = "sb_session"
	CSRFCookie    = "sb_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

// principal is who a request is made by: the token, the account it
// belongs to (nil for a program token made by no account), and what they
// may do.
type principal struct {
	token *store.Token
	acct  *store.Account
	p     *access.Principal
	// cookie says the request was authenticated by SessionCookie.
	cookie bool
}

type principalKey struct{}

// PrincipalOf returns who the request is made by, for handlers behind the
// API's authentication (nil elsewhere). Handlers in other packages use it
// to ask what the caller may see (access.Principal.SeesBot, SeesQueue…).
func PrincipalOf(ctx *fasthttp.RequestCtx) *access.Principal {
	if p := who(ctx); p != nil {
		return p.p
	}
	return nil
}

func who(ctx *fasthttp.RequestCtx) *principal {
	p, _ := ctx.UserValue(principalKey{}).(*principal)
	return p
}

// authenticate checks a token and builds its principal: a sign-in token
// acts with its account's current role, bots and teams (so a change to the
// account applies to the sessions it has open), an API token as a program
// with the token's scopes. A token of a disabled account is refused, and
// so is one whose account was deleted. On ErrTokenExpired the token is
// returned too, for its expiry.
func (a *API) authenticate(rctx context.Context, tok string) (*principal, error) {
	if tok == "" {
		return nil, ErrNoToken
	}
	sum := sha256.Sum256([]byte(tok))
	t, err := a.cfg.Store.TokenByHash(rctx, sum[:])
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, ErrInvalidToken
	case err != nil:
		return nil, err
	}
	// The lookup is by hash; the comparison of the hashes is
	// constant-time all the same.
	if subtle.ConstantTimeCompare(t.Hash, sum[:]) != 1 {
		return nil, ErrInvalidToken
	}
	if !t.ExpiresAt.IsZero() && !a.cfg.Now().Before(t.ExpiresAt) {
		return &principal{token: t}, ErrTokenExpired
	}
	pr := &principal{token: t}
	if t.Account != "" {
		acct, err := a.cfg.Store.Account(rctx, t.Account)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, ErrInvalidToken
		case err != nil:
			return nil, err
		case acct.Disabled:
			return nil, ErrAccountDisabled
		}
		pr.acct = acct
	}
	if t.Kind == store.TokenSession {
		if pr.acct == nil {
			return nil, ErrInvalidToken
		}
		pr.p = accountPrincipal(pr.acct)
	} else {
		pr.p = &access.Principal{Account: t.Account, Name: t.Name, Scopes: slices.Clone(t.Scopes), Program: true}
	}
	return pr, nil
}

// accountPrincipal is a person signed in with acct.
func accountPrincipal(acct *store.Account) *access.Principal {
	return &access.Principal{
		Account: acct.ID, Name: acct.Name, Email: acct.Email, Role: acct.Role,
		Bots: slices.Clone(acct.Bots), Teams: slices.Clone(acct.Teams), Scopes: access.RoleScopes(acct.Role),
	}
}

// credentials finds the token of a request: "Authorization: Bearer", else
// the session cookie. ok is false for an Authorization header that is not
// a bearer token.
func credentials(ctx *fasthttp.RequestCtx) (tok string, cookie, ok bool) {
	if authz := string(ctx.Request.Header.Peek("Authorization")); authz != "" {
		scheme, tok, _ := strings.Cut(authz, " ")
		tok = strings.TrimSpace(tok)
		return tok, false, strings.EqualFold(scheme, "Bearer") && tok != ""
	}
	tok = string(ctx.Request.Header.Cookie(SessionCookie))
	return tok, true, tok != ""
}

// csrfToken is the CSRF token of a session: derived from the session's
// secret, so that it is bound to the session and needs no storing.
func csrfToken(session string) string {
	h := sha256.Sum256([]byte("switchboard csrf\x00" + session))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// csrfOK reports whether a cookie-authenticated request may go on: a safe
// method, or CSRFHeader equal to CSRFCookie, which is the session's.
func csrfOK(ctx *fasthttp.RequestCtx, session string) bool {
	switch string(ctx.Method()) {
	case fasthttp.MethodGet, fasthttp.MethodHead, fasthttp.MethodOptions:
		return true
	}
	hdr := ctx.Request.Header.Peek(CSRFHeader)
	cookie := ctx.Request.Header.Cookie(CSRFCookie)
	want := csrfToken(session)
	return len(hdr) > 0 && subtle.ConstantTimeCompare(hdr, cookie) == 1 && subtle.ConstantTimeCompare(cookie, []byte(want)) == 1
}

// auth wraps h with authentication requiring scope need: a bearer token,
// or the session cookie (with the CSRF header on unsafe methods).
func (a *API) auth(need string, h fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		tok, cookie, ok := credentials(ctx)
		if !ok {
			ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="switchboard"`)
			web.Error(ctx, fasthttp.StatusUnauthorized, "unauthorized", "this endpoint needs a token: Authorization: Bearer <token> (sign in at POST /api/v1/auth/login, or create an API token)", nil)
			return
		}
		rctx, cancel := a.reqCtx()
		p, err := a.authenticate(rctx, tok)
		cancel()
		if err != nil {
			if cookie {
				// A stale cookie is no use to the browser: drop it.
				clearSessionCookies(ctx)
			}
			switch {
			case errors.Is(err, ErrInvalidToken):
				ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="switchboard", error="invalid_token"`)
				web.Error(ctx, fasthttp.StatusUnauthorized, "invalid_token", "the token is not valid: it was revoked or never existed", nil)
			case errors.Is(err, ErrTokenExpired):
				ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="switchboard", error="invalid_token"`)
				web.Error(ctx, fasthttp.StatusUnauthorized, "token_expired", "the token has expired: sign in again", map[string]any{"expired_at": p.token.ExpiresAt})
			case errors.Is(err, ErrAccountDisabled):
				ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="switchboard", error="invalid_token"`)
				web.Error(ctx, fasthttp.StatusUnauthorized, "account_disabled", "the account of this token is disabled: ask an admin", nil)
			default:
				a.internal(ctx, "checking the token", err)
			}
			return
		}
		if cookie && !csrfOK(ctx, tok) {
			web.Error(ctx, fasthttp.StatusForbidden, "csrf", "a request signed in by cookie that changes something needs the header "+CSRFHeader+" holding the "+CSRFCookie+" cookie", nil)
			return
		}
		if !p.p.Can(need) {
			web.Error(ctx, fasthttp.StatusForbidden, "forbidden", fmt.Sprintf("this endpoint needs the %s scope; the token has %s", need, strings.Join(p.p.Scopes, ", ")), map[string]any{"required": need, "scopes": p.p.Scopes})
			return
		}
		p.cookie = cookie
		ctx.SetUserValue(principalKey{}, p)
		h(ctx)
	}
}

// setSessionCookies hands a browser its session: the token (HttpOnly) and
// the CSRF token (for its scripts), both SameSite=Strict, Secure on TLS,
// ending with the session.
func setSessionCookies(ctx *fasthttp.RequestCtx, tok, csrf string, expires time.Time) {
	for _, c := range []struct {
		name, value string
		httpOnly    bool
	}{{SessionCookie, tok, true}, {CSRFCookie, csrf, false}} {
		ck := fasthttp.AcquireCookie()
		ck.SetKey(c.name)
		ck.SetValue(c.value)
		ck.SetPath("/")
		ck.SetHTTPOnly(c.httpOnly)
		ck.SetSecure(ctx.IsTLS())
		ck.SetSameSite(fasthttp.CookieSameSiteStrictMode)
		ck.SetExpire(expires)
		ctx.Response.Header.SetCookie(ck)
		fasthttp.ReleaseCookie(ck)
	}
}

// clearSessionCookies tells a browser to forget its session.
func clearSessionCookies(ctx *fasthttp.RequestCtx) {
	setSessionCookies(ctx, "", "", fasthttp.CookieExpireDelete)
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Scopes    []string  `json:"scopes"`
	// CSRFToken is the sb_csrf cookie's value: a browser using the
	// cookie sends it as X-CSRF-Token.
	CSRFToken string `json:"csrf_token"`
	// Account is who signed in, as GET /me shows it.
	Account meView `json:"account"`
}

// maxPasswordLen bounds what is hashed.
const maxPasswordLen = 1024

// postLogin signs in with an email and a password and returns a session
// token, which it also sets as a cookie. Attempts are limited per client
// address (all of them) and per email (the failed ones).
func (a *API) postLogin(ctx *fasthttp.RequestCtx) {
	ip := ctx.RemoteIP().String()
	if wait := a.login.hit("ip:"+ip, a.cfg.LoginPerIP); wait > 0 {
		tooMany(ctx, wait)
		return
	}
	var req loginRequest
	if !a.decode(ctx, &req) {
		return
	}
	if req.Email == "" || req.Password == "" {
		web.Error(ctx, fasthttp.StatusBadRequest, "missing_credentials", `"email" and "password" are required`, nil)
		return
	}
	if len(req.Password) > maxPasswordLen || len(req.Email) > 320 {
		web.Error(ctx, fasthttp.StatusBadRequest, "credentials_too_long", "the email or the password is too long", nil)
		return
	}
	acctKey := "acct:" + strings.ToLower(req.Email)
	if wait := a.login.peek(acctKey, a.cfg.LoginPerAccount); wait > 0 {
		tooMany(ctx, wait)
		return
	}
	rctx, cancel := a.reqCtx()
	defer cancel()
	acct, err := a.cfg.Store.AccountByEmail(rctx, req.Email)
	hash := dummyHash()
	switch {
	case errors.Is(err, store.ErrNotFound):
		acct = nil
	case err != nil:
		a.internal(ctx, "signing in", err)
		return
	default:
		hash = acct.PasswordHash
	}
	ok := CheckPassword(hash, req.Password)
	if acct == nil || !ok {
		if wait := a.login.hit(acctKey, a.cfg.LoginPerAccount); wait > 0 {
			tooMany(ctx, wait)
			return
		}
		web.Error(ctx, fasthttp.StatusUnauthorized, "invalid_credentials", "the email or the password is wrong", nil)
		return
	}
	a.login.reset(acctKey)
	// Said only to someone who knows the password.
	if acct.Disabled {
		web.Error(ctx, fasthttp.StatusUnauthorized, "account_disabled", "this account is disabled: ask an admin", nil)
		return
	}
	tok, sum := newToken()
	now := a.cfg.Now().UTC()
	t := &store.Token{
		ID: "ses_" + randomString(12), Name: "sign-in", Kind: store.TokenSession, Hash: sum,
		Scopes: access.RoleScopes(acct.Role), Account: acct.ID, CreatedAt: now, ExpiresAt: now.Add(a.cfg.SessionTTL),
	}
	if err := a.cfg.Store.PutToken(rctx, t); err != nil {
		a.internal(ctx, "signing in", err)
		return
	}
	csrf := csrfToken(tok)
	setSessionCookies(ctx, tok, csrf, t.ExpiresAt)
	web.JSON(ctx, fasthttp.StatusOK, loginResponse{Token: tok, ExpiresAt: t.ExpiresAt, Scopes: orEmpty(t.Scopes), CSRFToken: csrf,
		Account: viewMe(&principal{token: t, acct: acct, p: accountPrincipal(acct)})})
}

// postLogout revokes the token the request is made with and clears the
// session cookies.
func (a *API) postLogout(ctx *fasthttp.RequestCtx) {
	p := who(ctx)
	rctx, cancel := a.reqCtx()
	defer cancel()
	if err := a.cfg.Store.DeleteToken(rctx, p.token.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		a.internal(ctx, "signing out", err)
		return
	}
	clearSessionCookies(ctx)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func tooMany(ctx *fasthttp.RequestCtx, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(secs))
	web.Error(ctx, fasthttp.StatusTooManyRequests, "too_many_attempts", fmt.Sprintf("too many sign-in attempts: retry in %d s", secs), map[string]any{"retry_after": secs})
}

// limiter counts events per key in fixed windows.
type limiter struct {
	mu     sync.Mutex
	window time.Duration
	now    func() time.Time
	counts map[string]*window
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(w time.Duration, now func() time.Time) *limiter {
	return &limiter{window: w, now: now, counts: map[string]*window{}}
}

// maxLimiterKeys bounds the limiter's memory; past it, expired windows are
// swept.
const maxLimiterKeys = 10000

// hit counts one event for key and returns how long to wait when the
// event is over the limit (0 when it is allowed).
func (l *limiter) hit(key string, limit int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.current(key, now)
	if w.n >= limit {
		return w.start.Add(l.window).Sub(now)
	}
	w.n++
	return 0
}

// peek returns how long to wait when key is already at its limit.
func (l *limiter) peek(key string, limit int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if w := l.current(key, now); w.n >= limit {
		return w.start.Add(l.window).Sub(now)
	}
	return 0
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.counts, key)
}

func (l *limiter) current(key string, now time.Time) *window {
	w := l.counts[key]
	if w == nil || !now.Before(w.start.Add(l.window)) {
		if w == nil && len(l.counts) >= maxLimiterKeys {
			for k, o := range l.counts {
				if !now.Before(o.start.Add(l.window)) {
					delete(l.counts, k)
				}
			}
		}
		w = &window{start: now}
		l.counts[key] = w
	}
	return w
}

// tokenView is a token as the API shows it: never its hash.
type tokenView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Token is the secret, present only in the answer that creates it.
	Token string `json:"token,omitempty"`
}

func viewToken(t *store.Token) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, Scopes: t.Scopes, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}
}

// listTokens lists the API tokens (not sign-in sessions).
func (a *API) listTokens(ctx *fasthttp.RequestCtx) {
	rctx, cancel := a.reqCtx()
	defer cancel()
	ts, err := a.cfg.Store.ListTokens(rctx)
	if err != nil {
		a.internal(ctx, "listing tokens", err)
		return
	}
	out := []tokenView{}
	for _, t := range ts {
		if t.Kind == store.TokenAPI {
			out = append(out, viewToken(t))
		}
	}
	web.JSON(ctx, fasthttp.StatusOK, map[string]any{"tokens": out})
}

type createTokenRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
	// ExpiresIn is a duration ("720h"); empty: the token does not expire.
	ExpiresIn string `json:"expires_in"`
}

func (a *API) createToken(ctx *fasthttp.RequestCtx) {
	var req createTokenRequest
	if !a.decode(ctx, &req) {
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 100 {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_name", `"name" is required (at most 100 bytes): what the token is for`, nil)
		return
	}
	if len(req.Scopes) == 0 {
		web.Error(ctx, fasthttp.StatusBadRequest, "invalid_scopes", `"scopes" is required: one or more of read, write, admin`, nil)
		return
	}
	for _, s := range req.Scopes {
		if !access.ValidScope(s) {
			web.Error(ctx, fasthttp.StatusBadRequest, "invalid_scopes", fmt.Sprintf("unknown scope %q: use read, write or admin", s), map[string]any{"scope": s})
			return
		}
	}
	now := a.cfg.Now().UTC()
	t := &store.Token{ID: "tok_" + randomString(12), Name: req.Name, Kind: store.TokenAPI, Scopes: slices.Compact(slices.Clone(req.Scopes)), CreatedAt: now}
	if req.ExpiresIn != "" {
		d, err := time.ParseDuration(req.ExpiresIn)
		if err != nil || d <= 0 {
			web.Error(ctx, fasthttp.StatusBadRequest, "invalid_expires_in", `"expires_in" is a positive duration like "720h"`, map[string]any{"expires_in": req.ExpiresIn})
			return
		}
		t.ExpiresAt = now.Add(d)
	}
	if p := who(ctx); p != nil {
		t.Account = p.token.Account
	}
	secret, sum := newToken()
	t.Hash = sum
	rctx, cancel := a.reqCtx()
	defer cancel()
	if err := a.cfg.Store.PutToken(rctx, t); err != nil {
		a.internal(ctx, "creating the token", err)
		return
	}
	v := viewToken(t)
	v.Token = secret
	ctx.Response.Header.Set("Location", Prefix+"/tokens/"+t.ID)
	web.JSON(ctx, fasthttp.StatusCreated, v)
}

func (a *API) deleteToken(ctx *fasthttp.RequestCtx) {
	rctx, cancel := a.reqCtx()
	defer cancel()
	err := a.cfg.Store.DeleteToken(rctx, pathID(ctx))
	switch {
	case errors.Is(err, store.ErrNotFound):
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_token", "no token "+pathID(ctx), nil)
	case err != nil:
		a.internal(ctx, "revoking the token", err)
	default:
		ctx.SetStatusCode(fasthttp.StatusNoContent)
	}
}
