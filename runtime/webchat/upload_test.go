package webchat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/webchat"
)

// pngBytes is a 1×1 PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

func (e *env) upload(token, name string, data []byte) (int, map[string]any) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", "http://"+e.addr+"/webchat/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func withUploads(t *testing.T) func(*webchat.Config) {
	dir := t.TempDir()
	return func(c *webchat.Config) { c.UploadDir = dir; c.MaxUpload = 4096 }
}

// TestUploadAndAttach: a visitor uploads an image and sends it; the bot's
// conversation stores the attachment, and the file is served back safely.
func TestUploadAndAttach(t *testing.T) {
	e := setup(t, withUploads(t))
	c := e.connect("", 0)
	status, att := e.upload(c.token, "../../cat photo.png", pngBytes)
	if status != 201 || att["kind"] != "image" || att["mime"] != "image/png" || att["name"] != "cat photo.png" {
		t.Fatalf("upload: %d %v", status, att)
	}
	url, _ := att["url"].(string)
	resp, err := http.Get("http://" + e.addr + url)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("X-Content-Type-Options") != "nosniff" || !bytes.Equal(got, pngBytes) {
		t.Fatalf("file: %d %v", resp.StatusCode, resp.Header)
	}
	c.send(map[string]any{"type": "message", "id": "a1", "attachments": []map[string]any{{"url": url, "name": "cat photo.png"}}})
	c.take("ack")
	id := pipeline.ContactID("support", webchat.Channel, visitor(t, c.token))
	msgs, _, err := e.st.Messages(context.Background(), id, store.MessageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var stored []flows.Media
	for _, m := range msgs {
		if m.Direction == store.DirectionIn {
			stored = append(stored, m.Content.Attachments...)
		}
	}
	if len(stored) != 1 || stored[0].URL != url || stored[0].Kind != "image" || stored[0].Size != int64(len(pngBytes)) {
		t.Fatalf("stored attachments: %+v", stored)
	}
}

func TestUploadLimits(t *testing.T) {
	e := setup(t, withUploads(t))
	c := e.connect("", 0)
	for _, tc := range []struct {
		token, name string
		data        []byte
		status      int
		code        string
	}{
		{"", "a.png", pngBytes, 401, "invalid_token"},
		{c.token + "x", "a.png", pngBytes, 401, "invalid_token"},
		{c.token, "page.png", []byte("<html><script>alert(1)</script></html>"), 415, "file_type_not_allowed"},
		{c.token, "big.png", append(append([]byte{}, pngBytes...), make([]byte, 5000)...), 413, "file_too_large"},
	} {
		status, body := e.upload(tc.token, tc.name, tc.data)
		errObj, _ := body["error"].(map[string]any)
		if status != tc.status || errObj["code"] != tc.code {
			t.Errorf("%s: %d %v; want %d %s", tc.name, status, body, tc.status, tc.code)
		}
	}
	// Only files this server stored may be attached.
	c.send(map[string]any{"type": "message", "id": "x1", "attachments": []map[string]any{{"url": "https://evil.example/x.png"}}})
	if f := c.take("error"); f.Code != "bad_attachment" {
		t.Fatalf("foreign attachment: %+v", f)
	}
	resp, _ := http.Get("http://" + e.addr + "/webchat/files/..%2f..%2fetc%2fpasswd")
	if resp.StatusCode != 404 {
		t.Fatalf("path escape: %d", resp.StatusCode)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		t.Fatalf("error not JSON: %v", resp.Header)
	}
}
