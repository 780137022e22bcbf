package webchat_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestWidgetIsServed(t *testing.T) {
	e := setup(t, nil)
	resp, body := get(t, "http://"+e.addr+"/webchat/widget.js")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatal("no nosniff")
	}
	for _, want := range []string{"data-bot", "/webchat/socket", "localStorage", "textContent", `"hello"`, "page_visit"} {
		if !strings.Contains(body, want) {
			t.Errorf("the widget does not mention %s", want)
		}
	}
	// User and bot text is never parsed as HTML.
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(body, bad) {
			t.Errorf("the widget uses %s", bad)
		}
	}
}

func TestDemoPage(t *testing.T) {
	e := setup(t, nil)
	resp, body := get(t, "http://"+e.addr+"/webchat/demo?bot=support")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(body, `<script src="/webchat/widget.js" data-bot="support"`) {
		t.Fatalf("the demo page does not embed the bot's widget:\n%s", body)
	}
	for _, c := range []struct {
		query, code string
		status      int
	}{
		{"", "missing_bot", 400},
		{"?bot=nope", "unknown_bot", 404},
		{`?bot=%22%3E%3Cscript%3Ealert(1)%3C/script%3E`, "unknown_bot", 404},
	} {
		resp, body := get(t, "http://"+e.addr+"/webchat/demo"+c.query)
		if resp.StatusCode != c.status || !strings.Contains(body, `"code":"`+c.code+`"`) || strings.Contains(body, "<script>") {
			t.Errorf("%s: %d %s", c.query, resp.StatusCode, body)
		}
	}
}
