package sdktest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Mock is one request a plugin is expected to make to its provider, and
// the answer it gets.
type Mock struct {
	// Method defaults to POST.
	Method string
	// Path is the request path; with a "?…" the query must match exactly
	// too.
	Path string
	// Header lists headers the request must carry, with these values.
	Header map[string]string
	// JSON, when set, is the body the request must carry, compared as a
	// JSON value (key order and spacing do not matter).
	JSON string
	// Body, when set (and JSON is not), is the exact body.
	Body string

	// Status is the answer's status; 0 means 200.
	Status int
	// Response is the answer's body; ResponseHeader its headers.
	Response       string
	ResponseHeader map[string]string
}

func (m *Mock) method() string {
	if m.Method == "" {
		return http.MethodPost
	}
	return m.Method
}

func (m *Mock) String() string { return m.method() + " " + m.Path }

// Provider is a fake provider server on loopback. Expect queues mocks;
// each request is answered by the first unused mock of the same method and
// path, and checked against it. Verify reports requests that matched no
// mock or failed their checks, and mocks that were never used.
type Provider struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL string

	srv      *httptest.Server
	mu       sync.Mutex
	mocks    []*Mock
	used     []bool
	problems []string
}

// NewProvider starts a fake provider on loopback, closed when the test
// ends.
func NewProvider(t testing.TB) *Provider {
	t.Helper()
	p := &Provider{}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	if err := loopback(p.srv.Listener.Addr().String()); err != nil {
		p.srv.Close()
		t.Fatal(err)
	}
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

// Expect queues mocks for the next requests, replacing any unused ones.
func (p *Provider) Expect(mocks ...Mock) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mocks = p.mocks[:0]
	for i := range mocks {
		p.mocks = append(p.mocks, &mocks[i])
	}
	p.used = make([]bool, len(mocks))
	p.problems = nil
}

// Verify fails t for each unexpected or wrong request and each unused
// mock since the last Expect.
func (p *Provider) Verify(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.problems {
		t.Error(pr)
	}
	for i, m := range p.mocks {
		if !p.used[i] {
			t.Errorf("sdktest: mock %s was not called", m)
		}
	}
	p.problems = nil
}

func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	var m *Mock
	for i, c := range p.mocks {
		if p.used[i] || c.method() != r.Method {
			continue
		}
		path, query, hasQuery := strings.Cut(c.Path, "?")
		if path != r.URL.Path || (hasQuery && query != r.URL.RawQuery) {
			continue
		}
		p.used[i] = true
		m = c
		break
	}
	if m == nil {
		p.problems = append(p.problems, fmt.Sprintf("sdktest: unexpected request %s %s with body %s", r.Method, r.URL.RequestURI(), trim(body)))
		p.mu.Unlock()
		http.Error(w, "sdktest: no mock for this request", http.StatusNotImplemented)
		return
	}
	p.problems = append(p.problems, check(m, r, body)...)
	p.mu.Unlock()

	keys := make([]string, 0, len(m.ResponseHeader))
	for k := range m.ResponseHeader {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.Header().Set(k, m.ResponseHeader[k])
	}
	if w.Header().Get("Content-Type") == "" && strings.HasPrefix(strings.TrimSpace(m.Response), "{") {
		w.Header().Set("Content-Type", "application/json")
	}
	st := m.Status
	if st == 0 {
		st = http.StatusOK
	}
	w.WriteHeader(st)
	_, _ = io.WriteString(w, m.Response)
}

func check(m *Mock, r *http.Request, body []byte) []string {
	var out []string
	for k, v := range m.Header {
		if got := r.Header.Get(k); got != v {
			out = append(out, fmt.Sprintf("sdktest: %s: header %s is %q, want %q", m, k, got, v))
		}
	}
	switch {
	case m.JSON != "":
		eq, err := jsonEqual(body, []byte(m.JSON))
		if err != nil {
			out = append(out, fmt.Sprintf("sdktest: %s: body %s: %v", m, trim(body), err))
		} else if !eq {
			out = append(out, fmt.Sprintf("sdktest: %s: body\n  got  %s\n  want %s", m, canonical(body), canonical([]byte(m.JSON))))
		}
	case m.Body != "":
		if string(body) != m.Body {
			out = append(out, fmt.Sprintf("sdktest: %s: body\n  got  %q\n  want %q", m, body, m.Body))
		}
	}
	return out
}

func trim(b []byte) string {
	if len(b) > 500 {
		return string(b[:500]) + "…"
	}
	return string(b)
}
