package main

import (
	"testing"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

// filePath is where the Bot API serves files: /file/bot{token}/{file_path}.
const filePath = "/file/bot" + token + "/"

// getFile mocks getFile as the Bot API answers it: the File, whose
// file_path is given for files a bot may download (up to 20 MB).
func getFile(id, result string) sdktest.Mock {
	return sdktest.Mock{Path: botPath + "getFile", JSON: `{"file_id": "` + id + `"}`, Response: `{"ok": true, "result": ` + result + `}`}
}

func TestFetchMedia(t *testing.T) {
	jpeg := "\xff\xd8\xff\xe0\x00\x10JFIF"
	octets := map[string]string{"Content-Type": "application/octet-stream"}
	sdktest.RunMedia(t, New(), setup, []sdktest.MediaCase{
		{
			Label: "a photo: the type by the path's extension",
			URL:   "telegram-file:AgAD-large",
			Mocks: []sdktest.Mock{
				getFile("AgAD-large", `{"file_id": "AgAD-large", "file_unique_id": "l", "file_size": 10, "file_path": "photos/file_7.jpg"}`),
				{Method: "GET", Path: filePath + "photos/file_7.jpg", Response: jpeg, ResponseHeader: octets},
			},
			WantBody: jpeg, WantInfo: sdk.MediaInfo{ContentType: "image/jpeg", Name: "file_7.jpg", Size: 10},
		},
		{
			Label: "a document whose server says its type",
			URL:   "telegram-file:BQAD-doc",
			Mocks: []sdktest.Mock{
				getFile("BQAD-doc", `{"file_id": "BQAD-doc", "file_unique_id": "d", "file_size": 8, "file_path": "documents/file_3"}`),
				{Method: "GET", Path: filePath + "documents/file_3", Response: "%PDF-1.7", ResponseHeader: map[string]string{"Content-Type": "application/pdf"}},
			},
			WantBody: "%PDF-1.7", WantInfo: sdk.MediaInfo{ContentType: "application/pdf", Name: "file_3", Size: 8},
		},
		{
			Label: "a voice message",
			URL:   "telegram-file:AwAD-voice",
			Mocks: []sdktest.Mock{
				getFile("AwAD-voice", `{"file_id": "AwAD-voice", "file_unique_id": "v", "file_path": "voice/file_9.oga"}`),
				{Method: "GET", Path: filePath + "voice/file_9.oga", Response: "OggS", ResponseHeader: octets},
			},
			WantBody: "OggS", WantInfo: sdk.MediaInfo{ContentType: "audio/ogg", Name: "file_9.oga", Size: 4},
		},
		{
			Label:     "a URL that is not a file reference is refused without a call",
			URL:       "https://api.telegram.org/file/bot" + token + "/photos/file_7.jpg",
			WantError: "not an attachment of this channel", WantUnknown: true,
		},
		{
			Label:     "a reference that is not a file_id",
			URL:       "telegram-file:../../bot1:x/getMe",
			WantError: "not an attachment of this channel", WantUnknown: true,
		},
		{
			Label: "an unknown file_id",
			URL:   "telegram-file:AgAD-gone",
			Mocks: []sdktest.Mock{{
				Path: botPath + "getFile", JSON: `{"file_id": "AgAD-gone"}`, Status: 400,
				Response: `{"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"}`,
			}},
			WantError: "telegram getFile: 400 Bad Request: invalid file_id",
		},
		{
			Label:     "a file too big for bots to download: no file_path",
			URL:       "telegram-file:BAAD-video",
			Mocks:     []sdktest.Mock{getFile("BAAD-video", `{"file_id": "BAAD-video", "file_unique_id": "b", "file_size": 52428800}`)},
			WantError: "has no path to download it by",
		},
		{
			Label:     "a file_path that would leave the file endpoint",
			URL:       "telegram-file:AgAD-odd",
			Mocks:     []sdktest.Mock{getFile("AgAD-odd", `{"file_id": "AgAD-odd", "file_unique_id": "o", "file_path": "../../bot1:x/getMe"}`)},
			WantError: "has no path to download it by",
		},
		{
			Label: "the file endpoint's 404",
			URL:   "telegram-file:AgAD-large",
			Mocks: []sdktest.Mock{
				getFile("AgAD-large", `{"file_id": "AgAD-large", "file_unique_id": "l", "file_path": "photos/file_7.jpg"}`),
				{Method: "GET", Path: filePath + "photos/file_7.jpg", Status: 404, Response: `{"ok": false, "error_code": 404, "description": "Not Found"}`},
			},
			WantError: "telegram file download: 404 Not Found",
		},
		{
			Label: "the file endpoint's 502",
			URL:   "telegram-file:AgAD-large",
			Mocks: []sdktest.Mock{
				getFile("AgAD-large", `{"file_id": "AgAD-large", "file_unique_id": "l", "file_path": "photos/file_7.jpg"}`),
				{Method: "GET", Path: filePath + "photos/file_7.jpg", Status: 502, Response: "Bad Gateway"},
			},
			WantError: "telegram file download: 502", WantRetryable: true,
		},
	})
}

// TestFetchMediaOfAServerDown: the token is in the file endpoint's URL, and
// a network failure must not reveal it.
func TestFetchMediaOfAServerDown(t *testing.T) {
	p := sdktest.Start(t, New())
	if err := p.Configure("down", []byte(`{"token": "`+token+`", "mode": "polling", "api_url": "http://127.0.0.1:1"}`)); err != nil {
		t.Fatal(err)
	}
	_, _, err := p.FetchMedia("down", "telegram-file:AgAD-large")
	if err == nil || !sdk.IsRetryable(err) {
		t.Fatalf("FetchMedia = %v", err)
	}
	p.CheckSecrets(t, []string{token}, err.Error())
}
