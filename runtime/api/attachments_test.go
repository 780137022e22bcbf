package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/plugins/host"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/runtime/api"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
)

// media is a fake of the plugin channels: shop's channel tg fetches
// media, "f:<name>" being its files; no other channel does.
type media struct{ calls atomic.Int32 }

var files = map[string]struct {
	data string
	info sdk.MediaInfo
	err  error
}{
	"photo":   {data: "\xff\xd8\xff\xe0JFIF", info: sdk.MediaInfo{ContentType: "image/jpeg", Name: "photo.jpg", Size: 8}},
	"notes":   {data: "hello", info: sdk.MediaInfo{ContentType: "text/plain; charset=iso-8859-1"}},
	"page":    {data: "<script>alert(1)</script>", info: sdk.MediaInfo{ContentType: "text/html", Name: "../../page.html"}},
	"drawing": {data: "<svg onload=alert(1)/>", info: sdk.MediaInfo{ContentType: "image/svg+xml", Name: "d.svg"}},
	"gone":    {err: sdk.Final(errors.New("telegram file download: 404 Not Found"))},
	"slow":    {err: sdk.Retryable(fmt.Errorf("waiting: %w", context.DeadlineExceeded), 0)},
	"big":     {err: &sdk.Error{Err: fmt.Errorf("%w of 26214400 bytes", host.ErrMediaTooLarge)}},
}

func (m *media) FetchesMedia(bot, ch string) bool { return bot == "shop" && ch == "tg" }

func (m *media) FetchMedia(_ context.Context, bot, ch, url string) (io.ReadCloser, sdk.MediaInfo, error) {
	m.calls.Add(1)
	if !m.FetchesMedia(bot, ch) {
		return nil, sdk.MediaInfo{}, host.ErrNoMedia
	}
	name, ok := strings.CutPrefix(url, "f:")
	f, known := files[name]
	if !ok || !known {
		return nil, sdk.MediaInfo{}, fmt.Errorf("%w: not a file reference", sdk.ErrUnknownMedia)
	}
	if f.err != nil {
		return nil, sdk.MediaInfo{}, f.err
	}
	return io.NopCloser(strings.NewReader(f.data)), f.info, nil
}

// TestAttachments: the customer's files of a plugin channel that fetches
// media are served by the API, at the proxy_url of each, to those who may
// see the conversation, with a safe answer; failures say what failed.
func TestAttachments(t *testing.T) {
	fake := &media{}
	e := start(t, func(c *api.Config) { c.Media = fake })
	for _, team := range []string{"x", "billing"} {
		if status, body := e.do("POST", "/api/v1/teams", e.admin, `{"id": "`+team+`"}`); status != 201 {
			t.Fatalf("team: %d %s", status, body)
		}
	}
	cid := pipeline.ContactID("shop", "tg", "u9")
	now := time.Now().UTC()
	att := func(names ...string) []flows.Media {
		var out []flows.Media
		for _, n := range names {
			out = append(out, flows.Media{URL: "f:" + n, Kind: "file", Name: n + " as sent", MIME: "application/x-sent"})
		}
		return out
	}
	in := func(ch string, names ...string) store.Message {
		return store.Message{Time: now, Direction: store.DirectionIn, Author: store.AuthorUser, Channel: ch, Content: flows.Content{Attachments: att(names...)}}
	}
	err := e.st.Commit(context.Background(), &store.Batch{
		Contact: &flows.Contact{ID: cid, Bot: "shop", Channel: "tg", ExternalID: "u9", Queue: "billing", CreatedAt: now, UpdatedAt: now},
		Messages: []store.Message{
			in("tg", "photo", "notes", "page", "drawing"), // 1
			in("tg", "gone", "slow", "big", "elsewhere"),  // 2
			{Time: now, Direction: store.DirectionOut, Author: store.AuthorBot, Channel: "tg", Content: flows.Content{Text: "got it", Attachments: att("photo")}}, // 3
			in("mail", "photo"), // 4: a channel that fetches nothing
		},
	})
	if err != nil {
		t.Fatal(err)
	}

	// The messages name the path of each file the API serves.
	status, body := e.do("GET", "/api/v1/contacts/"+cid+"/messages", e.admin, "")
	var page struct {
		Messages []struct {
			Seq     uint64
			Content struct {
				Attachments []struct {
					URL      string
					ProxyURL string `json:"proxy_url"`
				}
			}
		}
	}
	mustJSON(t, body, &page)
	if status != 200 || len(page.Messages) != 4 {
		t.Fatalf("messages: %d %s", status, body)
	}
	for _, m := range page.Messages {
		for i, a := range m.Content.Attachments {
			want := ""
			if m.Seq <= 2 {
				want = fmt.Sprintf("/api/v1/contacts/%s/messages/%d/attachments/%d", cid, m.Seq, i)
			}
			if a.ProxyURL != want || a.ProxyURL != "" && a.ProxyURL != api.AttachmentPath(cid, m.Seq, i) {
				t.Errorf("message %d, attachment %d: proxy_url %q, want %q", m.Seq, i, a.ProxyURL, want)
			}
		}
	}

	get := func(path, token string) (int, http.Header, string) {
		t.Helper()
		return e.req("GET", path, http.Header{"Authorization": {"Bearer " + token}}, "")
	}
	path := func(seq, n int) string {
		return fmt.Sprintf("/api/v1/contacts/%s/messages/%d/attachments/%d", cid, seq, n)
	}
	for _, c := range []struct {
		label, path, ctype, disp, body string
	}{
		{"an image, inline", path(1, 0), "image/jpeg", "inline; filename=photo.jpg", files["photo"].data},
		{"plain text with its charset; the name as stored", path(1, 1), "text/plain; charset=iso-8859-1", `inline; filename="notes as sent"`, "hello"},
		{"HTML only to download, without its path", path(1, 2), "application/octet-stream", "attachment; filename=page.html", files["page"].data},
		{"SVG only to download", path(1, 3), "application/octet-stream", "attachment; filename=d.svg", files["drawing"].data},
	} {
		status, h, got := get(c.path, e.admin)
		if status != 200 || got != c.body || h.Get("Content-Type") != c.ctype || h.Get("Content-Disposition") != c.disp {
			t.Errorf("%s: %d %q %q %q", c.label, status, h.Get("Content-Type"), h.Get("Content-Disposition"), got)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(h.Get("Content-Security-Policy"), "sandbox; default-src 'none'") ||
			!strings.HasPrefix(h.Get("Cache-Control"), "private") {
			t.Errorf("%s: headers %v", c.label, h)
		}
	}
	if _, h, _ := get(path(1, 0), e.admin); h.Get("Content-Length") != "8" {
		t.Errorf("Content-Length %q, want the size the plugin knows", h.Get("Content-Length"))
	}

	before := fake.calls.Load()
	for _, c := range []struct {
		label, path string
		status      int
		code        string
	}{
		{"no such message", path(9, 0), 404, "unknown_message"},
		{"not a seq", "/api/v1/contacts/" + cid + "/messages/x/attachments/0", 404, "unknown_message"},
		{"no such attachment", path(1, 4), 404, "unknown_attachment"},
		{"not an index", "/api/v1/contacts/" + cid + "/messages/1/attachments/-1", 404, "unknown_attachment"},
		{"the bot's file, not the customer's", path(3, 0), 404, "unknown_attachment"},
		{"no such contact", "/api/v1/contacts/nope/messages/1/attachments/0", 404, "unknown_contact"},
		{"a channel that fetches no media", path(4, 0), 409, "media_unavailable"},
	} {
		status, _, got := get(c.path, e.admin)
		if status != c.status || errCode(t, got) != c.code {
			t.Errorf("%s: %d %s; want %d %s", c.label, status, got, c.status, c.code)
		}
	}
	if n := fake.calls.Load() - before; n != 0 {
		t.Errorf("%d fetches for requests that could fetch nothing", n)
	}
	for _, c := range []struct {
		label   string
		n       int
		status  int
		code    string
		message string
	}{
		{"the provider's 404", 0, 502, "provider_error", "the channel tg could not fetch the attachment: telegram file download: 404 Not Found"},
		{"the provider too slow", 1, 504, "timeout", ""},
		{"too large", 2, 502, "media_too_large", ""},
		{"a URL the plugin does not take", 3, 422, "attachment_not_fetchable", ""},
	} {
		status, _, got := get(path(2, c.n), e.admin)
		if status != c.status || errCode(t, got) != c.code || !strings.Contains(got, c.message) {
			t.Errorf("%s: %d %s; want %d %s", c.label, status, got, c.status, c.code)
		}
	}

	// Only those who see the conversation see its files; to the others it
	// does not exist.
	_, agentBilling := e.agent("", map[string]any{"email": "bea@example.com", "bots": []string{"shop"}, "teams": []string{"billing"}})
	_, agentX := e.agent("", map[string]any{"email": "xav@example.com", "bots": []string{"shop"}, "teams": []string{"x"}})
	_, manager := e.agent("", map[string]any{"email": "max@example.com", "role": "manager", "bots": []string{"shop"}})
	_, other := e.agent("", map[string]any{"email": "oli@example.com", "role": "manager", "bots": []string{"other"}})
	for _, c := range []struct {
		who, token string
		status     int
	}{
		{"an agent of the conversation's team", agentBilling, 200},
		{"a manager of the bot", manager, 200},
		{"a program with the read scope", e.token("read"), 200},
		{"an agent of another team", agentX, 404},
		{"a manager of another bot", other, 404},
	} {
		if status, _, got := get(path(1, 0), c.token); status != c.status {
			t.Errorf("%s: %d %s; want %d", c.who, status, got, c.status)
		}
	}
	if status, _, _ := e.req("GET", path(1, 0), nil, ""); status != 401 {
		t.Errorf("without a token: %d", status)
	}
	// The list an agent of another team reads has no proxy_url to follow.
	if status, got := e.do("GET", "/api/v1/contacts/"+cid+"/messages", agentX, ""); status != 404 || strings.Contains(got, "proxy_url") {
		t.Errorf("messages as an agent of another team: %d %s", status, got)
	}
}

// TestAttachmentsWithoutMedia: a server without plugin channels names no
// proxy_url and answers 409.
func TestAttachmentsWithoutMedia(t *testing.T) {
	e := start(t)
	cid := pipeline.ContactID("shop", "tg", "u9")
	now := time.Now().UTC()
	err := e.st.Commit(context.Background(), &store.Batch{
		Contact:  &flows.Contact{ID: cid, Bot: "shop", Channel: "tg", ExternalID: "u9", CreatedAt: now, UpdatedAt: now},
		Messages: []store.Message{{Time: now, Direction: store.DirectionIn, Author: store.AuthorUser, Channel: "tg", Content: flows.Content{Attachments: []flows.Media{{URL: "f:photo"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if status, body := e.do("GET", "/api/v1/contacts/"+cid+"/messages", e.admin, ""); status != 200 || strings.Contains(body, "proxy_url") {
		t.Errorf("messages: %d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/contacts/"+cid+"/messages/1/attachments/0", e.admin, ""); status != 409 || errCode(t, body) != "media_unavailable" {
		t.Errorf("attachment: %d %s", status, body)
	}
}
