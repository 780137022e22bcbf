package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/api"
	"github.com/switchboard-bots/switchboard/runtime/botdir"
)

// startDir starts the API over a real bots folder holding shop.yaml.
func startDir(t *testing.T) (*env, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "shop.yaml"), []byte(botSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	e := start(t, func(c *api.Config) {
		p := c.Pipeline
		d := botdir.New(dir, p.SetBots, func(file string, ds flows.Diagnostics) {
			if ds.HasErrors() {
				t.Logf("bots folder: %s: %v", file, ds)
			}
		})
		if _, err := d.Scan(); err != nil {
			t.Fatal(err)
		}
		c.BotsDir, c.BotIDs, c.MaxBotSize = dir, p.BotIDs, 4096
		c.Rescan = func() error { _, err := d.Scan(); return err }
	})
	return e, dir
}

// send sends a request with a content type of its own.
func (e *env) send(method, path, token, ctype, body string) (int, http.Header, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func withStart(src, text string) string {
	return strings.Replace(src, "Hi! What can I do?", text, 1)
}

func TestBotVersionsPublish(t *testing.T) {
	e, dir := startDir(t)
	read, write := e.token("read"), e.token("write")
	users := 0
	first := func() string { // the first reply of a new user
		users++
		r := e.chat(fmt.Sprintf("user%d", users), "hi")
		if len(r) == 0 {
			t.Fatalf("no reply")
		}
		return r[0]
	}
	if r := first(); r != "Hi! What can I do?" {
		t.Fatalf("before: %q", r)
	}

	// An invalid file: 422 with positions.
	bad := withStart(botSrc, "Hello") + "  broken:\n    - nosuchblock: 1\n"
	status, _, body := e.send("PUT", "/api/v1/bots/shop", write, "application/yaml", bad)
	if status != 422 || errCode(t, body) != "invalid_bot" {
		t.Fatalf("invalid: %d %s", status, body)
	}
	var ib struct {
		Error struct {
			Details struct {
				Diagnostics []struct {
					Line, Col         int
					Severity, Message string
				}
			}
		}
	}
	mustJSON(t, body, &ib)
	ds := ib.Error.Details.Diagnostics
	if len(ds) != 2 || ds[1].Line != 17 || ds[1].Col != 7 || ds[1].Severity != "error" || !strings.Contains(ds[1].Message, "nosuchblock") || ds[0].Severity != "warning" {
		t.Fatalf("diagnostics: %s", body)
	}
	// A YAML syntax error has a position too.
	status, _, body = e.send("PUT", "/api/v1/bots/shop", write, "application/yaml", "id: shop\nskills: [\n")
	mustJSON(t, body, &ib)
	if status != 422 || len(ib.Error.Details.Diagnostics) == 0 || ib.Error.Details.Diagnostics[0].Line == 0 {
		t.Fatalf("syntax: %d %s", status, body)
	}

	// Scopes, id mismatch, size, media type.
	v2 := withStart(botSrc, "Hello from v1")
	for _, c := range []struct {
		token, path, ctype, body string
		status                   int
		code                     string
	}{
		{read, "/api/v1/bots/shop", "application/yaml", v2, 403, "forbidden"},
		{write, "/api/v1/bots/other", "application/yaml", v2, 422, "id_mismatch"},
		{write, "/api/v1/bots/shop", "application/yaml", v2 + strings.Repeat("#", 5000), 413, "body_too_large"},
		{write, "/api/v1/bots/shop", "text/html", v2, 415, "unsupported_media_type"},
		{write, "/api/v1/bots/Bad..id", "application/yaml", v2, 404, "unknown_bot"},
		{write, "/api/v1/bots/shop", "application/json", `{"source": "id: shop", "nope": 1}`, 400, "unknown_field"},
	} {
		status, _, body := e.send("PUT", c.path, c.token, c.ctype, c.body)
		if status != c.status || errCode(t, body) != c.code {
			t.Errorf("PUT %s: %d %s; want %d %s", c.path, status, body, c.status, c.code)
		}
	}
	for _, path := range []string{"/api/v1/bots/shop/publish", "/api/v1/bots/shop/rollback"} {
		if status, body := e.do("POST", path, read, `{"version": 1}`); status != 403 {
			t.Errorf("%s with read: %d %s", path, status, body)
		}
	}

	// A valid draft does not run until published.
	status, _, body = e.send("PUT", "/api/v1/bots/shop?note=greeting", write, "application/yaml", v2)
	var pr struct {
		Bot      string
		Version  int
		Warnings []any
	}
	mustJSON(t, body, &pr)
	if status != 201 || pr.Version != 1 || pr.Bot != "shop" || pr.Warnings == nil {
		t.Fatalf("put: %d %s", status, body)
	}
	if r := first(); r != "Hi! What can I do?" {
		t.Fatalf("draft runs: %q", r)
	}
	if status, body := e.do("POST", "/api/v1/bots/shop/publish", write, `{"version": 7}`); status != 404 || errCode(t, body) != "unknown_version" {
		t.Fatalf("publish unknown: %d %s", status, body)
	}
	status, body = e.do("POST", "/api/v1/bots/shop/publish", write, `{"version": 1}`)
	if status != 200 || !strings.Contains(body, `"version":1`) || !strings.Contains(body, `"running":true`) {
		t.Fatalf("publish: %d %s", status, body)
	}
	if r := first(); r != "Hello from v1" {
		t.Fatalf("after publish: %q", r)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "shop.yaml")); string(b) != v2 {
		t.Fatalf("file: %s", b)
	}
	if status, src := e.do("GET", "/api/v1/bots/shop/source", read, ""); status != 200 || src != v2 {
		t.Fatalf("source: %d %s", status, src)
	}

	// A JSON envelope holding a JSON bot file: published into shop.yaml
	// (JSON is YAML).
	jsonBot := `{"id": "shop", "skills": {"/start": [{"text": "Hello from v2"}], "/default": [{"text": "ok"}]}}`
	b, _ := json.Marshal(map[string]string{"source": jsonBot, "note": "as json"})
	status, _, body = e.send("PUT", "/api/v1/bots/shop", write, "application/json", string(b))
	mustJSON(t, body, &pr)
	if status != 201 || pr.Version != 2 {
		t.Fatalf("put json: %d %s", status, body)
	}
	if status, body := e.do("POST", "/api/v1/bots/shop/publish", write, `{"version": 2}`); status != 200 || !strings.Contains(body, `"file":"shop.yaml"`) {
		t.Fatalf("publish json: %d %s", status, body)
	}
	if r := first(); r != "Hello from v2" {
		t.Fatalf("after json: %q", r)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "shop.yaml")); string(b) != jsonBot {
		t.Fatalf("file: %s", b)
	}
	// A raw JSON bot file is a body too.
	status, _, body = e.send("PUT", "/api/v1/bots/shop", write, "application/json", strings.Replace(jsonBot, "v2", "v3", 1))
	if status != 201 || !strings.Contains(body, `"version":3`) {
		t.Fatalf("put raw json: %d %s", status, body)
	}

	// History, newest first, paginated.
	var page struct {
		Versions []struct {
			Version            int
			Format, Note       string
			Author             string
			Published, Running bool
		}
		NextCursor string `json:"next_cursor"`
	}
	status, body = e.do("GET", "/api/v1/bots/shop/versions?limit=2", read, "")
	mustJSON(t, body, &page)
	if status != 200 || len(page.Versions) != 2 || page.Versions[0].Version != 3 || page.Versions[0].Published ||
		page.Versions[1].Version != 2 || !page.Versions[1].Running || !page.Versions[1].Published || page.Versions[1].Format != "json" ||
		page.Versions[1].Note != "as json" || page.Versions[1].Author == "" || page.NextCursor != "2" {
		t.Fatalf("history: %d %s", status, body)
	}
	status, body = e.do("GET", "/api/v1/bots/shop/versions?limit=2&cursor="+page.NextCursor, read, "")
	mustJSON(t, body, &page)
	if status != 200 || len(page.Versions) != 1 || page.Versions[0].Version != 1 || page.Versions[0].Running || page.Versions[0].Note != "greeting" || page.NextCursor != "" {
		t.Fatalf("history 2: %d %s", status, body)
	}
	status, hdr, src := e.doH("GET", "/api/v1/bots/shop/versions/1", read, "")
	if status != 200 || src != v2 || hdr.Get("X-Bot-Version") != "1" || !strings.HasPrefix(hdr.Get("Content-Type"), "application/yaml") {
		t.Fatalf("version 1: %d %v %s", status, hdr, src)
	}
	if status, body := e.do("GET", "/api/v1/bots/shop/versions/9", read, ""); status != 404 || errCode(t, body) != "unknown_version" {
		t.Fatalf("version 9: %d %s", status, body)
	}

	// Rollback to 1: a new version 4, the old behaviour back.
	status, body = e.do("POST", "/api/v1/bots/shop/rollback", write, `{"version": 1}`)
	if status != 200 || !strings.Contains(body, `"version":4`) || !strings.Contains(body, `"rolled_back_to":1`) {
		t.Fatalf("rollback: %d %s", status, body)
	}
	if r := first(); r != "Hello from v1" {
		t.Fatalf("after rollback: %q", r)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "shop.yaml")); string(b) != v2 {
		t.Fatalf("file after rollback: %s", b)
	}
	status, body = e.do("GET", "/api/v1/bots/shop/versions?limit=1", read, "")
	mustJSON(t, body, &page)
	if len(page.Versions) != 1 || page.Versions[0].Version != 4 || page.Versions[0].Note != "rollback to 1" || !page.Versions[0].Running {
		t.Fatalf("history after rollback: %s", body)
	}
	// Rolling back to the same source twice still runs it (the file's
	// time moves even when its size does not).
	for i := 0; i < 3; i++ {
		if status, body := e.do("POST", "/api/v1/bots/shop/publish", write, fmt.Sprintf(`{"version": %d}`, 1+i%2)); status != 200 {
			t.Fatalf("republish %d: %d %s", i, status, body)
		}
	}
	if r := first(); r != "Hello from v1" {
		t.Fatalf("after republish: %q", r)
	}

	// A new bot: PUT then publish writes faq.yaml, and it runs.
	faq := "id: faq\nskills:\n  /start:\n    - text: \"Ask away.\"\n"
	if status, _, body := e.send("PUT", "/api/v1/bots/faq", write, "application/yaml", faq); status != 201 {
		t.Fatalf("put faq: %d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/bots/faq", read, ""); status != 404 {
		t.Fatalf("faq runs before publish: %d %s", status, body)
	}
	if status, body := e.do("POST", "/api/v1/bots/faq/publish", write, `{"version": 1}`); status != 200 {
		t.Fatalf("publish faq: %d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/bots/faq", read, ""); status != 200 || !strings.Contains(body, `"file":"faq.yaml"`) {
		t.Fatalf("faq: %d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/bots/nobot/versions", read, ""); status != 404 {
		t.Fatalf("versions of nobot: %d %s", status, body)
	}
}

// A file of the folder that holds another bot under the target name is not
// overwritten.
func TestBotPublishFileTaken(t *testing.T) {
	e, dir := startDir(t)
	write := e.token("write")
	// other.yaml holds bot "shop2"... named as bot "other" would be.
	if err := os.WriteFile(filepath.Join(dir, "other.yaml"), bytes.ReplaceAll([]byte(botSrc), []byte("id: shop"), []byte("id: shop2")), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "id: other\nskills:\n  /start:\n    - text: \"x\"\n"
	if status, _, body := e.send("PUT", "/api/v1/bots/other", write, "application/yaml", src); status != 201 {
		t.Fatalf("put: %d %s", status, body)
	}
	if status, body := e.do("POST", "/api/v1/bots/other/publish", write, `{"version": 1}`); status != 409 || errCode(t, body) != "file_taken" {
		t.Fatalf("publish: %d %s", status, body)
	}
}

// Without a bots folder, drafts are stored but publishing is off.
func TestBotPublishOff(t *testing.T) {
	e := start(t)
	write := e.token("write")
	if status, _, body := e.send("PUT", "/api/v1/bots/shop", write, "application/yaml", botSrc); status != 201 {
		t.Fatalf("put: %d %s", status, body)
	}
	if status, body := e.do("POST", "/api/v1/bots/shop/publish", write, `{"version": 1}`); status != 501 || errCode(t, body) != "publishing_off" {
		t.Fatalf("publish: %d %s", status, body)
	}
}
