package api_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/api"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

type convPage struct {
	Conversations []struct {
		Contact       flows.Contact
		LastMessageAt time.Time `json:"last_message_at"`
		Preview       string
		LastMessage   struct {
			Seq       uint64
			Direction string
			Author    string
		} `json:"last_message"`
	}
	NextCursor string `json:"next_cursor"`
	Truncated  bool
	Scanned    int
}

func (p convPage) ids() []string {
	var out []string
	for _, c := range p.Conversations {
		out = append(out, c.Contact.ID)
	}
	return out
}

func TestConversations(t *testing.T) {
	e := start(t, func(c *api.Config) { c.SearchScan = 3 })
	read := e.token("read")
	for _, u := range []string{"ann", "bob", "cid", "dan"} {
		e.chat(u, "hello from "+u)
	}
	// A contact without messages is not a conversation.
	now := time.Now().UTC()
	if err := e.st.Commit(context.Background(), &store.Batch{Contact: &flows.Contact{ID: "c0silent", Bot: "shop", Channel: "rest", ExternalID: "silent", CreatedAt: now, UpdatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	bob := pipeline.ContactID("shop", "rest", "bob")
	if status, body := e.do("PATCH", "/api/v1/contacts/"+bob, e.admin, `{"add_tags": ["vip"]}`); status != 200 {
		t.Fatalf("%d %s", status, body)
	}

	// The whole list, a page of at most 3 contacts scanned at a time.
	var all []string
	cursor := ""
	for i := 0; ; i++ {
		status, body := e.do("GET", "/api/v1/conversations?limit=10&cursor="+cursor, read, "")
		if status != 200 {
			t.Fatalf("%d %s", status, body)
		}
		var p convPage
		mustJSON(t, body, &p)
		if p.Scanned > 3 {
			t.Fatalf("scanned %d > the bound", p.Scanned)
		}
		for _, c := range p.Conversations {
			if c.Preview != "Noted." && c.Preview != "Hi! What can I do?" || c.LastMessage.Direction != "out" || c.LastMessageAt.IsZero() || c.LastMessage.Seq == 0 {
				t.Fatalf("conversation: %+v", c)
			}
		}
		all = append(all, p.ids()...)
		if p.NextCursor == "" {
			break
		}
		if !p.Truncated || i > 5 {
			t.Fatalf("page %d: %s", i, body)
		}
		cursor = p.NextCursor
	}
	if len(all) != 4 || strings.Contains(strings.Join(all, ","), "c0silent") {
		t.Fatalf("conversations: %v", all)
	}

	// Filters.
	status, body := e.do("GET", "/api/v1/conversations?tag=vip", read, "")
	var p convPage
	mustJSON(t, body, &p)
	// bob may lie beyond the scan bound of the first page: follow cursors.
	got := p.ids()
	for p.NextCursor != "" {
		_, body = e.do("GET", "/api/v1/conversations?tag=vip&cursor="+p.NextCursor, read, "")
		p = convPage{}
		mustJSON(t, body, &p)
		got = append(got, p.ids()...)
	}
	if status != 200 || len(got) != 1 || got[0] != bob {
		t.Fatalf("tag=vip: %v", got)
	}
	for _, q := range []string{"bot=nobot", "channel=whatsapp", "status=closed"} {
		status, body := e.do("GET", "/api/v1/conversations?"+q, read, "")
		mustJSON(t, body, &p)
		if status != 200 || len(p.Conversations) != 0 {
			t.Fatalf("%s: %d %s", q, status, body)
		}
	}
	if status, body := e.do("GET", "/api/v1/conversations?limit=0", read, ""); status != 400 || errCode(t, body) != "invalid_limit" {
		t.Fatalf("limit=0: %d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/conversations", "", ""); status != 401 {
		t.Fatalf("no token: %d %s", status, body)
	}
}

func TestConversationsLimit(t *testing.T) {
	e := start(t)
	for _, u := range []string{"ann", "bob", "cid"} {
		e.chat(u, "hi")
	}
	var seen []string
	cursor := ""
	for {
		status, body := e.do("GET", "/api/v1/conversations?channel=rest&bot=shop&limit=2&cursor="+cursor, e.admin, "")
		if status != 200 {
			t.Fatalf("%d %s", status, body)
		}
		var p convPage
		mustJSON(t, body, &p)
		if len(p.Conversations) > 2 || p.Truncated {
			t.Fatalf("page: %s", body)
		}
		seen = append(seen, p.ids()...)
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != 3 {
		t.Fatalf("%v", seen)
	}
}

func TestAuthenticate(t *testing.T) {
	var a *api.API
	e := start(t, func(c *api.Config) { a = api.New(*c) })
	read := e.token("read")
	if p, err := a.Authenticate(read); err != nil || len(p.Scopes) != 1 || p.Scopes[0] != "read" || !p.Program {
		t.Fatalf("read token: %+v %v", p, err)
	}
	if p, err := a.Authenticate(e.admin); err != nil || !p.Admin() || p.Email != api.AdminEmail || p.Program {
		t.Fatalf("admin: %+v %v", p, err)
	}
	if _, err := a.Authenticate("sb_nonsense"); !errors.Is(err, api.ErrInvalidToken) {
		t.Fatalf("nonsense: %v", err)
	}
	if _, err := a.Authenticate(""); !errors.Is(err, api.ErrNoToken) {
		t.Fatalf("empty: %v", err)
	}
	e.clk.add(13 * time.Hour) // past the sign-in's 12 hours
	if _, err := a.Authenticate(e.admin); !errors.Is(err, api.ErrTokenExpired) {
		t.Fatalf("expired: %v", err)
	}
}
