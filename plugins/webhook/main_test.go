package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

const secret = "whsec-0123456789abcdef-never-logged"

var clock = time.Unix(1763715600, 0)

// newFixed is the integration with a fixed clock and delivery ids d-1,
// d-2 …, so that bodies and signatures are known in advance.
func newFixed() *Webhook {
	w := New()
	n := 0
	w.now = func() time.Time { return clock }
	w.newID = func() string { n++; return "d-" + itoa(n) }
	return w
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// signature is computed here independently of Sign, as a receiver would.
func signature(body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

var conv = sdk.Conversation{Bot: "support", ContactID: "c-42", Channel: "wa-main", ContactExternalID: "16505551234",
	Attributes: map[string]any{"plan": "gold"}, InvocationID: "inv-1"}

func TestPost(t *testing.T) {
	prov := sdktest.NewProvider(t)
	p := sdktest.Start(t, newFixed())
	if err := p.ConfigureIntegration(json.RawMessage(`{"url": "` + prov.URL + `/hooks/in", "secret": "` + secret + `", "timeout": "2s"}`)); err != nil {
		t.Fatal(err)
	}
	body := func(id, event, data string) string {
		return `{"id":"` + id + `","event":"` + event + `","timestamp":1763715600,` +
			`"conversation":{"bot":"support","contact_id":"c-42","channel":"wa-main"},"data":` + data + `}`
	}
	delivered := body("inv-1", "handover.waiting", `{"queue":"sales","waiting":3}`)
	cases := []struct {
		label      string
		params     string
		conv       sdk.Conversation
		mocks      []sdktest.Mock
		wantResult string
		wantError  string
		retryable  bool
		after      time.Duration
	}{
		{
			label:  "a signed event to the configured URL",
			params: `{"event": "handover.waiting", "data": {"queue": "sales", "waiting": 3}}`,
			conv:   conv,
			mocks: []sdktest.Mock{{
				Path: "/hooks/in",
				Header: map[string]string{
					"Content-Type": "application/json", "X-Switchboard-Event": "handover.waiting",
					"Idempotency-Key": "inv-1", "X-Switchboard-Delivery": "d-1",
					"X-Switchboard-Timestamp": "1763715600", "X-Switchboard-Signature": signature(delivered),
				},
				Body:     delivered,
				Response: `{"ok": true}`,
			}},
			wantResult: `{"status": 200}`,
		},
		{
			// Without an invocation id, each attempt is its own event.
			label:  "to the URL the parameters give, without a conversation",
			params: `{"url": "` + prov.URL + `/other?token=abc", "event": "trigger.fired"}`,
			mocks: []sdktest.Mock{{
				Path: "/other?token=abc",
				Header: map[string]string{"X-Switchboard-Signature": signature(`{"id":"d-2","event":"trigger.fired","timestamp":1763715600}`),
					"Idempotency-Key": "d-2", "X-Switchboard-Delivery": "d-2"},
				Body:   `{"id":"d-2","event":"trigger.fired","timestamp":1763715600}`,
				Status: 202,
			}},
			wantResult: `{"status": 202}`,
		},
		{
			label:  "rate limited",
			params: `{"event": "trigger.fired"}`,
			mocks:  []sdktest.Mock{{Path: "/hooks/in", Status: 429, ResponseHeader: map[string]string{"Retry-After": "30"}, Response: "slow down"}},
			// The query of a URL (a receiver's token) stays out of errors.
			wantError: "answered 429 slow down", retryable: true, after: 30 * time.Second,
		},
		{
			label:     "receiver error",
			params:    `{"event": "trigger.fired"}`,
			mocks:     []sdktest.Mock{{Path: "/hooks/in", Status: 502}},
			wantError: "answered 502", retryable: true,
		},
		{
			label:     "refused",
			params:    `{"url": "` + prov.URL + `/other?token=abc", "event": "trigger.fired"}`,
			mocks:     []sdktest.Mock{{Path: "/other", Status: 401, Response: `{"error": "bad signature"}`}},
			wantError: "/other answered 401 {\"error\": \"bad signature\"}",
		},
		{
			label:     "a redirect is not followed",
			params:    `{"event": "trigger.fired"}`,
			mocks:     []sdktest.Mock{{Path: "/hooks/in", Status: 301, ResponseHeader: map[string]string{"Location": "/elsewhere"}}},
			wantError: "answered 301",
		},
		{label: "no event", params: `{"data": 1}`, wantError: "event is required"},
		{label: "not an http URL", params: `{"url": "file:///etc/passwd", "event": "x"}`, wantError: "http or https"},
	}
	var texts []string
	for _, c := range cases {
		t.Run(c.label, func(t *testing.T) {
			prov.Expect(c.mocks...)
			defer prov.Verify(t)
			res, err := p.Invoke("post", json.RawMessage(c.params), c.conv)
			if c.wantError == "" {
				if err != nil {
					t.Fatalf("Invoke: %v", err)
				}
				var got, want any
				_ = json.Unmarshal(res, &got)
				_ = json.Unmarshal([]byte(c.wantResult), &want)
				if g, _ := json.Marshal(got); string(g) != mustJSON(want) {
					t.Errorf("result = %s, want %s", res, c.wantResult)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantError) {
				t.Fatalf("error = %v, want one containing %q", err, c.wantError)
			}
			texts = append(texts, err.Error())
			var se *sdk.Error
			if !errors.As(err, &se) || se.Retryable != c.retryable || se.RetryAfter != c.after {
				t.Errorf("error %#v: want retryable %v after %v", err, c.retryable, c.after)
			}
			if strings.Contains(err.Error(), "token=abc") {
				t.Errorf("error %q shows the URL's query", err)
			}
		})
	}
	p.CheckSecrets(t, []string{secret}, texts...)
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestRetryIsTheSameEvent: a retried call (the same invocation id) posts
// the same event id and Idempotency-Key, in a new delivery, so that the
// receiver can drop it; another call is another event.
func TestRetryIsTheSameEvent(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ ID string }
		_ = json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		got = append(got, ev.ID+" "+r.Header.Get("Idempotency-Key")+" "+r.Header.Get("X-Switchboard-Delivery"))
		n := len(got)
		mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	p := sdktest.Start(t, newFixed())
	if err := p.ConfigureIntegration(json.RawMessage(`{"url": "` + srv.URL + `", "secret": "` + secret + `"}`)); err != nil {
		t.Fatal(err)
	}
	first := sdk.Conversation{Bot: "support", InvocationID: "9c41d2"}
	for i, c := range []sdk.Conversation{first, first, {Bot: "support", InvocationID: "77ab01"}} {
		_, err := p.Invoke("post", json.RawMessage(`{"event": "trigger.fired"}`), c)
		if (i == 0) != sdk.IsRetryable(err) {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	want := []string{"9c41d2 9c41d2 d-1", "9c41d2 9c41d2 d-2", "77ab01 77ab01 d-3"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the receiver got (id, Idempotency-Key, delivery) %q, want %q", got, want)
	}
}

// TestTimeout: a receiver slower than the configured timeout gives a
// retryable error.
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	p := sdktest.Start(t, newFixed())
	if err := p.ConfigureIntegration(json.RawMessage(`{"url": "` + slow.URL + `", "secret": "` + secret + `", "timeout": "100ms"}`)); err != nil {
		t.Fatal(err)
	}
	_, err := p.Invoke("post", json.RawMessage(`{"event": "x"}`), sdk.Conversation{})
	if err == nil || !sdk.IsRetryable(err) || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("Invoke = %v, want a retryable timeout", err)
	}
	p.CheckSecrets(t, []string{secret}, err.Error())
}

func TestConfigure(t *testing.T) {
	p := sdktest.Start(t, New())
	m, err := p.IntegrationManifest()
	if err != nil || m.Name != "webhook" || len(m.Actions) != 1 || m.Actions[0].Name != "post" || len(m.Secrets) != 1 {
		t.Fatalf("manifest = %+v, %v", m, err)
	}
	for _, s := range []json.RawMessage{m.ConfigSchema, m.Actions[0].Params, m.Actions[0].Result} {
		if !json.Valid(s) {
			t.Errorf("schema is not JSON: %s", s)
		}
	}
	// Before any configuration, post fails finally.
	if _, err := p.Invoke("post", json.RawMessage(`{"event": "x", "url": "http://127.0.0.1:1"}`), sdk.Conversation{}); err == nil || sdk.IsRetryable(err) {
		t.Errorf("post unconfigured = %v, want a final error", err)
	}
	for _, tc := range []struct{ config, field string }{
		{`{"url": "http://127.0.0.1:1"}`, "/secret"},
		{`{"secret": "short"}`, "/secret"},
		{`{"url": "ftp://x", "secret": "` + secret + `"}`, "/url"},
		{`{"secret": "` + secret + `", "timeout": "2h"}`, "/timeout"},
		{`{"secret": "` + secret + `", "timeout": "soon"}`, "/timeout"},
		{`{"secret": "` + secret + `", "headers": {}}`, ""},
	} {
		err := p.ConfigureIntegration(json.RawMessage(tc.config))
		var se *sdk.Error
		if !errors.As(err, &se) || se.Field != tc.field {
			t.Errorf("Configure(%s) = %v, want a config error at %q", tc.config, err, tc.field)
		}
	}
	if err := p.ConfigureIntegration(json.RawMessage(`{"secret": "` + secret + `"}`)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ action, params, want string }{
		{"get", `{"event": "x"}`, "unknown action"},
		{"post", `{"event": "x"}`, "no URL"},
		{"post", `[1]`, "parameters"},
	} {
		if _, err := p.Invoke(tc.action, json.RawMessage(tc.params), sdk.Conversation{}); err == nil || sdk.IsRetryable(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Invoke(%s, %s) = %v, want a final error containing %q", tc.action, tc.params, err, tc.want)
		}
	}
	p.CheckSecrets(t, []string{secret})
}

// TestUnreachable: a receiver that is not there is worth another try.
func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	p := sdktest.Start(t, newFixed())
	if err := p.ConfigureIntegration(json.RawMessage(`{"url": "` + url + `/x?key=k3y", "secret": "` + secret + `"}`)); err != nil {
		t.Fatal(err)
	}
	_, err := p.Invoke("post", json.RawMessage(`{"event": "x"}`), sdk.Conversation{})
	if err == nil || !sdk.IsRetryable(err) || strings.Contains(err.Error(), "k3y") {
		t.Fatalf("Invoke = %v, want a retryable error without the URL's query", err)
	}
	p.CheckSecrets(t, []string{secret, "k3y"}, err.Error())
}
