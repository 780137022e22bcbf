// Package meta is what the WhatsApp and Messenger channels share, because
// Meta's platforms share it: the webhook's GET verification handshake, the
// X-Hub-Signature-256 check of every POST, and the Graph API's requests and
// error answers (which errors are worth trying again).
package meta

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// DefaultGraphURL is the Graph API the channels call unless configured
// otherwise (tests point graph_url at a fake provider).
const DefaultGraphURL = "https://graph.facebook.com/v25.0"

// Answer is a webhook answer with a body of the given content type.
func Answer(status int, contentType, body string) *sdk.WebhookResult {
	return &sdk.WebhookResult{
		Status: status,
		Header: http.Header{"Content-Type": {contentType}},
		Body:   []byte(body),
	}
}

// Verify answers Meta's subscription handshake, a GET with hub.mode,
// hub.verify_token and hub.challenge in the query: the challenge echoed
// back when the token is ours, 403 otherwise. The token is compared in
// constant time and never echoed.
func Verify(r *sdk.WebhookRequest, verifyToken string) *sdk.WebhookResult {
	q, err := url.ParseQuery(r.Query)
	if err != nil {
		return Answer(http.StatusBadRequest, "text/plain", "bad query")
	}
	if q.Get("hub.mode") != "subscribe" || !Equal(q.Get("hub.verify_token"), verifyToken) {
		return Answer(http.StatusForbidden, "text/plain", "verification failed")
	}
	return Answer(http.StatusOK, "text/plain", q.Get("hub.challenge"))
}

// Equal compares two secrets in constant time (for equal lengths).
func Equal(a, b string) bool {
	return hmac.Equal([]byte(a), []byte(b))
}

// ValidSignature reports whether header, an X-Hub-Signature-256 value
// ("sha256=<hex>"), is the HMAC-SHA256 of body with the app secret.
func ValidSignature(header string, body []byte, appSecret string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the X-Hub-Signature-256 value Meta would send for body
// (for tests).
func Sign(body []byte, appSecret string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// CheckPost is the first step of every POST: refuse other methods and bad
// signatures. A nil result means the request may be read.
func CheckPost(r *sdk.WebhookRequest, appSecret string) *sdk.WebhookResult {
	if r.Method != http.MethodPost {
		return Answer(http.StatusMethodNotAllowed, "text/plain", "GET (verification) or POST only")
	}
	if !ValidSignature(r.Header.Get("X-Hub-Signature-256"), r.Body, appSecret) {
		return Answer(http.StatusForbidden, "text/plain", "bad signature")
	}
	return nil
}

// GraphError is the error object of a Graph API answer.
type GraphError struct {
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

// Error codes (https://developers.facebook.com/docs/graph-api/guides/error-handling,
// the WhatsApp Cloud API's and the Messenger Send API's error code lists).
var (
	// throttled: rate limits of the app, the account, the page or the
	// phone number. Worth trying again later.
	throttled = map[int]bool{4: true, 17: true, 32: true, 613: true, 80007: true, 130429: true, 131056: true}
	// temporary: the platform's own trouble.
	temporary = map[int]bool{1: true, 2: true, 1200: true, 131000: true, 131016: true, 133004: true}
)

// DefaultRetryAfter is the wait after a rate limit that came without a
// Retry-After header (Graph's throttling answers usually have none).
const DefaultRetryAfter = time.Minute

// Classify turns a Graph API answer that is not a success into an error
// that says what to do: rate limits (HTTP 429 or a throttling code) are
// retryable after Retry-After (DefaultRetryAfter when absent), 5xx and the
// platform's temporary codes retryable, anything else (an invalid
// recipient, a closed reply window, a policy refusal) final.
func Classify(status int, header http.Header, body []byte) error {
	var e struct {
		Error GraphError `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	g := e.Error
	msg := fmt.Sprintf("graph API error: HTTP %d", status)
	if g.Code != 0 || g.Message != "" {
		msg += fmt.Sprintf(", code %d: %s", g.Code, g.Message)
		if g.ErrorData.Details != "" {
			msg += " (" + g.ErrorData.Details + ")"
		}
	}
	err := &CodeError{Code: g.Code, Status: status, msg: msg}
	switch {
	case status == http.StatusTooManyRequests || throttled[g.Code]:
		after := sdk.RetryAfter(header.Get("Retry-After"))
		if after == 0 {
			after = DefaultRetryAfter
		}
		return sdk.Retryable(err, after)
	case status >= 500 || temporary[g.Code]:
		return sdk.Retryable(err, sdk.RetryAfter(header.Get("Retry-After")))
	default:
		return sdk.Final(err)
	}
}

// CodeError is a Graph API error with its code, for callers that tell
// codes apart (errors.As).
type CodeError struct {
	Code   int
	Status int
	msg    string
}

func (e *CodeError) Error() string { return e.msg }

// Post POSTs body as JSON to url with the access token as a bearer token
// (never in the URL, so that a network error, which names the URL, cannot
// carry it) and returns the answer's body, or a classified error.
func Post(ctx context.Context, c *http.Client, url, token string, body any) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, sdk.Final(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, sdk.Final(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		// A network failure or a timeout: worth another try.
		return nil, sdk.Retryable(err, 0)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, sdk.Retryable(fmt.Errorf("reading the graph API's answer: %w", err), 0)
	}
	if resp.StatusCode >= 300 {
		return nil, Classify(resp.StatusCode, resp.Header, out)
	}
	return out, nil
}

// ErrNotConfigured is the error of a call for an unknown instance.
var ErrNotConfigured = errors.New("the instance is not configured")

// DecodeConfig decodes an instance's configuration strictly: an unknown
// field is an error that names it, so that a misspelt key does not pass
// for a missing one.
func DecodeConfig(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return sdk.ConfigError("", "the configuration is not valid: %v", err)
	}
	return nil
}

// CheckGraphURL checks a configured Graph API base URL and returns it
// without a trailing slash (DefaultGraphURL when empty).
func CheckGraphURL(s string) (string, error) {
	if s == "" {
		return DefaultGraphURL, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", sdk.ConfigError("/graph_url", "write an http or https URL, such as %s", DefaultGraphURL)
	}
	return strings.TrimRight(s, "/"), nil
}

// Cut shortens s to n characters (runes), marking the cut with "…": the
// platforms count their limits (a button's title, a payload) in
// characters.
func Cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
