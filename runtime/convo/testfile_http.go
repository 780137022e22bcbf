package convo

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// MaxHTTPDelay bounds a fake's delay: a JSON block waits 30s at most.
const MaxHTTPDelay = 30 * time.Second

// OriginalURLHeader carries the URL a JSON block asked for to the fake
// server, whose own address replaces the request's scheme and host.
const OriginalURLHeader = "X-Switchboard-Original-Url"

// errNoNetwork is what every HTTP request of a test without an http: list
// fails with: like a network failure, it takes the JSON block's on_error.
var errNoNetwork = errors.New("no network in conversation tests: add an http: fake")

// offlineHTTP fails every request with errNoNetwork.
type offlineHTTP struct{}

func (offlineHTTP) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, errNoNetwork
}

// httpFake is one entry of an http: list: the response to requests whose
// method and URL match.
type httpFake struct {
	line, col   int
	method      string // "" matches any method
	url         textMatch
	status      int
	body        []byte
	contentType string
	headers     map[string]string
	delay       time.Duration
	fileLevel   bool
}

func (f *httpFake) matches(method, u string) bool {
	return (f.method == "" || f.method == method) && f.url.match(u)
}

func (f *httpFake) String() string {
	m := f.method
	if m == "" {
		m = "any"
	}
	return m + " " + f.url.String()
}

// fakeHTTP is the fake web of one test: a real HTTP server on 127.0.0.1
// that answers from the fakes, and a client whose transport sends every
// request to it, whatever its host.
type fakeHTTP struct {
	fakes     []*httpFake // the test's, then the file's: the first match answers
	srv       *httptest.Server
	transport *http.Transport
	done      chan struct{}

	mu         sync.Mutex
	used       map[*httpFake]int
	unexpected []string // requests no fake matched, since the last drain
	log        []string // transcript lines, since the last drain
}

func startFakeHTTP(fakes []*httpFake) *fakeHTTP {
	h := &fakeHTTP{fakes: fakes, done: make(chan struct{}), used: map[*httpFake]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	h.transport = &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}
	return h
}

// client is the engine's HTTP client for the test.
func (h *fakeHTTP) client() flows.HTTPDoer {
	target, _ := url.Parse(h.srv.URL)
	return &http.Client{Transport: &redirectTransport{base: h.transport, target: target}}
}

// redirectTransport sends every request to the fake server, keeping its
// path and query, with the original URL in OriginalURLHeader.
type redirectTransport struct {
	base   http.RoundTripper
	target *url.URL
}

func (t *redirectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	u := *req.URL
	u.Scheme, u.Host, u.User = t.target.Scheme, t.target.Host, nil
	out.URL, out.Host = &u, ""
	out.Header.Set(OriginalURLHeader, req.URL.String())
	return t.base.RoundTrip(out)
}

func (h *fakeHTTP) serve(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	orig := r.Header.Get(OriginalURLHeader)
	if orig == "" {
		http.Error(w, "this server answers the JSON blocks of a conversation test only", http.StatusBadRequest)
		return
	}
	what := r.Method + " " + orig
	var fake *httpFake
	for _, f := range h.fakes {
		if f.matches(r.Method, orig) {
			fake = f
			break
		}
	}
	h.mu.Lock()
	if fake == nil {
		h.unexpected = append(h.unexpected, what)
		h.log = append(h.log, "http: "+what+" → 502 (no fake)")
	} else {
		h.used[fake]++
		h.log = append(h.log, fmt.Sprintf("http: %s → %d", what, fake.status))
	}
	h.mu.Unlock()
	if fake == nil {
		http.Error(w, "unexpected request: the test's http: list has no fake for "+what, http.StatusBadGateway)
		return
	}
	if fake.delay > 0 {
		tm := time.NewTimer(fake.delay)
		defer tm.Stop()
		select {
		case <-tm.C:
		case <-r.Context().Done():
			return // the client gave up: a JSON block timed out
		case <-h.done:
			return
		}
	}
	for k, v := range fake.headers {
		w.Header().Set(k, v)
	}
	if fake.contentType != "" && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", fake.contentType)
	}
	w.WriteHeader(fake.status)
	_, _ = w.Write(fake.body)
}

// drain returns the transcript lines and unexpected requests since the
// last drain.
func (h *fakeHTTP) drain() (log, unexpected []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	log, unexpected = h.log, h.unexpected
	h.log, h.unexpected = nil, nil
	return log, unexpected
}

// timesUsed says how many requests a fake answered.
func (h *fakeHTTP) timesUsed(f *httpFake) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.used[f]
}

// close stops the server: delayed answers are abandoned, running handlers
// are waited for and every connection is closed.
func (h *fakeHTTP) close() {
	close(h.done)
	h.srv.Close()
	h.transport.CloseIdleConnections()
}

func describeFakes(fakes []*httpFake) []string {
	if len(fakes) == 0 {
		return []string{"(no http fakes)"}
	}
	out := make([]string, len(fakes))
	for i, f := range fakes {
		out[i] = "a fake for " + f.String()
	}
	return out
}
