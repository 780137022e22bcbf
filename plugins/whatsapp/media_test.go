package main

import (
	"testing"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

const photoID = "1003383421387256"

var bearer = map[string]string{"Authorization": "Bearer " + accessToken}

// retrieve mocks the Graph API's answer to GET /{media-id} (Retrieve
// media URL): the download URL, on the fake provider.
func retrieve(response string) sdktest.Mock {
	return sdktest.Mock{Method: "GET", Path: "/v21.0/" + photoID + "?phone_number_id=" + phoneID, Header: bearer, Response: response}
}

const (
	downloadPath = "/whatsapp_business/attachments/?mid=" + photoID + "&ext=1749416383&hash=ATtOrK"
	mediaAnswer  = `{"messaging_product": "whatsapp", "url": "{provider}` + downloadPath + `",
	  "mime_type": "image/jpeg", "sha256": "81d3bd8a8db4868c9520ed47186e8b7c5789e61ff79f7f834be6950b808a90d3", "file_size": "10", "id": "` + photoID + `"}`
)

func TestFetchMedia(t *testing.T) {
	jpeg := "\xff\xd8\xff\xe0\x00\x10JFIF"
	photo := []sdktest.Mock{
		retrieve(mediaAnswer),
		{Method: "GET", Path: downloadPath, Header: bearer, Response: jpeg, ResponseHeader: map[string]string{"Content-Type": "image/jpeg"}},
	}
	refused := func(label, url string) sdktest.MediaCase {
		return sdktest.MediaCase{Label: label, URL: url, WantError: "not an attachment of this channel", WantUnknown: true}
	}
	sdktest.RunMedia(t, New(), setup, []sdktest.MediaCase{
		{
			Label: "a photo: its download URL, then the file, both with the token",
			URL:   "{provider}/v21.0/" + photoID, Mocks: photo,
			WantBody: jpeg, WantInfo: sdk.MediaInfo{ContentType: "image/jpeg", Size: 10},
		},
		{
			Label: "stored under another Graph API version: asked of the configured one",
			URL:   "{provider}/v19.0/" + photoID, Mocks: photo,
			WantBody: jpeg, WantInfo: sdk.MediaInfo{ContentType: "image/jpeg", Size: 10},
		},
		refused("another host is refused without a call", "https://files.example.com/v21.0/"+photoID),
		refused("the real Graph API when another is configured", graph+"/"+photoID),
		refused("not a media id", "{provider}/v21.0/me"),
		refused("a query", "{provider}/v21.0/"+photoID+"?fields=url"),
		refused("another path", "{provider}/v21.0/"+phoneID+"/"+photoID),
		refused("another channel's reference", "telegram-file:AgAD-large"),
		{
			Label: "an unknown media id",
			URL:   "{provider}/v21.0/" + photoID,
			Mocks: []sdktest.Mock{{
				Method: "GET", Path: "/v21.0/" + photoID + "?phone_number_id=" + phoneID, Status: 400,
				Response: `{"error": {"message": "Unsupported get request. Object with ID '` + photoID + `' does not exist", "type": "GraphMethodException", "code": 100, "error_subcode": 33, "fbtrace_id": "A1"}}`,
			}},
			WantError: "graph API error: HTTP 400, code 100: Unsupported get request",
		},
		{
			Label: "rate limited",
			URL:   "{provider}/v21.0/" + photoID,
			Mocks: []sdktest.Mock{{
				Method: "GET", Path: "/v21.0/" + photoID + "?phone_number_id=" + phoneID, Status: 429,
				Response: `{"error": {"message": "(#80007) Rate limit hit", "type": "OAuthException", "code": 80007}}`,
			}},
			WantError: "code 80007", WantRetryable: true,
		},
		{
			Label:     "an answer whose download URL is not http",
			URL:       "{provider}/v21.0/" + photoID,
			Mocks:     []sdktest.Mock{retrieve(`{"messaging_product": "whatsapp", "url": "file:///etc/passwd", "mime_type": "image/jpeg", "id": "` + photoID + `"}`)},
			WantError: "the answer has no download URL",
		},
		{
			Label: "the download's 404: the link or the media expired",
			URL:   "{provider}/v21.0/" + photoID,
			Mocks: []sdktest.Mock{
				retrieve(mediaAnswer),
				{Method: "GET", Path: downloadPath, Status: 404, Response: "Not Found"},
			},
			WantError: "media download from 127.0.0.1",
		},
		{
			Label: "the download's 500",
			URL:   "{provider}/v21.0/" + photoID,
			Mocks: []sdktest.Mock{
				retrieve(mediaAnswer),
				{Method: "GET", Path: downloadPath, Status: 500, Response: "oops"},
			},
			WantError: "HTTP 500", WantRetryable: true,
		},
	})
}
