// Package twilio is what the twilio-sms channel and the twilio integration
// share: the X-Twilio-Signature check and the Messages API call, with
// Twilio's errors turned into retryable or final sdk errors.
//
// Both follow Twilio's documented formats: webhooks are signed with
// HMAC-SHA1 (key: the auth token) over the full URL followed by every POST
// parameter's name and value, sorted by name, base64-encoded; messages are
// created by a form-encoded POST to
// /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP basic auth, and
// errors come back as {"code": 21211, "message": "...", "status": 400}.
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// DefaultAPIURL is Twilio's REST API.
const DefaultAPIURL = "https://api.twilio.com"

// Signature computes the X-Twilio-Signature of a request to fullURL (with
// its query string, exactly as configured at Twilio) carrying the POST
// parameters params.
func Signature(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys) // byte order: Twilio's "Unix-style case-sensitive" sort
	mac := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(mac, fullURL)
	for _, k := range keys {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			io.WriteString(mac, k)
			io.WriteString(mac, v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidSignature reports whether sig is the signature of the request, in
// constant time. An empty sig is never valid.
func ValidSignature(authToken, fullURL string, params url.Values, sig string) bool {
	if sig == "" {
		return false
	}
	want := Signature(authToken, fullURL, params)
	return subtle.ConstantTimeCompare([]byte(want), []byte(sig)) == 1
}

// SignedURL is the URL Twilio signed for a request that arrived with the
// raw query string query at the public URL webhookURL: webhookURL's scheme,
// host and path, with the query the request actually carried.
func SignedURL(webhookURL, query string) string {
	base, _, _ := strings.Cut(webhookURL, "?")
	if query == "" {
		return base
	}
	return base + "?" + query
}

// Client calls Twilio's REST API for one account.
type Client struct {
	// APIURL is the API's base URL; "" means DefaultAPIURL.
	APIURL     string
	AccountSID string
	AuthToken  string
	HTTP       *http.Client
}

// Message is the part of Twilio's Message resource the plugins use.
type Message struct {
	SID          string `json:"sid"`
	Status       string `json:"status"`
	ErrorCode    *int   `json:"error_code"`
	ErrorMessage string `json:"error_message"`
}

// apiError is Twilio's error body.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// CreateMessage sends a message (form parameters To, From or
// MessagingServiceSid, Body, MediaUrl, StatusCallback …). Its errors are
// *sdk.Error: 429 and 5xx are retryable (429 after Retry-After, when
// Twilio says), a network failure too, any other refusal is final and
// names Twilio's error code.
func (c *Client) CreateMessage(ctx context.Context, form url.Values) (*Message, error) {
	base := c.APIURL
	if base == "" {
		base = DefaultAPIURL
	}
	u := strings.TrimRight(base, "/") + "/2010-04-01/Accounts/" + url.PathEscape(c.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, sdk.Final(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(c.AccountSID, c.AuthToken)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The error names the URL (no credentials in it), never the token.
		return nil, sdk.Retryable(fmt.Errorf("twilio: %w", err), 0)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return nil, classify(resp, b)
	}
	var m Message
	if err := json.Unmarshal(b, &m); err != nil || m.SID == "" {
		return nil, sdk.Final(fmt.Errorf("twilio: unexpected answer %d: %.200s", resp.StatusCode, b))
	}
	return &m, nil
}

func classify(resp *http.Response, body []byte) error {
	var e apiError
	_ = json.Unmarshal(body, &e)
	msg := fmt.Sprintf("twilio error %d", resp.StatusCode)
	if e.Code != 0 || e.Message != "" {
		msg = fmt.Sprintf("twilio error %d (code %d): %s", resp.StatusCode, e.Code, e.Message)
	}
	err := errors.New(msg)
	return sdk.StatusError(resp, err)
}

// MessagingServiceSID reports whether from names a messaging service
// (MG…, sent as MessagingServiceSid) rather than a sender (From).
func MessagingServiceSID(from string) bool {
	return len(from) == 34 && strings.HasPrefix(from, "MG")
}

// SetSender sets From or MessagingServiceSid in form.
func SetSender(form url.Values, from string) {
	if MessagingServiceSID(from) {
		form.Set("MessagingServiceSid", from)
	} else {
		form.Set("From", from)
	}
}
