package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/router"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/api"
	"github.com/switchboard-bots/switchboard/runtime/engine"
	"github.com/switchboard-bots/switchboard/runtime/livechat"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/server"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/webchat"
)

const deskSrc = `
id: desk
skills:
  /start:
    - text: Hello!
    - listen: topic
    - live_chat: billing
      message: Finding someone from billing.
    - text: Bot again.
    - listen: more
    - text: "Bot heard {{ more }}."
  hours:
    - text: We are open 9 to 5.
`

// startDesk serves the API with live chat over the desk bot.
func startDesk(t *testing.T) *env {
	t.Helper()
	st, err := store.OpenInMemory()
	if err != nil {
		t.Fatal(err)
	}
	bot, ds := flows.Load("desk.yaml", []byte(deskSrc))
	if bot == nil || ds.HasErrors() {
		t.Fatal(ds)
	}
	lc := livechat.New(livechat.Config{Store: st})
	p := pipeline.New(pipeline.Config{Store: st, Engine: engine.New(nil), Shards: 4, Hook: lc, OnCommit: lc.Committed})
	lc.SetPipeline(p)
	p.SetBots(map[string]*flows.Bot{"desk": bot})
	p.Start()
	lc.Start()
	clk := &clock{t: time.Now()}
	bots := func() []string { return []string{"desk"} }
	wc, err := webchat.New(webchat.Config{Pipeline: p, Store: st, Secret: bytes.Repeat([]byte("s"), 32), UploadDir: t.TempDir(), MaxUpload: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	a := api.New(api.Config{Store: st, Pipeline: p, BotIDs: bots, LiveChat: lc, Now: clk.now, Upload: wc.SaveUpload, UploadError: webchat.UploadError})
	srv := server.New(server.Config{Pipeline: p, Log: slog.New(slog.DiscardHandler), Mount: []func(r *router.Router){a.Mount}}, bots)
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
		lc.Stop()
		st.Close()
	})
	e := &env{t: t, base: "http://" + l.Addr().String(), st: st, p: p, clk: clk}
	if _, _, err := api.EnsureAdmin(context.Background(), st, adminPassword); err != nil {
		t.Fatal(err)
	}
	e.admin = e.login("admin@localhost", adminPassword)
	return e
}

type handoverJSON struct {
	ID       string
	Status   string
	Queue    string
	Assignee string
	Name     string `json:"assignee_name"`
	Contact  struct{ ID, Channel string }
	Tags     []string
	Notes    []struct{ Text, Color, AuthorName string }
	History  []struct{ From, To, ByName string }
}

func TestHandoverAPI(t *testing.T) {
	e := startDesk(t)
	for _, team := range []string{"billing", "sales"} {
		if status, body := e.do("POST", "/api/v1/teams", e.admin, `{"id": "`+team+`", "name": "`+team+`"}`); status != 201 {
			t.Fatalf("team: %d %s", status, body)
		}
	}
	annID, ann := e.agent("", map[string]any{"email": "ann@example.com", "name": "Ann", "role": "agent", "bots": []string{"desk"}, "teams": []string{"billing"}})
	_, sam := e.agent("", map[string]any{"email": "sam@example.com", "name": "Sam", "role": "agent", "bots": []string{"desk"}, "teams": []string{"sales"}})

	e.chatTo("desk", "u1", "hi")
	if got := e.chatTo("desk", "u1", "my invoice is wrong"); strings.Join(got, "|") != "Finding someone from billing.|"+livechat.DefaultOfflineMessage {
		t.Fatalf("asking for a person with nobody online: %q", got)
	}
	var page struct {
		Handovers []handoverJSON
	}
	status, body := e.do("GET", "/api/v1/handovers", ann, "")
	mustJSON(t, body, &page)
	if status != 200 || len(page.Handovers) != 1 || page.Handovers[0].Status != "new" || page.Handovers[0].Contact.Channel != "rest" {
		t.Fatalf("ann's queue: %d %s", status, body)
	}
	id := page.Handovers[0].ID
	if status, body := e.do("GET", "/api/v1/handovers", sam, ""); status != 200 || strings.Contains(body, id) {
		t.Fatalf("sam (sales) sees the billing handover: %d %s", status, body)
	}
	if status, _ := e.do("GET", "/api/v1/handovers/"+id, sam, ""); status != 404 {
		t.Fatalf("sam reads it: %d", status)
	}
	// The conversation went to billing: sales agents do not see it at all.
	cid := page.Handovers[0].Contact.ID
	for _, path := range []string{"/api/v1/contacts/" + cid, "/api/v1/contacts/" + cid + "/messages", "/api/v1/messages/search?q=invoice&contact=" + cid} {
		if status, body := e.do("GET", path, sam, ""); status != 404 {
			t.Fatalf("sam: GET %s: %d %s", path, status, body)
		}
		if status, body := e.do("GET", path, ann, ""); status != 200 {
			t.Fatalf("ann: GET %s: %d %s", path, status, body)
		}
	}
	for _, path := range []string{"/api/v1/conversations", "/api/v1/contacts", "/api/v1/messages/search?q=invoice"} {
		if status, body := e.do("GET", path, sam, ""); status != 200 || strings.Contains(body, cid) {
			t.Fatalf("sam: GET %s lists the billing conversation: %d %s", path, status, body)
		}
		if status, body := e.do("GET", path, ann, ""); status != 200 || !strings.Contains(body, cid) {
			t.Fatalf("ann: GET %s: %d %s", path, status, body)
		}
	}
	if status, body := e.do("GET", "/api/v1/handovers?status=waiting", ann, ""); status != 400 || !strings.Contains(body, "invalid_status") {
		t.Fatalf("unknown status: %d %s", status, body)
	}

	var h handoverJSON
	status, body = e.do("POST", "/api/v1/handovers/"+id+"/assign", ann, "")
	mustJSON(t, body, &h)
	if status != 200 || h.Status != "assigned" || h.Assignee != annID || h.Name != "Ann" {
		t.Fatalf("assign to me: %d %s", status, body)
	}
	if status, body := e.do("POST", "/api/v1/handovers/"+id+"/assign", ann, `{"agent": "nobody"}`); status != 403 {
		t.Fatalf("an agent assigning to another: %d %s", status, body)
	}
	status, body = e.do("POST", "/api/v1/handovers/"+id+"/messages", ann, `{"text": "Hi, Ann here. <script>alert(1)</script>"}`)
	if status != 201 || !strings.Contains(body, `"author":"agent"`) || !strings.Contains(body, `"agent":"`+annID+`"`) || !strings.Contains(body, `"status":"chatting"`) {
		t.Fatalf("reply: %d %s", status, body)
	}
	// An agent uploads an image and sends it.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "photo.png")
	fw.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"))
	mw.Close()
	status, hdr, body := e.req("POST", "/api/v1/uploads", http.Header{"Authorization": {"Bearer " + ann}, "Content-Type": {mw.FormDataContentType()}}, form.String())
	var up struct{ URL, Kind string }
	mustJSON(t, body, &up)
	if status != 201 || up.Kind != "image" || !strings.HasPrefix(up.URL, "/webchat/files/") {
		t.Fatalf("upload: %d %v %s", status, hdr, body)
	}
	if status, body := e.do("POST", "/api/v1/handovers/"+id+"/messages", ann, `{"image_url": "`+up.URL+`"}`); status != 201 || !strings.Contains(body, up.URL) {
		t.Fatalf("a reply with the uploaded image: %d %s", status, body)
	}
	form.Reset()
	mw = multipart.NewWriter(&form)
	fw, _ = mw.CreateFormFile("file", "x.exe")
	fw.Write([]byte("MZ\x90\x00 not a picture"))
	mw.Close()
	if status, _, body := e.req("POST", "/api/v1/uploads", http.Header{"Authorization": {"Bearer " + ann}, "Content-Type": {mw.FormDataContentType()}}, form.String()); status != 415 {
		t.Fatalf("an executable: %d %s", status, body)
	}
	// Canned replies: an admin writes one, the agent sends it, it counts.
	status, body = e.do("POST", "/api/v1/canned-replies", e.admin, `{"bot": "desk", "title": "Refunds", "shortcut": "refund", "text": "Refunds take 5 days.", "button_title": "Policy", "button_url": "https://example.com/refunds"}`)
	var cr struct {
		ID   string
		Sent int
	}
	mustJSON(t, body, &cr)
	if status != 201 || cr.ID == "" {
		t.Fatalf("canned reply: %d %s", status, body)
	}
	if status, body := e.do("POST", "/api/v1/canned-replies", ann, `{"bot": "desk", "title": "Mine", "text": "x"}`); status != 403 {
		t.Fatalf("an agent writing the library: %d %s", status, body)
	}
	if status, body := e.do("POST", "/api/v1/handovers/"+id+"/messages", ann, `{"canned": "`+cr.ID+`"}`); status != 201 || !strings.Contains(body, "https://example.com/refunds") {
		t.Fatalf("canned reply sent: %d %s", status, body)
	}
	status, body = e.do("GET", "/api/v1/canned-replies?bot=desk&q=/ref", ann, "")
	if status != 200 || !strings.Contains(body, `"sent":1`) {
		t.Fatalf("canned reply counter: %d %s", status, body)
	}
	// Notes, tags, pending.
	if status, body := e.do("POST", "/api/v1/handovers/"+id+"/notes", ann, `{"text": "refund owed", "color": "pink"}`); status != 200 || !strings.Contains(body, `"author_name":"Ann"`) {
		t.Fatalf("note: %d %s", status, body)
	}
	status, body = e.do("PATCH", "/api/v1/handovers/"+id, ann, `{"add_tags": ["refund"], "status": "pending"}`)
	mustJSON(t, body, &h)
	if status != 200 || h.Status != "pending" || len(h.Tags) != 1 {
		t.Fatalf("patch: %d %s", status, body)
	}
	// The customer answers: back to chatting, and the bot stays silent.
	if got := e.chatTo("desk", "u1", "ok thanks"); len(got) != 0 {
		t.Fatalf("the bot answered during the handover: %q", got)
	}
	e.do("GET", "/api/v1/handovers/"+id, ann, "")
	status, body = e.do("GET", "/api/v1/handovers?tag=refund&q=refund+owed", ann, "")
	mustJSON(t, body, &page)
	if status != 200 || len(page.Handovers) != 1 || page.Handovers[0].Status != "chatting" {
		t.Fatalf("filtered by tag and words: %d %s", status, body)
	}
	if status, body := e.do("POST", "/api/v1/handovers/"+id+"/skill", ann, `{"skill": "hours"}`); status != 200 || !strings.Contains(body, "We are open 9 to 5.") || !strings.Contains(body, `"status":"chatting"`) {
		t.Fatalf("skill as the answer: %d %s", status, body)
	}
	if status, body := e.do("POST", "/api/v1/handovers/"+id+"/skill", ann, `{"skill": "nope"}`); status != 422 {
		t.Fatalf("an unknown skill: %d %s", status, body)
	}
	status, body = e.do("GET", "/api/v1/handovers/"+id+"/export?format=csv", ann, "")
	if status != 200 || !strings.HasPrefix(body, "seq,time,direction,author") || !strings.Contains(body, "Hi, Ann here.") {
		t.Fatalf("export: %d %s", status, body)
	}
	status, body = e.do("POST", "/api/v1/handovers/"+id+"/resolve", ann, `{"note": "refund started"}`)
	mustJSON(t, body, &h)
	if status != 200 || h.Status != "resolved" {
		t.Fatalf("resolve: %d %s", status, body)
	}
	if got := e.chatTo("desk", "u1", "one more thing"); strings.Join(got, "|") != "Bot heard one more thing." {
		t.Fatalf("the bot after the resolve: %q", got)
	}
	if status, body := e.do("POST", "/api/v1/handovers/"+id+"/messages", ann, `{"text": "late"}`); status != 409 {
		t.Fatalf("a reply after the resolve: %d %s", status, body)
	}
	status, body = e.do("GET", "/api/v1/handovers/analytics", ann, "")
	if status != 200 || !strings.Contains(body, `"handovers":1`) {
		t.Fatalf("analytics: %d %s", status, body)
	}
	// Settings: the admin changes them; the agent may read, not write.
	if status, body := e.do("PUT", "/api/v1/bots/desk/live-chat", e.admin, `{"idle_off": "30m", "rating": true}`); status != 200 || !strings.Contains(body, `"idle_off":"30m0s"`) {
		t.Fatalf("settings: %d %s", status, body)
	}
	if status, body := e.do("PUT", "/api/v1/bots/desk/live-chat", ann, `{"idle_off": "1m"}`); status != 403 {
		t.Fatalf("an agent changing the settings: %d %s", status, body)
	}
	if status, body := e.do("PUT", "/api/v1/bots/desk/live-chat", e.admin, `{"idle_off": "soon"}`); status != 422 {
		t.Fatalf("a bad duration: %d %s", status, body)
	}
	if status, body := e.do("POST", "/api/v1/me/presence", ann, `{"presence": "away"}`); status != 200 || !strings.Contains(body, `"presence":"away"`) {
		t.Fatalf("presence: %d %s", status, body)
	}
	if status, body := e.do("GET", "/api/v1/presence", e.admin, ""); status != 200 || !strings.Contains(body, `"name":"Ann","presence":"away"`) {
		t.Fatalf("presence list: %d %s", status, body)
	}
	// Deleting the contact (admins only) takes its handovers along.
	if status, _ := e.do("DELETE", "/api/v1/contacts/"+h.Contact.ID, ann, ""); status != 403 {
		t.Fatalf("an agent deleting a contact: %d", status)
	}
	if status, body := e.do("DELETE", "/api/v1/contacts/"+h.Contact.ID, e.admin, ""); status != 204 {
		t.Fatalf("delete: %d %s", status, body)
	}
	if status, _ := e.do("GET", "/api/v1/handovers/"+id, e.admin, ""); status != 404 {
		t.Fatalf("the handover after the contact's deletion: %d", status)
	}
	if got := e.chatTo("desk", "u1", "hi again"); strings.Join(got, "|") != "Hello!" {
		t.Fatalf("the same person after the deletion starts afresh: %q", got)
	}
}
