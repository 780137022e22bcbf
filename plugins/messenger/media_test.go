package main

import (
	"net/url"
	"testing"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

const (
	// cdnSig is the signature of an attachment's CDN URL: it must not
	// appear in errors either.
	cdnSig = "03_Q7cD1QEaVdWxz"
	// photoPath and filePath are attachment payload URLs' paths and
	// queries as Facebook's CDN gives them (scontent.xx.fbcdn.net,
	// cdn.fbsbx.com), under the fake CDN's /cdn.
	photoPath = "/cdn/v/t1.15752-9/448562917_1011223344_n.jpg?_nc_cat=1&ccb=1-7&_nc_sid=fc17b8&oh=" + cdnSig + "&oe=66A1B2C3"
	filePath  = "/cdn/v/t59.2708-21/448562917_n.pdf/invoice.pdf?_nc_cat=104&ccb=1-7&_nc_sid=2b0e22&oh=" + cdnSig + "&oe=66A1B2C3"
)

// mediaSetup points the Graph API and the CDN at the fake provider (the
// CDN under /cdn).
var mediaSetup = sdktest.Setup{
	Config:  func(url string) string { return configJSON(url+"/v21.0", `, "cdn_url": "`+url+`/cdn"`) },
	Secrets: append([]string{cdnSig}, secrets...),
}

func TestFetchMedia(t *testing.T) {
	jpeg := "\xff\xd8\xff\xe0\x00\x10JFIF"
	// noToken: the CDN needs no token, and gets none.
	noToken := map[string]string{"Authorization": ""}
	refused := func(label, url string) sdktest.MediaCase {
		return sdktest.MediaCase{Label: label, URL: url, WantError: "not an attachment of this channel", WantUnknown: true}
	}
	redirect := func(from, to string) sdktest.Mock {
		return sdktest.Mock{Method: "GET", Path: from, Header: noToken, Status: 302, ResponseHeader: map[string]string{"Location": to}}
	}
	sdktest.RunMedia(t, New(), mediaSetup, []sdktest.MediaCase{
		{
			Label:    "an image, without a token",
			URL:      "{provider}" + photoPath,
			Mocks:    []sdktest.Mock{{Method: "GET", Path: photoPath, Header: noToken, Response: jpeg, ResponseHeader: map[string]string{"Content-Type": "image/jpeg"}}},
			WantBody: jpeg, WantInfo: sdk.MediaInfo{ContentType: "image/jpeg", Size: 10},
		},
		{
			Label: "a file after a redirect on the CDN",
			URL:   "{provider}" + filePath,
			Mocks: []sdktest.Mock{
				redirect(filePath, "/cdn/v/t59.2708-21/moved_n.pdf/invoice.pdf?oh="+cdnSig),
				{Method: "GET", Path: "/cdn/v/t59.2708-21/moved_n.pdf/invoice.pdf?oh=" + cdnSig, Header: noToken, Response: "%PDF-1.7", ResponseHeader: map[string]string{"Content-Type": "application/pdf"}},
			},
			WantBody: "%PDF-1.7", WantInfo: sdk.MediaInfo{ContentType: "application/pdf", Size: 8},
		},
		refused("the Graph API is not the CDN", "{provider}/v21.0/"+pageID),
		refused("a path that climbs out of the CDN", "{provider}/cdn/../v21.0/me"),
		refused("another host", "https://files.example.com"+photoPath),
		refused("a host that only ends like the CDN's", "https://evilfbcdn.net/v/x.jpg"),
		refused("Facebook's CDN over http", "http://scontent.xx.fbcdn.net/v/t1.15752-9/1_n.jpg"),
		refused("another channel's reference", "telegram-file:AgAD-large"),
		{
			Label:     "a redirect off the CDN is not followed",
			URL:       "{provider}" + photoPath,
			Mocks:     []sdktest.Mock{redirect(photoPath, "http://169.254.169.254/latest/meta-data/")},
			WantError: "redirected to http://169.254.169.254, not Facebook's CDN",
		},
		{
			Label:     "a redirect from the CDN to the Graph API is not followed",
			URL:       "{provider}" + photoPath,
			Mocks:     []sdktest.Mock{redirect(photoPath, "/v21.0/me")},
			WantError: "not Facebook's CDN",
		},
		{
			Label: "more than 3 redirects",
			URL:   "{provider}" + photoPath,
			Mocks: []sdktest.Mock{
				redirect(photoPath, "/cdn/r1"), redirect("/cdn/r1", "/cdn/r2"),
				redirect("/cdn/r2", "/cdn/r3"), redirect("/cdn/r3", "/cdn/r4"),
			},
			WantError: "more than 3 redirects",
		},
		{
			Label:     "an expired link: the CDN's 403",
			URL:       "{provider}" + photoPath,
			Mocks:     []sdktest.Mock{{Method: "GET", Path: photoPath, Status: 403, Response: "URL signature expired"}},
			WantError: "messenger attachment download from 127.0.0.1",
		},
		{
			Label:     "the CDN's 404",
			URL:       "{provider}" + photoPath,
			Mocks:     []sdktest.Mock{{Method: "GET", Path: photoPath, Status: 404, Response: "Not Found"}},
			WantError: "HTTP 404",
		},
		{
			Label:     "the CDN's 503",
			URL:       "{provider}" + photoPath,
			Mocks:     []sdktest.Mock{{Method: "GET", Path: photoPath, Status: 503, Response: "Service Unavailable"}},
			WantError: "HTTP 503", WantRetryable: true,
		},
	})
}

// TestFetchMediaOfACDNDown: a network failure is retried, and its error
// names neither the signed URL nor a secret.
func TestFetchMediaOfACDNDown(t *testing.T) {
	p := sdktest.Start(t, New())
	if err := p.Configure("down", []byte(configJSON("http://127.0.0.1:1/v21.0", `, "cdn_url": "http://127.0.0.1:1/cdn"`))); err != nil {
		t.Fatal(err)
	}
	_, _, err := p.FetchMedia("down", "http://127.0.0.1:1"+photoPath)
	if err == nil || !sdk.IsRetryable(err) {
		t.Fatalf("FetchMedia = %v", err)
	}
	p.CheckSecrets(t, mediaSetup.Secrets, err.Error())
}

// TestCDNURL: what an instance fetches, without cdn_url (production) and
// with it.
func TestCDNURL(t *testing.T) {
	prod := config{}
	test := config{CDNURL: "http://127.0.0.1:8080/cdn"}
	for _, tc := range []struct {
		raw        string
		prod, test bool
	}{
		{"https://scontent.xx.fbcdn.net/v/t1.15752-9/1_n.jpg?_nc_cat=1&oh=x&oe=y", true, true},
		{"https://scontent-lhr8-1.xx.fbcdn.net/v/t1.15752-9/1_n.jpg", true, true},
		{"https://SCONTENT.XX.FBCDN.NET/v/1_n.jpg", true, true},
		{"https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1&signature=x", true, true},
		{"https://cdn.fbsbx.com/v/t59.2708-21/1_n.pdf/invoice.pdf", true, true},
		{"https://cdn.fbsbx.com:443/v/1_n.pdf", true, true},
		{"https://cdn.fbsbx.com:8443/v/1_n.pdf", false, false},
		{"http://cdn.fbsbx.com/v/1_n.pdf", false, false},
		{"https://fbcdn.net/v/1_n.jpg", false, false},
		{"https://fbcdn.net.example.com/v/1_n.jpg", false, false},
		{"https://evilfbsbx.com/v/1_n.jpg", false, false},
		{"https://user:pass@cdn.fbsbx.com/v/1_n.pdf", false, false},
		{"https://graph.facebook.com/v25.0/me", false, false},
		{"http://127.0.0.1:8080/cdn/v/1_n.jpg", false, true},
		{"http://127.0.0.1:8080/cdn", false, false},
		{"http://127.0.0.1:8080/cdnx/v/1_n.jpg", false, false},
		{"http://127.0.0.1:8080/cdn/../v21.0/me", false, false},
		{"http://127.0.0.1:8080/v21.0/me", false, false},
		{"https://127.0.0.1:8080/cdn/v/1_n.jpg", false, false},
		{"http://127.0.0.1:9090/cdn/v/1_n.jpg", false, false},
		{"/cdn/v/1_n.jpg", false, false},
	} {
		u, err := url.Parse(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := prod.cdnURL(u); got != tc.prod {
			t.Errorf("without cdn_url: %s: %v, want %v", tc.raw, got, tc.prod)
		}
		if got := test.cdnURL(u); got != tc.test {
			t.Errorf("with cdn_url: %s: %v, want %v", tc.raw, got, tc.test)
		}
	}
}

// TestConfigureCDNURL: cdn_url must be a base URL.
func TestConfigureCDNURL(t *testing.T) {
	for _, bad := range []string{"ftp://127.0.0.1/cdn", "http:///cdn", "http://127.0.0.1/cdn?x=1", "http://u:p@127.0.0.1/cdn"} {
		err := New().Configure(t.Context(), "test", []byte(configJSON("", `, "cdn_url": "`+bad+`"`)))
		if err == nil {
			t.Errorf("cdn_url %s accepted", bad)
		}
	}
}
