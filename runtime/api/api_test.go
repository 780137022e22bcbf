package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/router"
	_ "github.com/switchboard-bots/switchboard/blocks"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/api"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/server"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

const botSrc = `
id: shop
name: The Shop
attributes:
  age: {type: number}
  plan: {type: list, options: [free, pro]}
skills:
  /start:
    - text: "Hi! What can I do?"
  /default:
    - text: "Noted."
  orders:
    - catch: order_shipped
      save: shipment
    - text: "Order {{ shipment.order }} has shipped."
`

const adminPassword = "correct horse battery staple"

// clock is the API's clock, moved by tests of expiry and rate limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     *testing.T
	base  string
	st    store.Store
	p     *pipeline.Pipeline
	clk   *clock
	admin string // an admin session token
}

func start(t *testing.T, tweak ...func(*api.Config)) *env {
	t.Helper()
	st, err := store.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	bot, ds := flows.Load("shop.yaml", []byte(botSrc))
	if bot == nil {
		t.Fatal(ds)
	}
	p := pipeline.New(pipeline.Config{Store: st, Engine: engine.New(nil), Shards: 4})
	p.SetBots(map[string]*flows.Bot{"shop": bot})
	p.Start()
	clk := &clock{t: time.Now()}
	cfg := api.Config{Store: st, Pipeline: p, BotIDs: func() []string { return []string{"shop"} }, MaxBodySize: 2048, Now: clk.now}
	for _, f := range tweak {
		f(&cfg)
	}
	a := api.New(cfg)
	srv := server.New(server.Config{Pipeline: p, Log: slog.New(slog.DiscardHandler), Mount: []func(r *router.Router){a.Mount}}, func() []string { return []string{"shop"} })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		p.Close(ctx)
		st.Close()
	})
	e := &env{t: t, base: "http://" + l.Addr().String(), st: st, p: p, clk: clk}
	created, pw, err := api.EnsureAdmin(context.Background(), st, adminPassword)
	if err != nil || !created || pw != adminPassword {
		t.Fatalf("EnsureAdmin: %v %q %v", created, pw, err)
	}
	status, body := e.do("POST", "/api/v1/auth/login", "", `{"email": "admin@localhost", "password": "`+adminPassword+`"}`)
	if status != 200 {
		t.Fatalf("login: %d %s", status, body)
	}
	var lr struct {
		Token     string
		ExpiresAt time.Time `json:"expires_at"`
	}
	mustJSON(t, body, &lr)
	if !strings.HasPrefix(lr.Token, "sb_") || lr.ExpiresAt.Before(clk.now()) {
		t.Fatalf("login: %s", body)
	}
	e.admin = lr.Token
	return e
}

var client = &http.Client{Timeout: 20 * time.Second}

// do sends a request with token (none when empty) and returns the status
// and body.
func (e *env) do(method, path, token, body string) (int, string) {
	e.t.Helper()
	status, _, b := e.doH(method, path, token, body)
	return status, b
}

func (e *env) doH(method, path, token, body string) (int, http.Header, string) {
	e.t.Helper()
	hdr := http.Header{}
	if token != "" {
		hdr.Set("Authorization", "Bearer "+token)
	}
	return e.req(method, path, hdr, body)
}

// chat sends a REST channel message to the shop bot and returns the texts
// of the replies.
func (e *env) chat(sender, text string) []string {
	e.t.Helper()
	return e.chatTo("shop", sender, text)
}

// chatTo sends a REST channel message to bot and returns the texts of the
// replies.
func (e *env) chatTo(bot, sender, text string) []string {
	e.t.Helper()
	status, body := e.do("POST", "/webhooks/rest/"+bot+"/webhook", "", fmt.Sprintf(`{"sender": %q, "message": %q}`, sender, text))
	if status != 200 {
		e.t.Fatalf("chat: %d %s", status, body)
	}
	var rs []struct{ Text string }
	mustJSON(e.t, body, &rs)
	var out []string
	for _, r := range rs {
		out = append(out, r.Text)
	}
	return out
}

// token creates an API token with scopes and returns its secret.
func (e *env) token(scopes ...string) string {
	e.t.Helper()
	b, _ := json.Marshal(map[string]any{"name": "test " + strings.Join(scopes, "+"), "scopes": scopes})
	status, body := e.do("POST", "/api/v1/tokens", e.admin, string(b))
	if status != 201 {
		e.t.Fatalf("create token: %d %s", status, body)
	}
	var tv struct{ Token string }
	mustJSON(e.t, body, &tv)
	return tv.Token
}

func mustJSON(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
}

// errCode returns the code of an error body, failing when the body is not
// one.
func errCode(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not an error body: %s", body)
	}
	return e.Error.Code
}

func TestAuthRequired(t *testing.T) {
	e := start(t)
	read, write := e.token("read"), e.token("write")
	cid := pipeline.ContactID("shop", "rest", "u1")
	e.chat("u1", "hi")
	for _, c := range []struct {
		method, path, token, body string
		status                    int
		code                      string
	}{
		{"GET", "/api/v1/bots", "", "", 401, "unauthorized"},
		{"GET", "/api/v1/bots", "sb_nonsense", "", 401, "invalid_token"},
		{"GET", "/api/v1/contacts", "", "", 401, "unauthorized"},
		{"PATCH", "/api/v1/contacts/" + cid, read, `{"tags": ["x"]}`, 403, "forbidden"},
		{"POST", "/api/v1/contacts/" + cid + "/ban", read, "", 403, "forbidden"},
		{"POST", "/api/v1/contacts/" + cid + "/events", read, `{"name": "x"}`, 403, "forbidden"},
		{"GET", "/api/v1/tokens", read, "", 403, "forbidden"},
		{"GET", "/api/v1/tokens", write, "", 403, "forbidden"},
		{"POST", "/api/v1/tokens", write, `{"name": "x", "scopes": ["admin"]}`, 403, "forbidden"},
	} {
		status, hdr, body := e.doH(c.method, c.path, c.token, c.body)
		if status != c.status || errCode(t, body) != c.code {
			t.Errorf("%s %s: %d %s; want %d %s", c.method, c.path, status, body, c.status, c.code)
		}
		if status == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s %s: no WWW-Authenticate", c.method, c.path)
		}
	}
	// Reads work with a read token, writes with a write token.
	if status, body := e.do("GET", "/api/v1/contacts/"+cid, read, ""); status != 200 {
		t.Fatalf("read: %d %s", status, body)
	}
	if status, body := e.do("PATCH", "/api/v1/contacts/"+cid, write, `{"add_tags": ["vip"]}`); status != 200 {
		t.Fatalf("write: %d %s", status, body)
	}
	// The document needs no token.
	if status, _ := e.do("GET", "/api/v1/openapi.json", "", ""); status != 200 {
		t.Fatalf("openapi: %d", status)
	}
}

func TestLogin(t *testing.T) {
	e := start(t, func(c *api.Config) { c.LoginPerAccount, c.LoginPerIP, c.SessionTTL = 3, 8, time.Hour })
	// start signed in once (one attempt from this address).
	login := func(email, pw string) (int, http.Header, string) {
		b, _ := json.Marshal(map[string]string{"email": email, "password": pw})
		return e.doH("POST", "/api/v1/auth/login", "", string(b))
	}
	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"email": "admin@localhost"}`, 400, "missing_credentials"},
		{`{"email": "admin@localhost", "password": "x", "remember": true}`, 400, "unknown_field"},
	} {
		status, body := e.do("POST", "/api/v1/auth/login", "", c.body)
		if status != c.status || errCode(t, body) != c.code {
			t.Errorf("%s: %d %s", c.body, status, body)
		}
	}
	// Three failures lock the account (not the address); the right
	// password is refused too until the window ends.
	for i := 0; i < 3; i++ {
		if status, _, body := login("ADMIN@localhost", "wrong"); status != 401 || errCode(t, body) != "invalid_credentials" {
			t.Fatalf("wrong password %d: %d %s", i, status, body)
		}
	}
	status, hdr, body := login("admin@localhost", adminPassword)
	if status != 429 || errCode(t, body) != "too_many_attempts" {
		t.Fatalf("locked: %d %s", status, body)
	}
	if s, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || s < 1 || s > 15*60 {
		t.Fatalf("Retry-After %q", hdr.Get("Retry-After"))
	}
	// An unknown email fails like a wrong password.
	if status, _, body := login("nobody@localhost", "x"); status != 401 || errCode(t, body) != "invalid_credentials" {
		t.Fatalf("unknown email: %d %s", status, body)
	}
	// The address has made 8 attempts now: the next is refused whatever
	// the account.
	if status, _, body := login("other@localhost", "x"); status != 429 {
		t.Fatalf("per address: %d %s", status, body)
	}
	e.clk.add(16 * time.Minute)
	status, _, body = login("admin@localhost", adminPassword)
	if status != 200 {
		t.Fatalf("after the window: %d %s", status, body)
	}
	var lr struct{ Token string }
	mustJSON(t, body, &lr)
	if status, _ := e.do("GET", "/api/v1/tokens", lr.Token, ""); status != 200 {
		t.Fatalf("the session is admin: %d", status)
	}
	// Sessions expire.
	e.clk.add(61 * time.Minute)
	if status, body := e.do("GET", "/api/v1/bots", lr.Token, ""); status != 401 || errCode(t, body) != "token_expired" {
		t.Fatalf("expired: %d %s", status, body)
	}
}

func TestLogout(t *testing.T) {
	e := start(t)
	if status, body := e.do("POST", "/api/v1/auth/logout", e.admin, ""); status != 204 {
		t.Fatalf("logout: %d %s", status, body)
	}
	if status, _ := e.do("GET", "/api/v1/bots", e.admin, ""); status != 401 {
		t.Fatalf("after logout: %d", status)
	}
}

func TestEnsureAdminOnce(t *testing.T) {
	st, err := store.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	created, pw, err := api.EnsureAdmin(ctx, st, "")
	if err != nil || !created || len(pw) < 20 {
		t.Fatalf("first: %v %q %v", created, pw, err)
	}
	a, err := st.AccountByEmail(ctx, api.AdminEmail)
	if err != nil || !strings.HasPrefix(a.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") || !api.CheckPassword(a.PasswordHash, pw) || api.CheckPassword(a.PasswordHash, pw+"x") {
		t.Fatalf("account: %+v %v", a, err)
	}
	if created, pw, err := api.EnsureAdmin(ctx, st, "other"); err != nil || created || pw != "" {
		t.Fatalf("second: %v %q %v", created, pw, err)
	}
	// Two hashes of one password differ (random salt).
	h1, _ := api.HashPassword("p")
	h2, _ := api.HashPassword("p")
	if h1 == h2 || !api.CheckPassword(h1, "p") || api.CheckPassword("$argon2id$v=19$m=0,t=0,p=0$$", "p") {
		t.Fatal("hashes")
	}
}

func TestTokens(t *testing.T) {
	e := start(t)
	status, hdr, body := e.doH("POST", "/api/v1/tokens", e.admin, `{"name": "ci", "scopes": ["read"], "expires_in": "720h"}`)
	if status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	var created struct {
		ID, Name, Token string
		Scopes          []string
		ExpiresAt       time.Time `json:"expires_at"`
	}
	mustJSON(t, body, &created)
	if created.Name != "ci" || !strings.HasPrefix(created.Token, "sb_") || len(created.Token) != 3+43 || created.ExpiresAt.IsZero() || hdr.Get("Location") != "/api/v1/tokens/"+created.ID {
		t.Fatalf("created: %s", body)
	}
	if status, _ := e.do("GET", "/api/v1/bots", created.Token, ""); status != 200 {
		t.Fatalf("use: %d", status)
	}
	status, body = e.do("GET", "/api/v1/tokens", e.admin, "")
	if status != 200 || strings.Contains(body, created.Token) || strings.Contains(body, "hash") || !strings.Contains(body, `"name":"ci"`) || strings.Contains(body, "sign-in") {
		t.Fatalf("list: %d %s", status, body)
	}
	for _, c := range []struct{ body, code string }{
		{`{"scopes": ["read"]}`, "invalid_name"},
		{`{"name": "x"}`, "invalid_scopes"},
		{`{"name": "x", "scopes": ["root"]}`, "invalid_scopes"},
		{`{"name": "x", "scopes": ["read"], "expires_in": "soon"}`, "invalid_expires_in"},
		{`{"name": "x", "scopes": ["read"], "secret": "mine"}`, "unknown_field"},
	} {
		if status, body := e.do("POST", "/api/v1/tokens", e.admin, c.body); status != 400 || errCode(t, body) != c.code {
			t.Errorf("%s: %d %s", c.body, status, body)
		}
	}
	if status, body := e.do("DELETE", "/api/v1/tokens/"+created.ID, e.admin, ""); status != 204 {
		t.Fatalf("revoke: %d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/bots", created.Token, ""); status != 401 || errCode(t, body) != "invalid_token" {
		t.Fatalf("revoked: %d %s", status, body)
	}
	if status, body := e.do("DELETE", "/api/v1/tokens/"+created.ID, e.admin, ""); status != 404 || errCode(t, body) != "unknown_token" {
		t.Fatalf("revoke twice: %d %s", status, body)
	}
}

func TestBots(t *testing.T) {
	e := start(t)
	status, body := e.do("GET", "/api/v1/bots", e.admin, "")
	var bl struct {
		Bots []struct{ ID, Name, Version, File string }
	}
	mustJSON(t, body, &bl)
	if status != 200 || len(bl.Bots) != 1 || bl.Bots[0].ID != "shop" || bl.Bots[0].Name != "The Shop" || len(bl.Bots[0].Version) != 12 || bl.Bots[0].File != "shop.yaml" {
		t.Fatalf("bots: %d %s", status, body)
	}
	status, hdr, src := e.doH("GET", "/api/v1/bots/shop/source", e.admin, "")
	if status != 200 || src != botSrc || hdr.Get("ETag") != `"`+bl.Bots[0].Version+`"` || !strings.HasPrefix(hdr.Get("Content-Type"), "application/yaml") {
		t.Fatalf("source: %d %v %q", status, hdr, src)
	}
	if status, body := e.do("GET", "/api/v1/bots/nope/source", e.admin, ""); status != 404 || errCode(t, body) != "unknown_bot" {
		t.Fatalf("unknown bot: %d %s", status, body)
	}
	status, body = e.do("GET", "/api/v1/blocks", e.admin, "")
	var cat struct {
		Blocks []struct {
			Type, Title string
			Fields      []json.RawMessage
		}
	}
	mustJSON(t, body, &cat)
	if status != 200 || len(cat.Blocks) != len(flows.BlockSpecs()) || len(cat.Blocks) < 10 {
		t.Fatalf("blocks: %d %.300s", status, body)
	}
	found := false
	for _, b := range cat.Blocks {
		found = found || (b.Type == "catch" && len(b.Fields) > 0)
	}
	if !found {
		t.Fatalf("no catch block in %.300s", body)
	}
}

type contactJSON struct {
	ID, Bot, Channel, Name string
	ExternalID             string `json:"external_id"`
	Attributes             map[string]any
	Tags                   []string
	Banned                 bool
}

func TestContacts(t *testing.T) {
	e := start(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		e.chat(u, "hi")
	}
	status, body := e.do("GET", "/api/v1/contacts?bot=shop&limit=2", e.admin, "")
	var page struct {
		Contacts   []contactJSON
		NextCursor string `json:"next_cursor"`
	}
	mustJSON(t, body, &page)
	if status != 200 || len(page.Contacts) != 2 || page.NextCursor == "" {
		t.Fatalf("page 1: %d %s", status, body)
	}
	_, body = e.do("GET", "/api/v1/contacts?bot=shop&limit=2&cursor="+url.QueryEscape(page.NextCursor), e.admin, "")
	mustJSON(t, body, &page)
	if len(page.Contacts) != 1 || page.NextCursor != "" {
		t.Fatalf("page 2: %s", body)
	}
	bob := pipeline.ContactID("shop", "rest", "bob")
	// PATCH: attributes converted with their declared types, tags.
	status, body = e.do("PATCH", "/api/v1/contacts/"+bob, e.admin, `{"name": "Bob B", "attributes": {"age": "42", "plan": "PRO", "note": "likes tea"}, "tags": ["vip", "beta"], "remove_tags": ["beta"]}`)
	var c contactJSON
	mustJSON(t, body, &c)
	if status != 200 || c.Name != "Bob B" || c.Attributes["age"] != 42.0 || c.Attributes["plan"] != "pro" || c.Attributes["note"] != "likes tea" || len(c.Tags) != 1 || c.Tags[0] != "vip" {
		t.Fatalf("patch: %d %s", status, body)
	}
	_, body = e.do("PATCH", "/api/v1/contacts/"+bob, e.admin, `{"attributes": {"note": null}, "add_tags": ["vip", "gold"]}`)
	c = contactJSON{}
	mustJSON(t, body, &c)
	if _, ok := c.Attributes["note"]; ok || len(c.Tags) != 2 || c.Attributes["age"] != 42.0 {
		t.Fatalf("patch 2: %s", body)
	}
	if status, body := e.do("GET", "/api/v1/contacts/"+bob, e.admin, ""); status != 200 || !strings.Contains(body, `"gold"`) {
		t.Fatalf("get: %d %s", status, body)
	}
	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"attributes": {"age": "old"}}`, 422, "invalid_attribute"},
		{`{"attributes": {"plan": "gold"}}`, 422, "invalid_attribute"},
		{`{"attributes": {"x": {"nested": 1}}}`, 422, "invalid_attribute"},
		{`{"tags": [""]}`, 422, "invalid_tag"},
		{`{"banned": true}`, 400, "unknown_field"},
		{`{"tags": "vip"}`, 400, "invalid_json"},
		{`{"tags": []} {}`, 400, "invalid_json"},
		{`{"name": "` + strings.Repeat("x", 3000) + `"}`, 413, "body_too_large"},
	} {
		status, body := e.do("PATCH", "/api/v1/contacts/"+bob, e.admin, c.body)
		if status != c.status || errCode(t, body) != c.code {
			t.Errorf("%.60s: %d %s; want %d %s", c.body, status, body, c.status, c.code)
		}
	}
	var ae struct {
		Error struct{ Details map[string]any }
	}
	_, body = e.do("PATCH", "/api/v1/contacts/"+bob, e.admin, `{"attributes": {"age": "old"}}`)
	mustJSON(t, body, &ae)
	if ae.Error.Details["attribute"] != "age" || ae.Error.Details["type"] != "number" {
		t.Fatalf("details: %s", body)
	}
	// Search: name, external id, attributes; every word must match.
	for q, want := range map[string]int{"bob": 1, "ALICE": 1, "plan=pro": 1, "gold vip": 1, "gold alice": 0, "rest": 3} {
		_, body := e.do("GET", "/api/v1/contacts?q="+url.QueryEscape(q), e.admin, "")
		mustJSON(t, body, &page)
		if len(page.Contacts) != want {
			t.Errorf("q=%s: %s", q, body)
		}
	}
	_, body = e.do("GET", "/api/v1/contacts?q=rest&limit=2", e.admin, "")
	mustJSON(t, body, &page)
	if len(page.Contacts) != 2 || page.NextCursor == "" {
		t.Fatalf("search page: %s", body)
	}
	_, body = e.do("GET", "/api/v1/contacts?q=rest&limit=2&cursor="+url.QueryEscape(page.NextCursor), e.admin, "")
	mustJSON(t, body, &page)
	if len(page.Contacts) != 1 {
		t.Fatalf("search page 2: %s", body)
	}
	if status, body := e.do("GET", "/api/v1/contacts/nope", e.admin, ""); status != 404 || errCode(t, body) != "unknown_contact" {
		t.Fatalf("unknown: %d %s", status, body)
	}
	if status, body := e.do("PATCH", "/api/v1/contacts/nope", e.admin, `{"tags": ["x"]}`); status != 404 || errCode(t, body) != "unknown_contact" {
		t.Fatalf("unknown patch: %d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/contacts?limit=0", e.admin, ""); status != 400 || errCode(t, body) != "invalid_limit" {
		t.Fatalf("limit: %d %s", status, body)
	}
}

// TestBan: a banned contact's messages are stored and get no reply. The
// contact is created in the store, as a contact the pipeline has not
// cached (see TestBanDuringConversation for one it has).
func TestBan(t *testing.T) {
	e := start(t)
	cid := pipeline.ContactID("shop", "rest", "troll")
	now := time.Now()
	if err := e.st.Commit(context.Background(), &store.Batch{Contact: &flows.Contact{ID: cid, Bot: "shop", Channel: "rest", ExternalID: "troll", CreatedAt: now, UpdatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	status, body := e.do("POST", "/api/v1/contacts/"+cid+"/ban", e.admin, "")
	var c contactJSON
	mustJSON(t, body, &c)
	if status != 200 || !c.Banned {
		t.Fatalf("ban: %d %s", status, body)
	}
	if r := e.chat("troll", "hi"); len(r) != 0 {
		t.Fatalf("a banned contact got %q", r)
	}
	_, body = e.do("GET", "/api/v1/contacts/"+cid+"/messages", e.admin, "")
	if !strings.Contains(body, `"text":"hi"`) || strings.Contains(body, `"direction":"out"`) {
		t.Fatalf("messages: %s", body)
	}
	_, body = e.do("POST", "/api/v1/contacts/"+cid+"/unban", e.admin, "")
	c = contactJSON{}
	mustJSON(t, body, &c)
	if c.Banned {
		t.Fatalf("unban: %s", body)
	}
	if status, body := e.do("GET", "/api/v1/contacts/"+cid, e.admin, ""); status != 200 || strings.Contains(body, "banned") {
		t.Fatalf("unbanned: %d %s", status, body)
	}
	if status, body := e.do("POST", "/api/v1/contacts/nope/ban", e.admin, ""); status != 404 || errCode(t, body) != "unknown_contact" {
		t.Fatalf("unknown: %d %s", status, body)
	}
}

// TestBanDuringConversation bans a contact the pipeline holds in its
// cache: the change goes through the contact's shard, so it takes effect at
// once and the shard's next step does not overwrite it.
func TestBanDuringConversation(t *testing.T) {
	e := start(t)
	e.chat("u9", "hi")
	cid := pipeline.ContactID("shop", "rest", "u9")
	if status, body := e.do("POST", "/api/v1/contacts/"+cid+"/ban", e.admin, ""); status != 200 {
		t.Fatalf("ban: %d %s", status, body)
	}
	if r := e.chat("u9", "hello"); len(r) != 0 {
		t.Fatalf("a banned contact got %q", r)
	}
	if status, body := e.do("GET", "/api/v1/contacts/"+cid, e.admin, ""); status != 200 || !strings.Contains(body, `"banned":true`) {
		t.Fatalf("after a message: %d %s", status, body)
	}
	if status, body := e.do("POST", "/api/v1/contacts/"+cid+"/unban", e.admin, ""); status != 200 {
		t.Fatalf("unban: %d %s", status, body)
	}
	if r := e.chat("u9", "hello again"); len(r) != 1 {
		t.Fatalf("unbanned: %q", r)
	}
	// A PATCH goes through the shard too: the next step sees it.
	if status, body := e.do("PATCH", "/api/v1/contacts/"+cid, e.admin, `{"attributes": {"age": 30}}`); status != 200 {
		t.Fatalf("patch: %d %s", status, body)
	}
	e.chat("u9", "more")
	if _, body := e.do("GET", "/api/v1/contacts/"+cid, e.admin, ""); !strings.Contains(body, `"age":30`) {
		t.Fatalf("after a step: %s", body)
	}
}

type messagesJSON struct {
	Messages []struct {
		Seq       uint64
		Direction string
		Author    string
		Contact   string
		Content   struct{ Text string }
	}
	NextCursor string `json:"next_cursor"`
	Truncated  bool
	Scanned    int
}

func TestMessages(t *testing.T) {
	e := start(t)
	e.chat("u1", "hi") // 1 in, 2 out
	for i := 1; i <= 4; i++ {
		e.chat("u1", fmt.Sprintf("message %d", i)) // 3..10
	}
	cid := pipeline.ContactID("shop", "rest", "u1")
	var page messagesJSON
	status, body := e.do("GET", "/api/v1/contacts/"+cid+"/messages?limit=3", e.admin, "")
	mustJSON(t, body, &page)
	if status != 200 || len(page.Messages) != 3 || page.Messages[0].Seq != 8 || page.Messages[2].Seq != 10 || page.Messages[2].Direction != "out" || page.Messages[1].Content.Text != "message 4" || page.NextCursor == "" {
		t.Fatalf("latest: %d %s", status, body)
	}
	var seqs []uint64
	for cur := page.NextCursor; cur != ""; cur = page.NextCursor {
		_, body = e.do("GET", "/api/v1/contacts/"+cid+"/messages?limit=3&before="+cur, e.admin, "")
		page = messagesJSON{}
		mustJSON(t, body, &page)
		for _, m := range page.Messages {
			seqs = append(seqs, m.Seq)
		}
	}
	if fmt.Sprint(seqs) != "[5 6 7 2 3 4 1]" {
		t.Fatalf("backwards: %v", seqs)
	}
	seqs = nil
	for cur := "0"; cur != ""; cur = page.NextCursor {
		_, body = e.do("GET", "/api/v1/contacts/"+cid+"/messages?limit=4&after="+cur, e.admin, "")
		page = messagesJSON{}
		mustJSON(t, body, &page)
		for _, m := range page.Messages {
			seqs = append(seqs, m.Seq)
		}
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5 6 7 8 9 10]" {
		t.Fatalf("forwards: %v", seqs)
	}
	if status, body := e.do("GET", "/api/v1/contacts/"+cid+"/messages?before=abc", e.admin, ""); status != 400 || errCode(t, body) != "invalid_cursor" {
		t.Fatalf("bad cursor: %d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/contacts/nope/messages", e.admin, ""); status != 404 || errCode(t, body) != "unknown_contact" {
		t.Fatalf("unknown: %d %s", status, body)
	}
}

func TestSearchMessages(t *testing.T) {
	e := start(t, func(c *api.Config) { c.SearchScan = 6 })
	e.chat("u1", "hi")
	e.chat("u1", "my parcel is late")
	e.chat("u2", "hi")
	e.chat("u2", "where is my PARCEL")
	e.chat("u2", "parcel number 7")
	u2 := pipeline.ContactID("shop", "rest", "u2")
	var res messagesJSON
	// One conversation, newest first, all words.
	_, body := e.do("GET", "/api/v1/messages/search?q=parcel&contact="+u2, e.admin, "")
	mustJSON(t, body, &res)
	if len(res.Messages) != 2 || res.Messages[0].Content.Text != "parcel number 7" || res.Messages[1].Content.Text != "where is my PARCEL" || res.Truncated || res.NextCursor != "" {
		t.Fatalf("one conversation: %s", body)
	}
	_, body = e.do("GET", "/api/v1/messages/search?q=where+parcel&contact="+u2, e.admin, "")
	mustJSON(t, body, &res)
	if len(res.Messages) != 1 {
		t.Fatalf("two words: %s", body)
	}
	// Across conversations (10 messages), with a scan bound of 6 messages:
	// every page reads at most 6, and the cursors reach every match once.
	var texts []string
	cursor, pages := "", 0
	for {
		_, body = e.do("GET", "/api/v1/messages/search?limit=50&q=parcel&cursor="+url.QueryEscape(cursor), e.admin, "")
		res = messagesJSON{}
		mustJSON(t, body, &res)
		if res.Scanned > 6 {
			t.Fatalf("scanned %d: %s", res.Scanned, body)
		}
		for _, m := range res.Messages {
			texts = append(texts, m.Content.Text)
		}
		pages++
		if res.NextCursor == "" || pages > 10 {
			break
		}
		if !res.Truncated {
			t.Fatalf("a cursor without truncation: %s", body)
		}
		cursor = res.NextCursor
	}
	if len(texts) != 3 || pages < 2 {
		t.Fatalf("across: %d pages, %q", pages, texts)
	}
	// The limit pages too.
	e2 := start(t)
	for i := 0; i < 3; i++ {
		e2.chat("u1", fmt.Sprintf("parcel %d", i))
	}
	texts = nil
	cursor = ""
	for i := 0; i < 5; i++ {
		_, body = e2.do("GET", "/api/v1/messages/search?limit=2&q=parcel&cursor="+url.QueryEscape(cursor), e2.admin, "")
		res = messagesJSON{}
		mustJSON(t, body, &res)
		for _, m := range res.Messages {
			texts = append(texts, m.Content.Text)
		}
		if cursor = res.NextCursor; cursor == "" {
			break
		}
	}
	if fmt.Sprint(texts) != "[parcel 2 parcel 1 parcel 0]" {
		t.Fatalf("limit pages: %q", texts)
	}
	for _, c := range []struct {
		q      string
		status int
		code   string
	}{
		{"", 400, "missing_query"},
		{"q=x&cursor=%%%", 400, "invalid_cursor"},
		{"q=x&contact=nope", 404, "unknown_contact"},
		{"q=x&limit=1000", 400, "invalid_limit"},
	} {
		status, body := e.do("GET", "/api/v1/messages/search?"+c.q, e.admin, "")
		if status != c.status || errCode(t, body) != c.code {
			t.Errorf("%s: %d %s", c.q, status, body)
		}
	}
}

func TestEvents(t *testing.T) {
	e := start(t)
	e.chat("u1", "hi")
	cid := pipeline.ContactID("shop", "rest", "u1")
	status, body := e.do("POST", "/api/v1/contacts/"+cid+"/events", e.admin, `{"name": "order_shipped", "data": {"order": "A-17"}}`)
	var res struct {
		Caught  bool
		Replies []struct {
			Direction string
			Content   struct{ Text string }
		}
	}
	mustJSON(t, body, &res)
	if status != 200 || !res.Caught || len(res.Replies) != 1 || res.Replies[0].Content.Text != "Order A-17 has shipped." {
		t.Fatalf("event: %d %s", status, body)
	}
	_, body = e.do("GET", "/api/v1/contacts/"+cid+"/messages", e.admin, "")
	if !strings.Contains(body, "Order A-17 has shipped.") {
		t.Fatalf("stored: %s", body)
	}
	for _, c := range []struct {
		path, body string
		status     int
		code       string
	}{
		{cid, `{"data": {}}`, 400, "invalid_event_name"},
		{cid, `{"name": "x", "payload": 1}`, 400, "unknown_field"},
		{cid, `{"name": "x", "data": [1]}`, 400, "invalid_json"},
		{cid, ``, 400, "invalid_json"},
		{"nope", `{"name": "x"}`, 404, "unknown_contact"},
	} {
		status, body := e.do("POST", "/api/v1/contacts/"+c.path+"/events", e.admin, c.body)
		if status != c.status || errCode(t, body) != c.code {
			t.Errorf("%s %s: %d %s", c.path, c.body, status, body)
		}
	}
}
