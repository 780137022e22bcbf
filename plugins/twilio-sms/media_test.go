package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

const (
	mmsSID   = "MM800f449d0399ed014aae2bcc0cc2f2ec"
	mediaSID = "ME557ce644e5ab84fa21cc21112e22c485"
	// mediaPath is a MediaUrlN's path, as Twilio sends it in an incoming
	// MMS's webhook.
	mediaPath = "/2010-04-01/Accounts/" + sid + "/Messages/" + mmsSID + "/Media/" + mediaSID
	// storagePath is where Twilio's redirect sends the download: a signed
	// URL of the file's storage.
	storagePath = "/" + sid + "/1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"
	storageSig  = "Expires=1749416383&Signature=tWd8Zx2Q&Key-Pair-Id=APKAJ"
)

var jpeg = "\xff\xd8\xff\xe0\x00\x10JFIF"

func TestFetchMedia(t *testing.T) {
	auth := map[string]string{"Authorization": basic}
	jpegType := map[string]string{"Content-Type": "image/jpeg"}
	refused := func(label, url string) sdktest.MediaCase {
		return sdktest.MediaCase{Label: label, URL: url, WantError: "not an attachment of this channel", WantUnknown: true}
	}
	notFound := `{"code": 20404, "message": "The requested resource ` + mediaPath + ` was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}`
	sdktest.RunMedia(t, New(), setup, []sdktest.MediaCase{
		{
			Label:    "an MMS photo, with the account's basic auth",
			URL:      "{provider}" + mediaPath,
			Mocks:    []sdktest.Mock{{Method: "GET", Path: mediaPath, Header: auth, Response: jpeg, ResponseHeader: jpegType}},
			WantBody: jpeg, WantInfo: sdk.MediaInfo{ContentType: "image/jpeg", Size: 10},
		},
		{
			Label: "a redirect on the same host keeps the credentials",
			URL:   "{provider}" + mediaPath,
			Mocks: []sdktest.Mock{
				{Method: "GET", Path: mediaPath, Header: auth, Status: 302, ResponseHeader: map[string]string{"Location": storagePath + "?" + storageSig}},
				{Method: "GET", Path: storagePath + "?" + storageSig, Header: auth, Response: "%PDF-1.7", ResponseHeader: map[string]string{"Content-Type": "application/pdf"}},
			},
			WantBody: "%PDF-1.7", WantInfo: sdk.MediaInfo{ContentType: "application/pdf", Size: 8},
		},
		refused("the real API when another is configured", "https://api.twilio.com"+mediaPath),
		refused("another account", "{provider}/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/"+mmsSID+"/Media/"+mediaSID),
		refused("the message itself", "{provider}/2010-04-01/Accounts/"+sid+"/Messages/"+mmsSID+".json"),
		refused("the media's metadata", "{provider}"+mediaPath+".json"),
		refused("the media list", "{provider}/2010-04-01/Accounts/"+sid+"/Messages/"+mmsSID+"/Media"),
		refused("a path that climbs", "{provider}/2010-04-01/Accounts/"+sid+"/Messages/../../"+sid+"/Calls/"+mediaSID),
		refused("an escaped slash", "{provider}/2010-04-01/Accounts/"+sid+"/Messages/"+mmsSID+"%2FMedia/"+mediaSID),
		refused("a query", "{provider}"+mediaPath+"?PageSize=1000"),
		refused("another channel's reference", "telegram-file:AgAD-large"),
		{
			Label:     "a deleted media file: Twilio's 404",
			URL:       "{provider}" + mediaPath,
			Mocks:     []sdktest.Mock{{Method: "GET", Path: mediaPath, Header: auth, Status: 404, Response: notFound}},
			WantError: "HTTP 404 (code 20404): The requested resource",
		},
		{
			Label: "credentials Twilio refuses",
			URL:   "{provider}" + mediaPath,
			Mocks: []sdktest.Mock{{Method: "GET", Path: mediaPath, Status: 401,
				Response: `{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`}},
			WantError: "HTTP 401 (code 20003): Authenticate",
		},
		{
			Label:     "Twilio's 503",
			URL:       "{provider}" + mediaPath,
			Mocks:     []sdktest.Mock{{Method: "GET", Path: mediaPath, Status: 503, Response: "Service Unavailable"}},
			WantError: "HTTP 503", WantRetryable: true,
		},
		{
			Label: "rate limited",
			URL:   "{provider}" + mediaPath,
			Mocks: []sdktest.Mock{{Method: "GET", Path: mediaPath, Status: 429, ResponseHeader: map[string]string{"Retry-After": "2"},
				Response: `{"code": 20429, "message": "Too Many Requests", "status": 429}`}},
			WantError: "HTTP 429 (code 20429)", WantRetryable: true,
		},
		{
			Label: "more than 3 redirects",
			URL:   "{provider}" + mediaPath,
			Mocks: []sdktest.Mock{
				{Method: "GET", Path: mediaPath, Status: 302, ResponseHeader: map[string]string{"Location": "/r1"}},
				{Method: "GET", Path: "/r1", Status: 302, ResponseHeader: map[string]string{"Location": "/r2"}},
				{Method: "GET", Path: "/r2", Status: 302, ResponseHeader: map[string]string{"Location": "/r3"}},
				{Method: "GET", Path: "/r3", Status: 302, ResponseHeader: map[string]string{"Location": "/r4"}},
			},
			WantError: "more than 3 redirects",
		},
	})
}

// TestFetchMediaRedirectedToStorage: Twilio answers a media URL with a
// redirect to the file's storage, another host, which must not get the
// account's credentials.
func TestFetchMediaRedirectedToStorage(t *testing.T) {
	api, storage := sdktest.NewProvider(t), sdktest.NewProvider(t)
	s := New()
	// storageHost is the storage's name (on loopback): another host name
	// than the API's, as Twilio's storage has.
	const storageHost = "mms.twiliocdn.test"
	tr := s.files.Transport.(*http.Transport)
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if h, _, _ := net.SplitHostPort(addr); h == storageHost {
			addr = strings.TrimPrefix(storage.URL, "http://")
		}
		return dial(ctx, network, addr)
	}
	p := sdktest.Start(t, s)
	if err := p.Configure("test", []byte(setup.Config(api.URL))); err != nil {
		t.Fatal(err)
	}
	auth := map[string]string{"Authorization": basic}
	noAuth := map[string]string{"Authorization": ""}
	var texts []string
	for _, c := range []struct {
		label, location string
		status          int
		wantError       string
		wantRetryable   bool
	}{
		{label: "another host name", location: "http://" + storageHost + storagePath + "?" + storageSig},
		// Go's client would keep the credentials here (the same host
		// name); the plugin's does not.
		{label: "the same host name on another port", location: storage.URL + storagePath + "?" + storageSig},
		{label: "the storage's 404", location: "http://" + storageHost + storagePath + "?" + storageSig, status: 404, wantError: "twilio media download from " + storageHost + ": HTTP 404"},
		{label: "the storage's 500", location: "http://" + storageHost + storagePath + "?" + storageSig, status: 500, wantError: "HTTP 500", wantRetryable: true},
	} {
		t.Run(c.label, func(t *testing.T) {
			api.Expect(sdktest.Mock{Method: "GET", Path: mediaPath, Header: auth, Status: 307, ResponseHeader: map[string]string{"Location": c.location}})
			answer := sdktest.Mock{Method: "GET", Path: storagePath + "?" + storageSig, Header: noAuth, Status: c.status,
				Response: jpeg, ResponseHeader: map[string]string{"Content-Type": "image/jpeg"}}
			if c.status != 0 {
				answer.Response, answer.ResponseHeader = "<Error><Code>AccessDenied</Code></Error>", map[string]string{"Content-Type": "application/xml"}
			}
			storage.Expect(answer)
			defer api.Verify(t)
			defer storage.Verify(t)
			body, info, err := p.FetchMedia("test", api.URL+mediaPath)
			if c.wantError == "" {
				if err != nil {
					t.Fatalf("FetchMedia: %v", err)
				}
				if string(body) != jpeg || info != (sdk.MediaInfo{ContentType: "image/jpeg", Size: 10}) {
					t.Errorf("FetchMedia = %q, %+v", body, info)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantError) || sdk.IsRetryable(err) != c.wantRetryable {
				t.Fatalf("FetchMedia = %v, want an error containing %q, retryable %v", err, c.wantError, c.wantRetryable)
			}
			if strings.Contains(err.Error(), "Signature") {
				t.Errorf("the error names the signed storage URL: %v", err)
			}
			texts = append(texts, err.Error())
		})
	}
	p.CheckSecrets(t, setup.Secrets, texts...)
}

// TestFetchMediaOfAServerDown: a network failure is retried, and its
// error carries no credential.
func TestFetchMediaOfAServerDown(t *testing.T) {
	p := sdktest.Start(t, New())
	if err := p.Configure("down", []byte(setup.Config("http://127.0.0.1:1"))); err != nil {
		t.Fatal(err)
	}
	_, _, err := p.FetchMedia("down", "http://127.0.0.1:1"+mediaPath)
	if err == nil || !sdk.IsRetryable(err) {
		t.Fatalf("FetchMedia = %v", err)
	}
	p.CheckSecrets(t, setup.Secrets, err.Error())
}

// TestMediaURL: what the default configuration (Twilio's API) accepts.
func TestMediaURL(t *testing.T) {
	c := config{AccountSID: sid, AuthToken: authToken, APIURL: "https://api.twilio.com"}
	real := "https://api.twilio.com" + mediaPath
	for _, tc := range []struct {
		raw string
		ok  bool
	}{
		{real, true},
		{"https://API.twilio.com" + mediaPath, true},
		{"http://api.twilio.com" + mediaPath, false},
		{"https://api.twilio.com:8443" + mediaPath, false},
		{"https://api.twilio.com.example.com" + mediaPath, false},
		{"https://" + sid + ":x@api.twilio.com" + mediaPath, false},
		{"https://api.twilio.com" + mediaPath + "#x", false},
		{"https://api.twilio.com" + mediaPath + "?", false},
		{"//api.twilio.com" + mediaPath, false},
		{mediaPath, false},
	} {
		u, ok := mediaURL(c, tc.raw)
		if ok != tc.ok || (ok && u != real) {
			t.Errorf("mediaURL(%q) = %q, %v; want ok %v", tc.raw, u, ok, tc.ok)
		}
	}
}
