package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/router"
	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/api"
	"github.com/switchboard-bots/switchboard/runtime/live"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// req sends a request with the given headers and returns the status, the
// response headers and the body.
func (e *env) req(method, path string, hdr http.Header, body string) (int, http.Header, string) {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	rq, err := http.NewRequest(method, e.base+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		rq.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range hdr {
		rq.Header[k] = vs
	}
	resp, err := client.Do(rq)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// login signs in and returns the session token.
func (e *env) login(email, password string) string {
	e.t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	status, body := e.do("POST", "/api/v1/auth/login", "", string(b))
	if status != 200 {
		e.t.Fatalf("login %s: %d %s", email, status, body)
	}
	var lr struct{ Token string }
	mustJSON(e.t, body, &lr)
	return lr.Token
}

// agent creates an account with token (admin's when empty) and signs it
// in; it returns the account id and a session token.
func (e *env) agent(token string, fields map[string]any) (id, session string) {
	e.t.Helper()
	if token == "" {
		token = e.admin
	}
	fields["password"] = "password of " + fields["email"].(string)
	b, _ := json.Marshal(fields)
	status, body := e.do("POST", "/api/v1/agents", token, string(b))
	if status != 201 {
		e.t.Fatalf("create %v: %d %s", fields, status, body)
	}
	var v struct{ ID string }
	mustJSON(e.t, body, &v)
	return v.ID, e.login(fields["email"].(string), fields["password"].(string))
}

const otherSrc = `
id: other
name: The Other Shop
skills:
  /start:
    - text: "Other hello"
`

// startTwoBots starts the API with bots shop (A) and other (B), a
// conversation on each, and the team x. It returns the contact ids.
func startTwoBots(t *testing.T) (e *env, shopContact, otherContact string) {
	t.Helper()
	e = start(t, func(c *api.Config) { c.BotIDs = func() []string { return []string{"other", "shop"} } })
	shop, _ := flows.Load("shop.yaml", []byte(botSrc))
	other, ds := flows.Load("other.yaml", []byte(otherSrc))
	if other == nil {
		t.Fatal(ds)
	}
	e.p.SetBots(map[string]*flows.Bot{"shop": shop, "other": other})
	e.chat("u1", "hi from shop")
	shopContact = pipeline.ContactID("shop", "rest", "u1")
	otherContact = pipeline.ContactID("other", "rest", "v1")
	now := time.Now().UTC()
	err := e.st.Commit(context.Background(), &store.Batch{
		Contact:  &flows.Contact{ID: otherContact, Bot: "other", Channel: "rest", ExternalID: "v1", CreatedAt: now, UpdatedAt: now},
		Messages: []store.Message{{Time: now, Direction: store.DirectionIn, Author: store.AuthorUser, Channel: "rest", Content: flows.Content{Text: "hi from other"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if status, body := e.do("POST", "/api/v1/teams", e.admin, `{"id": "x", "name": "Team X"}`); status != 201 {
		t.Fatalf("team: %d %s", status, body)
	}
	return e, shopContact, otherContact
}

// TestAccessMatrix asks every kind of principal every route: an admin, a
// manager of bot A (shop), an agent of A in team x, an agent of bot B
// (other), and a program with a read token.
func TestAccessMatrix(t *testing.T) {
	e, cA, cB := startTwoBots(t)
	_, manager := e.agent("", map[string]any{"email": "mia@example.com", "role": "manager", "bots": []string{"shop"}})
	// The manager makes its agent itself.
	_, agentA := e.agent(manager, map[string]any{"email": "ann@example.com", "bots": []string{"shop"}, "teams": []string{"x"}})
	_, agentB := e.agent("", map[string]any{"email": "bob@example.com", "role": "agent", "bots": []string{"other"}})
	program := e.token("read")
	who := []string{"admin", "manager A", "agent A", "agent B", "read program"}
	tokens := []string{e.admin, manager, agentA, agentB, program}
	src, _ := json.Marshal(map[string]string{"source": botSrc})

	for _, c := range []struct {
		method, path, body string
		want               [5]int
	}{
		{"GET", "/api/v1/me", "", [5]int{200, 200, 200, 200, 200}},
		{"GET", "/api/v1/bots", "", [5]int{200, 200, 200, 200, 200}},
		{"GET", "/api/v1/bots/shop", "", [5]int{200, 200, 200, 404, 200}},
		{"GET", "/api/v1/bots/other", "", [5]int{200, 404, 404, 200, 200}},
		{"GET", "/api/v1/bots/other/source", "", [5]int{200, 404, 404, 200, 200}},
		{"GET", "/api/v1/bots/other/versions", "", [5]int{200, 404, 404, 200, 200}},
		{"PUT", "/api/v1/bots/shop", string(src), [5]int{201, 201, 403, 404, 403}},
		{"GET", "/api/v1/bots/shop/versions", "", [5]int{200, 200, 200, 404, 200}},
		{"GET", "/api/v1/bots/shop/versions/1", "", [5]int{200, 200, 200, 404, 200}},
		{"POST", "/api/v1/bots/shop/publish", `{"version": 1}`, [5]int{501, 501, 403, 404, 403}}, // 501: no bots folder
		{"POST", "/api/v1/bots/shop/rollback", `{"version": 1}`, [5]int{501, 501, 403, 404, 403}},
		{"GET", "/api/v1/blocks", "", [5]int{200, 200, 200, 200, 200}},
		{"GET", "/api/v1/contacts", "", [5]int{200, 200, 200, 200, 200}},
		{"GET", "/api/v1/contacts/" + cA, "", [5]int{200, 200, 200, 404, 200}},
		{"GET", "/api/v1/contacts/" + cB, "", [5]int{200, 404, 404, 200, 200}},
		{"PATCH", "/api/v1/contacts/" + cB, `{"add_tags": ["seen"]}`, [5]int{200, 404, 404, 200, 403}},
		{"POST", "/api/v1/contacts/" + cB + "/ban", "", [5]int{200, 404, 404, 200, 403}},
		{"POST", "/api/v1/contacts/" + cB + "/unban", "", [5]int{200, 404, 404, 200, 403}},
		{"GET", "/api/v1/contacts/" + cB + "/messages", "", [5]int{200, 404, 404, 200, 200}},
		{"POST", "/api/v1/contacts/" + cB + "/events", `{"name": "ping"}`, [5]int{200, 404, 404, 200, 403}},
		{"GET", "/api/v1/messages/search?q=hi&contact=" + cB, "", [5]int{200, 404, 404, 200, 200}},
		{"GET", "/api/v1/messages/search?q=hi", "", [5]int{200, 200, 200, 200, 200}},
		{"GET", "/api/v1/conversations", "", [5]int{200, 200, 200, 200, 200}},
		{"GET", "/api/v1/tokens", "", [5]int{200, 403, 403, 403, 403}},
		{"POST", "/api/v1/tokens", `{"name": "t", "scopes": ["read"]}`, [5]int{201, 403, 403, 403, 403}},
		{"GET", "/api/v1/agents", "", [5]int{200, 200, 200, 200, 200}},
		{"POST", "/api/v1/agents", `{"email": "new@example.com", "bots": ["other"]}`, [5]int{201, 403, 403, 403, 403}},
		{"GET", "/api/v1/teams", "", [5]int{200, 200, 200, 200, 200}},
		{"GET", "/api/v1/teams/x", "", [5]int{200, 200, 200, 200, 200}},
		{"POST", "/api/v1/teams", `{"id": "y"}`, [5]int{201, 403, 403, 403, 403}},
		{"PATCH", "/api/v1/teams/y", `{"name": "Why"}`, [5]int{200, 403, 403, 403, 403}},
		{"DELETE", "/api/v1/teams/y", "", [5]int{204, 403, 403, 403, 403}},
	} {
		for i, tok := range tokens {
			status, body := e.do(c.method, c.path, tok, c.body)
			if status != c.want[i] {
				t.Errorf("%s %s as %s: %d %s; want %d", c.method, c.path, who[i], status, body, c.want[i])
			}
		}
	}

	// Lists show each principal its own bots' things only; a filter for
	// another bot is an empty page.
	ids := func(tok, path, list string) []string {
		t.Helper()
		status, body := e.do("GET", path, tok, "")
		if status != 200 {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		var page map[string][]json.RawMessage
		json.Unmarshal([]byte(body), &page)
		var out []string
		for _, raw := range page[list] {
			var v struct {
				ID      string
				Contact json.RawMessage
			}
			json.Unmarshal(raw, &v)
			if v.ID == "" {
				var c struct{ ID string }
				json.Unmarshal(v.Contact, &c)
				if c.ID == "" {
					v.ID = string(v.Contact)
				} else {
					v.ID = c.ID
				}
			}
			out = append(out, strings.Trim(v.ID, `"`))
		}
		sort.Strings(out)
		return out
	}
	both := []string{cA, cB}
	sort.Strings(both)
	for _, c := range []struct {
		path, list string
		want       [5][]string
	}{
		{"/api/v1/bots", "bots", [5][]string{{"other", "shop"}, {"shop"}, {"shop"}, {"other"}, {"other", "shop"}}},
		{"/api/v1/contacts", "contacts", [5][]string{both, {cA}, {cA}, {cB}, both}},
		{"/api/v1/contacts?limit=1", "contacts", [5][]string{both[:1], {cA}, {cA}, {cB}, both[:1]}},
		{"/api/v1/contacts?q=rest", "contacts", [5][]string{both, {cA}, {cA}, {cB}, both}},
		{"/api/v1/contacts?bot=other", "contacts", [5][]string{{cB}, nil, nil, {cB}, {cB}}},
		{"/api/v1/contacts?bot=other&q=rest", "contacts", [5][]string{{cB}, nil, nil, {cB}, {cB}}},
		{"/api/v1/conversations", "conversations", [5][]string{both, {cA}, {cA}, {cB}, both}},
		{"/api/v1/conversations?bot=shop", "conversations", [5][]string{{cA}, {cA}, {cA}, nil, {cA}}},
	} {
		for i, tok := range tokens {
			if got := ids(tok, c.path, c.list); !slices.Equal(got, c.want[i]) {
				t.Errorf("%s as %s: %v; want %v", c.path, who[i], got, c.want[i])
			}
		}
	}
	// Search across conversations finds the texts of one's own bots only.
	for i, want := range []string{"hi from other,hi from shop", "hi from shop", "hi from shop", "hi from other", "hi from other,hi from shop"} {
		for _, path := range []string{"/api/v1/messages/search?q=hi+from", "/api/v1/messages/search?q=hi+from&bot=other"} {
			status, body := e.do("GET", path, tokens[i], "")
			var res struct {
				Messages []struct{ Content flows.Content }
			}
			mustJSON(t, body, &res)
			var texts []string
			for _, m := range res.Messages {
				texts = append(texts, m.Content.Text)
			}
			sort.Strings(texts)
			exp := want
			if strings.Contains(path, "bot=other") {
				exp = ""
				if strings.Contains(want, "other") {
					exp = "hi from other"
				}
			}
			if status != 200 || strings.Join(texts, ",") != exp {
				t.Errorf("%s as %s: %d %v; want %q", path, who[i], status, texts, exp)
			}
		}
	}
	// A search cursor is the client's: one naming a contact of another
	// bot opens nothing.
	cursor := base64.RawURLEncoding.EncodeToString([]byte(cB + "\n" + "99"))
	if status, body := e.do("GET", "/api/v1/messages/search?q=hi&cursor="+cursor, agentA, ""); status != 400 || strings.Contains(body, "hi from other") {
		t.Errorf("crafted cursor: %d %s", status, body)
	}
	// An unknown bot's 404 names only the bots the caller sees.
	if status, body := e.do("GET", "/api/v1/bots/nope", agentA, ""); status != 404 || strings.Contains(body, "other") {
		t.Errorf("unknown bot: %d %s", status, body)
	}
}

func TestMe(t *testing.T) {
	e, _, _ := startTwoBots(t)
	id, tok := e.agent("", map[string]any{"email": "ann@example.com", "name": "Ann", "bots": []string{"shop"}, "teams": []string{"x"}, "capacity": 3})
	var me struct {
		ID, Name, Email, Role string
		Bots, Teams, Scopes   []string
		AllBots               bool `json:"all_bots"`
		Capacity              int
		Program               bool
	}
	status, body := e.do("GET", "/api/v1/me", tok, "")
	mustJSON(t, body, &me)
	if status != 200 || me.ID != id || me.Name != "Ann" || me.Email != "ann@example.com" || me.Role != "agent" || !slices.Equal(me.Bots, []string{"shop"}) ||
		!slices.Equal(me.Teams, []string{"x"}) || me.Capacity != 3 || me.AllBots || me.Program || !slices.Equal(me.Scopes, []string{"write"}) {
		t.Fatalf("agent: %d %s", status, body)
	}
	me = struct {
		ID, Name, Email, Role string
		Bots, Teams, Scopes   []string
		AllBots               bool `json:"all_bots"`
		Capacity              int
		Program               bool
	}{}
	status, body = e.do("GET", "/api/v1/me", e.admin, "")
	mustJSON(t, body, &me)
	if status != 200 || me.Role != "admin" || !me.AllBots || me.Capacity != store.DefaultCapacity || !slices.Equal(me.Scopes, []string{"admin"}) || me.Bots == nil {
		t.Fatalf("admin: %d %s", status, body)
	}
	status, body = e.do("GET", "/api/v1/me", e.token("read"), "")
	if status != 200 || !strings.Contains(body, `"program":true`) || !strings.Contains(body, `"name":"test read"`) || !strings.Contains(body, `"all_bots":true`) || strings.Contains(body, `"role"`) {
		t.Fatalf("program: %d %s", status, body)
	}
}

// TestLoginCookies: the sign-in sets a session cookie and a CSRF cookie;
// a cookie-authenticated request that changes something needs the CSRF
// header; a bearer token needs none.
func TestLoginCookies(t *testing.T) {
	e, cA, _ := startTwoBots(t)
	status, hdr, body := e.req("POST", "/api/v1/auth/login", nil, `{"email": "admin@localhost", "password": "`+adminPassword+`"}`)
	if status != 200 {
		t.Fatalf("login: %d %s", status, body)
	}
	var lr struct {
		Token     string
		CSRFToken string `json:"csrf_token"`
		Account   struct{ Role, Email string }
	}
	mustJSON(t, body, &lr)
	if lr.Token == "" || lr.CSRFToken == "" || lr.Account.Role != "admin" || lr.Account.Email != api.AdminEmail {
		t.Fatalf("login: %s", body)
	}
	cookies := map[string]string{}
	for _, sc := range hdr.Values("Set-Cookie") {
		name, _, _ := strings.Cut(sc, "=")
		cookies[name] = sc
	}
	sess, csrf := cookies[api.SessionCookie], cookies[api.CSRFCookie]
	for _, want := range []string{api.SessionCookie + "=" + lr.Token + ";", "HttpOnly", "SameSite=Strict", "path=/", "expires="} {
		if !strings.Contains(strings.ToLower(sess), strings.ToLower(want)) {
			t.Errorf("session cookie %q lacks %q", sess, want)
		}
	}
	if strings.Contains(sess, "secure") || strings.Contains(sess, "Secure") {
		t.Errorf("Secure over plain HTTP: %q", sess)
	}
	if !strings.Contains(csrf, api.CSRFCookie+"="+lr.CSRFToken+";") || strings.Contains(strings.ToLower(csrf), "httponly") || !strings.Contains(strings.ToLower(csrf), "samesite=strict") {
		t.Errorf("csrf cookie %q", csrf)
	}
	jar := http.Header{"Cookie": {api.SessionCookie + "=" + lr.Token + "; " + api.CSRFCookie + "=" + lr.CSRFToken}}
	with := func(extra ...string) http.Header {
		h := jar.Clone()
		for i := 0; i < len(extra); i += 2 {
			h.Set(extra[i], extra[i+1])
		}
		return h
	}
	ban := "/api/v1/contacts/" + cA + "/ban"
	for _, c := range []struct {
		name, method, path string
		h                  http.Header
		status             int
		code               string
	}{
		{"read by cookie", "GET", "/api/v1/me", jar, 200, ""},
		{"write without the header", "POST", ban, jar, 403, "csrf"},
		{"write with a wrong header", "POST", ban, with(api.CSRFHeader, "x"+lr.CSRFToken), 403, "csrf"},
		{"header matching a forged cookie", "POST", ban, http.Header{"Cookie": {api.SessionCookie + "=" + lr.Token + "; " + api.CSRFCookie + "=forged"}, api.CSRFHeader: {"forged"}}, 403, "csrf"},
		{"write with the header", "POST", ban, with(api.CSRFHeader, lr.CSRFToken), 200, ""},
		{"PATCH without the header", "PATCH", "/api/v1/contacts/" + cA, jar, 403, "csrf"},
		{"DELETE without the header", "DELETE", "/api/v1/teams/x", jar, 403, "csrf"},
		{"bearer needs no header", "POST", "/api/v1/contacts/" + cA + "/unban", http.Header{"Authorization": {"Bearer " + lr.Token}}, 200, ""},
		{"a bad cookie", "GET", "/api/v1/me", http.Header{"Cookie": {api.SessionCookie + "=sb_nonsense"}}, 401, "invalid_token"},
	} {
		body := ""
		if c.method == "PATCH" {
			body = `{"add_tags": ["t"]}`
		}
		status, _, b := e.req(c.method, c.path, c.h, body)
		if status != c.status || (c.code != "" && errCode(t, b) != c.code) {
			t.Errorf("%s: %d %s; want %d %s", c.name, status, b, c.status, c.code)
		}
	}
	// Logout by cookie (with the header) revokes the token and clears
	// the cookies.
	status, hdr, body = e.req("POST", "/api/v1/auth/logout", with(api.CSRFHeader, lr.CSRFToken), "")
	if status != 204 {
		t.Fatalf("logout: %d %s", status, body)
	}
	cleared := 0
	for _, ck := range (&http.Response{Header: hdr}).Cookies() {
		if (ck.Name == api.SessionCookie || ck.Name == api.CSRFCookie) && ck.Value == "" && ck.Expires.Before(time.Now()) {
			cleared++
		}
	}
	if cleared != 2 {
		t.Fatalf("cookies not cleared: %v", hdr.Values("Set-Cookie"))
	}
	if status, _, body := e.req("GET", "/api/v1/me", jar, ""); status != 401 || errCode(t, body) != "invalid_token" {
		t.Fatalf("after logout: %d %s", status, body)
	}
}

func TestDisabledAccount(t *testing.T) {
	e, _, _ := startTwoBots(t)
	id, tok := e.agent("", map[string]any{"email": "ann@example.com", "role": "admin"})
	// An API token made by the account dies with it too.
	status, body := e.do("POST", "/api/v1/tokens", tok, `{"name": "ann's script", "scopes": ["read"]}`)
	if status != 201 {
		t.Fatal(status, body)
	}
	var apiTok struct{ Token string }
	mustJSON(t, body, &apiTok)
	if status, body := e.do("PATCH", "/api/v1/agents/"+id, e.admin, `{"disabled": true}`); status != 200 || !strings.Contains(body, `"disabled":true`) {
		t.Fatalf("disable: %d %s", status, body)
	}
	for _, tk := range []string{tok, apiTok.Token} {
		if status, body := e.do("GET", "/api/v1/me", tk, ""); status != 401 || errCode(t, body) != "account_disabled" {
			t.Fatalf("disabled token: %d %s", status, body)
		}
	}
	b, _ := json.Marshal(map[string]string{"email": "ann@example.com", "password": "password of ann@example.com"})
	if status, body := e.do("POST", "/api/v1/auth/login", "", string(b)); status != 401 || errCode(t, body) != "account_disabled" {
		t.Fatalf("disabled sign-in: %d %s", status, body)
	}
	// A wrong password does not tell that the account is disabled.
	if status, body := e.do("POST", "/api/v1/auth/login", "", `{"email": "ann@example.com", "password": "wrong one!"}`); status != 401 || errCode(t, body) != "invalid_credentials" {
		t.Fatalf("disabled, wrong password: %d %s", status, body)
	}
	if status, body := e.do("PATCH", "/api/v1/agents/"+id, e.admin, `{"disabled": false}`); status != 200 {
		t.Fatalf("enable: %d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/me", tok, ""); status != 200 {
		t.Fatalf("enabled again: %d %s", status, body)
	}
}

// TestLastAdmin: no account disables, demotes or deletes itself, and the
// last enabled admin stays one.
func TestLastAdmin(t *testing.T) {
	e, _, _ := startTwoBots(t)
	var me struct{ ID string }
	_, body := e.do("GET", "/api/v1/me", e.admin, "")
	mustJSON(t, body, &me)
	self := "/api/v1/agents/" + me.ID
	ops := e.token("admin") // a program may do what an admin does
	for _, c := range []struct {
		method, token, body, code string
	}{
		{"PATCH", e.admin, `{"disabled": true}`, "cannot_change_self"},
		{"PATCH", e.admin, `{"role": "manager"}`, "cannot_change_self"},
		{"DELETE", e.admin, "", "cannot_change_self"},
		{"PATCH", ops, `{"disabled": true}`, "last_admin"},
		{"PATCH", ops, `{"role": "agent"}`, "last_admin"},
		{"DELETE", ops, "", "last_admin"},
	} {
		if status, body := e.do(c.method, self, c.token, c.body); status != 409 || errCode(t, body) != c.code {
			t.Errorf("%s %s: %d %s; want 409 %s", c.method, c.body, status, body, c.code)
		}
	}
	// An admin changes its own name, and its password with the current one.
	if status, body := e.do("PATCH", self, e.admin, `{"name": "Root"}`); status != 200 || !strings.Contains(body, `"name":"Root"`) {
		t.Fatalf("rename: %d %s", status, body)
	}
	if status, body := e.do("PATCH", self, e.admin, `{"password": "a new password"}`); status != 403 || errCode(t, body) != "wrong_password" {
		t.Fatalf("password without the current one: %d %s", status, body)
	}
	// With a second admin the first can go.
	other, otherTok := e.agent("", map[string]any{"email": "second@example.com", "role": "admin"})
	if status, body := e.do("PATCH", self, otherTok, `{"role": "manager", "bots": ["shop"]}`); status != 200 {
		t.Fatalf("demote the first: %d %s", status, body)
	}
	// The demotion applies to the sign-ins it has open.
	if status, _ := e.do("GET", "/api/v1/tokens", e.admin, ""); status != 403 {
		t.Fatalf("demoted session: %d", status)
	}
	if status, body := e.do("DELETE", "/api/v1/agents/"+other, ops, ""); status != 409 || errCode(t, body) != "last_admin" {
		t.Fatalf("delete the last: %d %s", status, body)
	}
	if status, body := e.do("PATCH", self, otherTok, `{"role": "admin"}`); status != 200 {
		t.Fatalf("promote again: %d %s", status, body)
	}
	if status, body := e.do("DELETE", "/api/v1/agents/"+other, e.admin, ""); status != 204 {
		t.Fatalf("delete: %d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/me", otherTok, ""); status != 401 || errCode(t, body) != "invalid_token" {
		t.Fatalf("deleted account's session: %d %s", status, body)
	}
}

func TestAgents(t *testing.T) {
	e, _, _ := startTwoBots(t)
	mgrID, manager := e.agent("", map[string]any{"email": "mia@example.com", "role": "manager", "bots": []string{"shop"}})
	bobID, _ := e.agent("", map[string]any{"email": "bob@example.com", "bots": []string{"other"}})
	mixedID, _ := e.agent("", map[string]any{"email": "max@example.com", "bots": []string{"other", "shop"}})

	// A generated password is answered once and signs in.
	status, hdr, body := e.doH("POST", "/api/v1/agents", manager, `{"email": "Ann@Example.com", "name": " Ann ", "bots": ["shop", "shop"], "teams": ["x"]}`)
	var ann struct {
		ID, Email, Name, Role, Password string
		Bots, Teams                     []string
		Capacity                        int
		Disabled                        bool
	}
	mustJSON(t, body, &ann)
	if status != 201 || ann.Role != "agent" || ann.Name != "Ann" || !slices.Equal(ann.Bots, []string{"shop"}) || ann.Capacity != 5 || len(ann.Password) < 10 || hdr.Get("Location") != "/api/v1/agents/"+ann.ID {
		t.Fatalf("create: %d %s", status, body)
	}
	annTok := e.login("ann@example.com", ann.Password)
	if status, body := e.do("GET", "/api/v1/agents/"+ann.ID, e.admin, ""); status != 200 || strings.Contains(body, "password") {
		t.Fatalf("the password is shown once: %d %s", status, body)
	}
	for _, c := range []struct {
		token, body string
		status      int
		code        string
	}{
		{manager, `{"email": "x@example.com", "bots": ["other"]}`, 403, "not_your_bot"},
		{manager, `{"email": "x@example.com", "role": "manager", "bots": ["shop"]}`, 403, "forbidden"},
		{manager, `{"email": "x@example.com"}`, 400, "invalid_bots"},
		{manager, `{"email": "x@example.com", "role": "admin", "bots": ["shop"]}`, 403, "forbidden"},
		{e.admin, `{"email": "x@example.com", "role": "owner"}`, 400, "invalid_role"},
		{e.admin, `{"email": "not an email"}`, 400, "invalid_email"},
		{e.admin, `{"email": "x@example.com", "password": "short"}`, 400, "weak_password"},
		{e.admin, `{"email": "x@example.com", "teams": ["nope"]}`, 422, "unknown_team"},
		{e.admin, `{"email": "x@example.com", "bots": ["Not A Bot"]}`, 400, "invalid_bots"},
		{e.admin, `{"email": "x@example.com", "capacity": -1}`, 400, "invalid_capacity"},
		{e.admin, `{"email": "ANN@example.com"}`, 409, "email_taken"},
		{e.admin, `{"email": "x@example.com", "disabled": true}`, 400, "unknown_field"},
		{annTok, `{"email": "x@example.com"}`, 403, "forbidden"},
	} {
		if status, body := e.do("POST", "/api/v1/agents", c.token, c.body); status != c.status || errCode(t, body) != c.code {
			t.Errorf("create %s: %d %s; want %d %s", c.body, status, body, c.status, c.code)
		}
	}

	// Who sees whom: a manager and an agent see themselves and those who
	// share a bot, never admins.
	list := func(tok, query string) []string {
		t.Helper()
		status, body := e.do("GET", "/api/v1/agents"+query, tok, "")
		var l struct{ Agents []struct{ Email string } }
		mustJSON(t, body, &l)
		if status != 200 {
			t.Fatalf("list: %d %s", status, body)
		}
		var out []string
		for _, a := range l.Agents {
			out = append(out, a.Email)
		}
		sort.Strings(out)
		return out
	}
	for _, c := range []struct {
		tok, query string
		want       string
	}{
		{e.admin, "", "Ann@Example.com,admin@localhost,bob@example.com,max@example.com,mia@example.com"},
		{manager, "", "Ann@Example.com,max@example.com,mia@example.com"},
		{annTok, "", "Ann@Example.com,max@example.com,mia@example.com"},
		{e.admin, "?role=manager", "mia@example.com"},
		{e.admin, "?bot=other", "bob@example.com,max@example.com"},
		{e.admin, "?team=x", "Ann@Example.com"},
		{manager, "?bot=other", "max@example.com"},
	} {
		if got := strings.Join(list(c.tok, c.query), ","); got != c.want {
			t.Errorf("list %s: %s; want %s", c.query, got, c.want)
		}
	}
	if status, body := e.do("GET", "/api/v1/agents/"+bobID, manager, ""); status != 404 || errCode(t, body) != "unknown_agent" {
		t.Fatalf("an agent of another bot: %d %s", status, body)
	}

	// A manager changes its agents, with its own bots only.
	for _, c := range []struct {
		token, id, body string
		status          int
		code            string
	}{
		{manager, ann.ID, `{"capacity": 2, "teams": ["x"], "name": "Ann A."}`, 200, ""},
		{manager, ann.ID, `{"bots": ["shop", "other"]}`, 403, "not_your_bot"},
		{manager, ann.ID, `{"bots": []}`, 400, "invalid_bots"},
		{manager, ann.ID, `{"role": "manager"}`, 403, "forbidden"},
		{manager, ann.ID, `{"password": "a brand new one"}`, 200, ""},
		{manager, mixedID, `{"capacity": 1}`, 403, "forbidden"}, // works on a bot the manager has not
		{manager, bobID, `{"capacity": 1}`, 404, "unknown_agent"},
		{manager, mgrID, `{"bots": ["shop", "other"]}`, 403, "forbidden"}, // not its own powers
		{manager, mgrID, `{"name": "Mia"}`, 200, ""},
		{manager, mgrID, `{"password": "mia's new password", "current_password": "wrong"}`, 403, "wrong_password"},
		{manager, mgrID, `{"password": "mia's new password", "current_password": "password of mia@example.com"}`, 200, ""},
		{e.admin, ann.ID, `{"role": "nope"}`, 400, "invalid_role"},
		{e.admin, ann.ID, `{"teams": ["nope"]}`, 422, "unknown_team"},
		{e.admin, ann.ID, `{"email": "a@b.c"}`, 400, "unknown_field"},
		{e.admin, "acc_nope", `{"name": "x"}`, 404, "unknown_agent"},
	} {
		status, body := e.do("PATCH", "/api/v1/agents/"+c.id, c.token, c.body)
		if status != c.status || (c.code != "" && errCode(t, body) != c.code) {
			t.Errorf("patch %s %s: %d %s; want %d %s", c.id, c.body, status, body, c.status, c.code)
		}
	}
	// The new password ended Ann's sign-in; the manager's own change kept
	// the manager's.
	if status, body := e.do("GET", "/api/v1/me", annTok, ""); status != 401 {
		t.Fatalf("ann's old session: %d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/me", manager, ""); status != 200 || !strings.Contains(body, `"name":"Mia"`) {
		t.Fatalf("manager's session: %d %s", status, body)
	}
	annTok = e.login("ann@example.com", "a brand new one")
	if status, body := e.do("GET", "/api/v1/agents/"+ann.ID, annTok, ""); status != 200 || !strings.Contains(body, `"capacity":2`) || !strings.Contains(body, `"name":"Ann A."`) {
		t.Fatalf("changed: %d %s", status, body)
	}
	// An agent changes its own name, not its capacity, nor others.
	if status, body := e.do("PATCH", "/api/v1/agents/"+ann.ID, annTok, `{"capacity": 9}`); status != 403 {
		t.Fatalf("own capacity: %d %s", status, body)
	}
	if status, body := e.do("PATCH", "/api/v1/agents/"+mgrID, annTok, `{"name": "x"}`); status != 403 {
		t.Fatalf("another's name: %d %s", status, body)
	}
	if status, body := e.do("DELETE", "/api/v1/agents/"+mixedID, manager, ""); status != 403 {
		t.Fatalf("manager deletes a shared agent: %d %s", status, body)
	}
	if status, body := e.do("DELETE", "/api/v1/agents/"+ann.ID, manager, ""); status != 204 {
		t.Fatalf("manager deletes its agent: %d %s", status, body)
	}
	if status, _ := e.do("GET", "/api/v1/agents/"+ann.ID, e.admin, ""); status != 404 {
		t.Fatalf("deleted: %d", status)
	}
	// The email is free again.
	if status, body := e.do("POST", "/api/v1/agents", e.admin, `{"email": "ann@example.com"}`); status != 201 {
		t.Fatalf("email again: %d %s", status, body)
	}
}

func TestTeams(t *testing.T) {
	e, _, _ := startTwoBots(t)
	_, agentTok := e.agent("", map[string]any{"email": "ann@example.com", "bots": []string{"shop"}})
	status, hdr, body := e.doH("POST", "/api/v1/teams", e.admin, `{"id": "sales", "name": "Sales", "auto_assign": "least_busy", "reply_target_seconds": 120}`)
	if status != 201 || hdr.Get("Location") != "/api/v1/teams/sales" || !strings.Contains(body, `"reply_target_seconds":120`) || !strings.Contains(body, `"auto_assign":"least_busy"`) {
		t.Fatalf("create: %d %s", status, body)
	}
	// Defaults are stored as in effect.
	status, body = e.do("POST", "/api/v1/teams", e.admin, `{"id": "support"}`)
	if status != 201 || !strings.Contains(body, `"auto_assign":"off"`) || !strings.Contains(body, `"reply_target_seconds":300`) || !strings.Contains(body, `"name":"support"`) {
		t.Fatalf("defaults: %d %s", status, body)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", "/api/v1/teams", `{"id": "sales"}`, 409, "team_exists"},
		{"POST", "/api/v1/teams", `{"id": "Sales Team"}`, 400, "invalid_id"},
		{"POST", "/api/v1/teams", `{"name": "no id"}`, 400, "invalid_id"},
		{"POST", "/api/v1/teams", `{"id": "z", "auto_assign": "random"}`, 400, "invalid_auto_assign"},
		{"POST", "/api/v1/teams", `{"id": "z", "reply_target_seconds": -5}`, 400, "invalid_reply_target"},
		{"PATCH", "/api/v1/teams/sales", `{"id": "other"}`, 400, "invalid_id"},
		{"PATCH", "/api/v1/teams/nope", `{"name": "x"}`, 404, "unknown_team"},
		{"GET", "/api/v1/teams/nope", "", 404, "unknown_team"},
		{"DELETE", "/api/v1/teams/nope", "", 404, "unknown_team"},
	} {
		if status, body := e.do(c.method, c.path, e.admin, c.body); status != c.status || errCode(t, body) != c.code {
			t.Errorf("%s %s %s: %d %s; want %d %s", c.method, c.path, c.body, status, body, c.status, c.code)
		}
	}
	if status, body := e.do("PATCH", "/api/v1/teams/sales", e.admin, `{"auto_assign": "round_robin", "reply_target_seconds": 0}`); status != 200 ||
		!strings.Contains(body, `"auto_assign":"round_robin"`) || !strings.Contains(body, `"reply_target_seconds":300`) || !strings.Contains(body, `"name":"Sales"`) {
		t.Fatalf("patch: %d %s", status, body)
	}
	status, body = e.do("GET", "/api/v1/teams", agentTok, "")
	var l struct{ Teams []struct{ ID string } }
	mustJSON(t, body, &l)
	if status != 200 || len(l.Teams) != 3 || l.Teams[0].ID != "sales" || l.Teams[1].ID != "support" || l.Teams[2].ID != "x" {
		t.Fatalf("list: %d %s", status, body)
	}
	if status, body := e.do("PATCH", "/api/v1/teams/sales", agentTok, `{"name": "x"}`); status != 403 || errCode(t, body) != "forbidden" {
		t.Fatalf("agent writes: %d %s", status, body)
	}
	// An agent in a team that is deleted keeps it.
	id, _ := e.agent("", map[string]any{"email": "bob@example.com", "teams": []string{"sales"}})
	if status, _ := e.do("DELETE", "/api/v1/teams/sales", e.admin, ""); status != 204 {
		t.Fatal(status)
	}
	if status, body := e.do("PATCH", "/api/v1/agents/"+id, e.admin, `{"teams": ["sales", "x"]}`); status != 200 || !strings.Contains(body, `"teams":["sales","x"]`) {
		t.Fatalf("kept team: %d %s", status, body)
	}
}

// TestSocketAccess: the /ws socket, authenticated by the API, shows a
// manager or agent the events of its bots only, takes the session cookie
// from a page of the server, and refuses a disabled account.
func TestSocketAccess(t *testing.T) {
	e, _, _ := startTwoBots(t)
	_, agentB := e.agent("", map[string]any{"email": "bob@example.com", "bots": []string{"other"}})
	offID, offTok := e.agent("", map[string]any{"email": "off@example.com", "bots": []string{"shop"}})
	if status, body := e.do("PATCH", "/api/v1/agents/"+offID, e.admin, `{"disabled": true}`); status != 200 {
		t.Fatal(status, body)
	}
	a := api.New(api.Config{Store: e.st, Pipeline: e.p})
	hub := live.NewHub()
	ws := live.NewServer(live.Config{Hub: hub, Authenticate: live.CookieOrTokenAuth(a.Authenticate, api.SessionCookie), Log: slog.New(slog.DiscardHandler)})
	r := router.New()
	ws.Mount(r)
	srv := &fasthttp.Server{Handler: r.Handler}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws.Close(ctx)
		srv.Shutdown()
		hub.Close()
	})
	addr := l.Addr().String()
	dial := func(h http.Header) (*websocket.Conn, int) {
		t.Helper()
		c, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", h)
		if err != nil {
			if resp == nil {
				t.Fatal(err)
			}
			return nil, resp.StatusCode
		}
		t.Cleanup(func() { c.Close() })
		return c, 101
	}
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	cookie := http.Header{"Cookie": {api.SessionCookie + "=" + agentB}}
	if _, status := dial(bearer(offTok)); status != 401 {
		t.Fatalf("disabled account: %d", status)
	}
	if _, status := dial(cookie); status != 403 {
		t.Fatalf("cookie without an Origin: %d", status)
	}
	admin, _ := dial(bearer(e.admin))
	byToken, _ := dial(bearer(agentB))
	cookie.Set("Origin", "http://"+addr)
	byCookie, status := dial(cookie)
	if status != 101 {
		t.Fatalf("cookie from the server's page: %d", status)
	}
	for hub.Subscribers() < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	for _, bot := range []string{"shop", "other"} {
		hub.Publish(pipeline.Committed{Contact: &flows.Contact{ID: "c-" + bot, Bot: bot}})
	}
	read := func(c *websocket.Conn, n int) (bots []string) {
		t.Helper()
		for i := 0; i < n; i++ {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			var f struct{ Bot string }
			if err := c.ReadJSON(&f); err != nil {
				t.Fatal(err)
			}
			bots = append(bots, f.Bot)
		}
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, b, err := c.ReadMessage(); err == nil {
			t.Fatalf("one more event: %s", b)
		}
		return bots
	}
	if got := read(admin, 2); strings.Join(got, ",") != "shop,other" {
		t.Fatalf("admin: %v", got)
	}
	for _, c := range []*websocket.Conn{byToken, byCookie} {
		if got := read(c, 1); strings.Join(got, ",") != "other" {
			t.Fatalf("agent of other: %v", got)
		}
	}
}

// TestContactsOfSeveralBots pages through the contacts of an agent of two
// bots (of three): the pages merge the bots' contacts in ID order.
func TestContactsOfSeveralBots(t *testing.T) {
	e, cA, cB := startTwoBots(t)
	now := time.Now().UTC()
	var want []string
	for _, c := range []*flows.Contact{
		{ID: "c-third-1", Bot: "third", Channel: "rest"},
		{ID: "c-other-2", Bot: "other", Channel: "rest"},
		{ID: "c-shop-2", Bot: "shop", Channel: "rest"},
	} {
		c.CreatedAt, c.UpdatedAt = now, now
		if err := e.st.Commit(context.Background(), &store.Batch{Contact: c}); err != nil {
			t.Fatal(err)
		}
		if c.Bot != "third" {
			want = append(want, c.ID)
		}
	}
	want = append(want, cA, cB)
	sort.Strings(want)
	_, tok := e.agent("", map[string]any{"email": "max@example.com", "bots": []string{"shop", "other"}})
	for _, limit := range []string{"1", "2", "3", "10"} {
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("no end")
			}
			status, body := e.do("GET", "/api/v1/contacts?limit="+limit+"&cursor="+cursor, tok, "")
			var page struct {
				Contacts []struct{ ID string }
				Next     string `json:"next_cursor"`
			}
			mustJSON(t, body, &page)
			if status != 200 {
				t.Fatalf("%d %s", status, body)
			}
			for _, c := range page.Contacts {
				got = append(got, c.ID)
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %s: %v; want %v", limit, got, want)
		}
	}
}
