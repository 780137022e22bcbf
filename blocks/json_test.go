package blocks_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/flows"
)

// apiServer is a real HTTP server on 127.0.0.1 that records what it got.
type apiServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []apiRequest
}

type apiRequest struct {
	Method, Path string
	Header       http.Header
	Body         string
}

func newAPI(t *testing.T, h http.HandlerFunc) *apiServer {
	t.Helper()
	s := &apiServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, apiRequest{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: string(b)})
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) last(t *testing.T) apiRequest {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		t.Fatal("the server got no request")
	}
	return s.reqs[len(s.reqs)-1]
}

// apiChat starts a conversation whose engine may call srv. The bot's
// {{API}} is replaced by the server's address.
func apiChat(t *testing.T, srv *apiServer, src string) *chat {
	t.Helper()
	src = strings.ReplaceAll(src, "{API}", srv.URL)
	return newChatWith(t, src, srv.Client(), &flows.Contact{ID: "c1", Name: "Ann", Channel: "test"})
}

func TestJSONGetTemplatedURLSavesParsedBody(t *testing.T) {
	srv := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"state": "shipped", "items": [{"sku": "A1"}], "total": 12.5}`)
	})
	c := apiChat(t, srv, `
skills:
  /start:
    - listen: order_id
    - json: "{API}/orders/{{ order_id }}?who={{ contact.name }}"
      save: order
      save_status: status
    - text: "{{ status }}: {{ order.state }}, {{ order.items[0].sku }}, {{ order.total * 2 }}"
    - switch:
        - {if: 'status == 200', goto: ok}
  ok:
    - text: status is a number
`)
	c.say("hi")
	want(t, c.say("42"), "200: shipped, A1, 25", "status is a number")
	got := srv.last(t)
	if got.Method != "GET" || got.Path != "/orders/42?who=Ann" {
		t.Fatalf("request: %s %s", got.Method, got.Path)
	}
	if ua := got.Header.Get("User-Agent"); ua != "Switchboard" {
		t.Fatalf("User-Agent %q", ua)
	}
	if ct := got.Header.Get("Content-Type"); ct != "" || got.Body != "" {
		t.Fatalf("a GET without body sent Content-Type %q, body %q", ct, got.Body)
	}
}

func TestJSONPostBodyTemplatesAndHeaders(t *testing.T) {
	srv := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id": 7}`)
	})
	c := apiChat(t, srv, `
skills:
  /start:
    - listen: qty
      validate: integer
    - json: "{API}/carts"
      method: POST
      headers:
        Authorization: "Bearer tok-{{ contact.name }}"
        X-Literal: plain
      body:
        customer: "Hello {{ contact.name }}"
        qty: "{{ qty }}"
        qty_text: "n={{ qty }}"
        tags: ["a", "{{ upper(contact.name) }}", 3, true, null]
        nested:
          deeper:
            deepest:
              level4:
                level5:
                  level6:
                    level7: "{{ contact.name }}!"
      save: cart
    - text: "cart {{ cart.id }}"
`)
	c.say("hi")
	want(t, c.say("3"), "cart 7")
	got := srv.last(t)
	if got.Method != "POST" {
		t.Fatalf("method %s", got.Method)
	}
	if h := got.Header.Get("Authorization"); h != "Bearer tok-Ann" {
		t.Fatalf("Authorization %q", h)
	}
	if h := got.Header.Get("X-Literal"); h != "plain" {
		t.Fatalf("X-Literal %q", h)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(got.Body), &body); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, got.Body)
	}
	wantBody := `{"customer":"Hello Ann","nested":{"deeper":{"deepest":{"level4":{"level5":{"level6":{"level7":"Ann!"}}}}}},"qty":3,"qty_text":"n=3","tags":["a","ANN",3,true,null]}`
	if b, _ := json.Marshal(body); string(b) != wantBody {
		t.Fatalf("body:\n  %s\nwant:\n  %s", b, wantBody)
	}
}

func TestJSONErrorStatusTakesOnError(t *testing.T) {
	srv := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error": "no such order"}`)
	})
	c := apiChat(t, srv, `
skills:
  /start:
    - json: "{API}/orders/1"
      save: order
      save_status: status
      save_error: problem
      on_error: failed
    - text: not reached
  failed:
    - text: "{{ status }} {{ order.error }}"
    - text: "{{ problem }}"
`)
	got := c.say("hi")
	if len(got) != 2 || got[0] != "404 no such order" || !strings.Contains(got[1], "404 Not Found") {
		t.Fatalf("bot said %q", got)
	}
}

func TestJSONFailureWithoutOnErrorGoesToError(t *testing.T) {
	srv := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	c := apiChat(t, srv, `
skills:
  /start:
    - json: "{API}/x"
    - text: not reached
  /_error:
    - text: "error: {{ error.message }}"
`)
	got := c.say("hi")
	if len(got) != 1 || !strings.Contains(got[0], "500 Internal Server Error") {
		t.Fatalf("bot said %q", got)
	}
}

func TestJSONTimeout(t *testing.T) {
	srv := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	c := apiChat(t, srv, `
skills:
  /start:
    - json: "{API}/slow"
      timeout: 200ms
      save_status: status
      save_error: problem
      on_error: failed
  failed:
    - text: "status {{ status }}: {{ problem }}"
`)
	start := time.Now()
	got := c.say("hi")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the request took %s despite a 200ms timeout", d)
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], "status 0: ") || !strings.Contains(got[0], "no response within 200ms") {
		t.Fatalf("bot said %q", got)
	}
}

func TestJSONResponseTooLarge(t *testing.T) {
	big := strings.Repeat("x", 2000)
	srv := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length: the limit applies while reading
		}
		fmt.Fprint(w, big)
	})
	for _, path := range []string{"/sized", "/chunked"} {
		c := apiChat(t, srv, `
skills:
  /start:
    - json: "{API}`+path+`"
      max_size: 1000
      save: page
      save_error: problem
      on_error: failed
    - text: not reached
  failed:
    - text: "{{ problem }}"
    - text: "saved: {{ page ?? 'nothing' }}"
`)
		got := c.say("hi")
		if len(got) != 2 || !strings.Contains(got[0], "max_size") || got[1] != "saved: nothing" {
			t.Fatalf("%s: bot said %q", path, got)
		}
	}
}

func TestJSONNonJSONBodySavedAsText(t *testing.T) {
	srv := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "OK, done {not json")
	})
	c := apiChat(t, srv, `
skills:
  /start:
    - json: "{API}/ping"
      method: DELETE
      save: contact.last_reply
      save_error: problem
    - text: "{{ contact.last_reply }}|{{ problem }}|"
`)
	want(t, c.say("hi"), "OK, done {not json||")
	if srv.last(t).Method != "DELETE" {
		t.Fatalf("method %s", srv.last(t).Method)
	}
	if c.Contact.Attributes["last_reply"] != "OK, done {not json" {
		t.Fatalf("attributes %v", c.Contact.Attributes)
	}
}

func TestJSONNetworkError(t *testing.T) {
	srv := newAPI(t, func(w http.ResponseWriter, r *http.Request) {})
	url := srv.URL
	srv.Close() // nothing listens there any more
	c := newChatWith(t, `
skills:
  /start:
    - json: "`+url+`/gone"
      save_status: status
      on_error: failed
  failed:
    - text: "unreachable ({{ status }})"
`, http.DefaultClient, &flows.Contact{ID: "c1"})
	want(t, c.say("hi"), "unreachable (0)")
}

func TestJSONDisabledHTTPFails(t *testing.T) {
	c := newChat(t, `
skills:
  /start:
    - json: "https://example.com"
      on_error: failed
  failed:
    - text: not taken
  /_error:
    - text: "{{ error.message }}"
`)
	want(t, c.say("hi"), "HTTP requests are disabled in this engine")
}

func TestJSONBadRenderedURLFails(t *testing.T) {
	srv := newAPI(t, func(w http.ResponseWriter, r *http.Request) {})
	c := apiChat(t, srv, `
skills:
  /start:
    - json: "{{ 'ftp://example.com' }}"
  /_error:
    - text: "{{ error.message }}"
`)
	got := c.say("hi")
	if len(got) != 1 || !strings.Contains(got[0], "not an http or https URL") {
		t.Fatalf("bot said %q", got)
	}
}

func TestJSONLoadErrors(t *testing.T) {
	errs := loadErrors(t, `
skills:
  /start:
    - json: "https://example.com"
      timeout: 1m
      max_size: 20000000
      headers:
        "Bad Header": x
      method: POST
      body:
        a: "{{ 1 + }}"
    - json: "example.com/x"
`)
	for _, w := range []string{
		"test.yaml:6:16: timeout 1m is too long",
		"test.yaml:5:7: max_size 20000000 is out of range",
		`test.yaml:9:23: "Bad Header" is not a valid header name`,
		`test.yaml:12:18: expression "1 +" does not compile`,
		`test.yaml:13:14: URL "example.com/x" must start with http:// or https://`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("missing %q in:\n%s", w, errs)
		}
	}
	errs = loadErrors(t, `
skills:
  /start:
    - json: "https://example.com"
      method: FETCH
`)
	if !strings.Contains(errs, "test.yaml:6:15:") || !strings.Contains(errs, "must be one of") {
		t.Fatalf("errors: %s", errs)
	}
}

func TestJSONListBodyAndAliases(t *testing.T) {
	srv := newAPI(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `[1, 2]`)
	})
	c := apiChat(t, srv, `
skills:
  /start:
    - json: "{API}/batch"
      method: PUT
      body:
        - &item {name: "{{ contact.name }}", n: 1}
        - *item
        - "{{ [1, 2] }}"
      save: result
    - text: "{{ result[1] }}"
`)
	want(t, c.say("hi"), "2")
	if got := srv.last(t); got.Method != "PUT" || got.Body != `[{"n":1,"name":"Ann"},{"n":1,"name":"Ann"},[1,2]]` {
		t.Fatalf("request %s %s", got.Method, got.Body)
	}
}

func TestJSONGetWithBodyWarns(t *testing.T) {
	_, ds := flows.Load("test.yaml", []byte(`id: test
skills:
  /start:
    - json: "https://example.com"
      body: {a: 1}
`))
	if ds.HasErrors() || !strings.Contains(ds.Error(), "test.yaml:4:7: warning: a GET request with a body") {
		t.Fatalf("diagnostics: %s", ds.Error())
	}
}
