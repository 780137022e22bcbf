package blocks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchboard-bots/switchboard/flows"
)

// JSON calls an HTTP API: it sends a request, optionally with a JSON body,
// and saves the response.
type JSON struct {
	URL        flows.Template            `yaml:"url" required:"true" doc:"The address to call, http or https; templates like {{ order_id }} are filled in."`
	Method     string                    `yaml:"method" enum:"GET|POST|PUT|PATCH|DELETE" default:"GET" doc:"The HTTP method."`
	Headers    map[string]flows.Template `yaml:"headers" doc:"Request headers; values are templates, like Authorization: \"Bearer {{ contact.token }}\"."`
	Body       any                       `yaml:"body" doc:"Sent as JSON: any value, mapping or list, whose text values are templates. A text that is only {{ expression }} sends the expression's value as it is (a number, a list); numbers, true/false and null are sent as written."`
	Timeout    flows.Duration            `yaml:"timeout" default:"10s" doc:"How long to wait for the whole response; at most 30s."`
	MaxSize    int                       `yaml:"max_size" default:"1048576" doc:"The largest response body accepted, in bytes; at most 10485760 (10 MiB)."`
	Save       string                    `yaml:"save" doc:"A variable (or contact.<attribute>) for the response body: parsed JSON, or the text when it is not JSON. Also set on an error status, with the error response."`
	SaveStatus string                    `yaml:"save_status" doc:"A variable for the HTTP status code, a number; 0 when no response arrived."`
	SaveError  string                    `yaml:"save_error" doc:"A variable for what went wrong, in words, when the request failed; emptied when it succeeded."`
	OnError    flows.Target              `yaml:"on_error" doc:"Where to go when the request fails: no connection, timeout, a status outside 200-299 or a response too large. Without it the flow goes to /_error."`
}

// Bounds of the JSON block.
const (
	jsonDefaultTimeout = 10 * time.Second
	jsonMaxTimeout     = 30 * time.Second
	jsonDefaultSize    = 1 << 20
	jsonMaxSize        = 10 << 20
)

func init() {
	flows.RegisterBlock(flows.Spec{
		Type:        "json",
		Title:       "JSON",
		Category:    "Data",
		Description: "Calls an HTTP API with an optional JSON body and saves the response (parsed JSON or text) and its status; failures take on_error.",
		Primary:     "url",
		New:         func() flows.Block { return &JSON{} },
		Example: `/start:
  - text: What's your order number?
  - listen: order_id
  - json: "https://api.example.com/orders/{{ order_id }}"
    method: POST
    headers:
      Authorization: "Bearer secret-token"
    body:
      order: "{{ order_id }}"
      customer: "{{ contact.name }}"
      notify: true
    timeout: 5s
    save: order
    save_status: status
    on_error: api_down
  - text: "Your order is {{ order.state }}."
api_down:
  - text: "Sorry, I can't look up orders right now (status {{ status }})."`,
	})
}

var (
	_ flows.Enterer    = (*JSON)(nil)
	_ flows.Checker    = (*JSON)(nil)
	_ yaml.Unmarshaler = (*JSON)(nil)
)

// jsonBody is a request body: the YAML value with every text leaf replaced
// by an index into Texts. Texts is exported so that the loader's walker
// finds and compiles the templates; keeping them in one flat list keeps
// them within the walker's depth however deep the body nests.
type jsonBody struct {
	Texts []flows.Template
	root  any // map[string]any, []any, bodyText, or a number, bool or nil
}

// bodyText is a text leaf of a body: an index into jsonBody.Texts.
type bodyText int

// UnmarshalYAML decodes the block, turning the body's text leaves into
// templates.
func (b *JSON) UnmarshalYAML(n *yaml.Node) error {
	type plain JSON
	if err := n.Decode((*plain)(b)); err != nil {
		return err
	}
	b.Body = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "body" {
			body := &jsonBody{}
			root, err := body.parse(n.Content[i+1], 0)
			if err != nil {
				return err
			}
			body.root = root
			b.Body = body
		}
	}
	return nil
}

func (jb *jsonBody) parse(n *yaml.Node, depth int) (any, error) {
	if depth > 64 {
		return nil, fmt.Errorf("body nests too deep")
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, nil
		}
		return jb.parse(n.Alias, depth+1)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := jb.parse(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := jb.parse(c, depth+1)
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		return s, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err == nil {
				return v, nil
			}
		}
		var t flows.Template
		if err := t.UnmarshalYAML(n); err != nil {
			return nil, err
		}
		jb.Texts = append(jb.Texts, t)
		return bodyText(len(jb.Texts) - 1), nil
	}
	return nil, nil
}

// render builds the body's value with its templates filled in.
func (jb *jsonBody) render(r flows.Run, v any) (any, error) {
	switch x := v.(type) {
	case bodyText:
		t := &jb.Texts[x]
		// A text that is only {{ expression }} keeps the value's type.
		if parts := t.Parts(); len(parts) == 1 && parts[0].Expr != nil {
			return r.Eval(parts[0].Expr)
		}
		return r.Render(t)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := jb.render(r, e)
			if err != nil {
				return nil, err
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			rv, err := jb.render(r, e)
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	}
	return v, nil
}

// headerNameRe is the token syntax of HTTP header names.
var headerNameRe = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// Check enforces the bounds and the URL's scheme.
func (b *JSON) Check(c *flows.Check) {
	if b.Timeout.Duration > jsonMaxTimeout {
		c.Errorf(b.Timeout.Pos, "timeout %s is too long: a JSON request may take at most %s", b.Timeout.Src, jsonMaxTimeout)
	}
	if b.MaxSize < 0 || b.MaxSize > jsonMaxSize {
		c.Errorf(flows.Pos{}, "max_size %d is out of range: it is a number of bytes from 1 to %d (10 MiB)", b.MaxSize, jsonMaxSize)
	}
	if src := strings.TrimSpace(b.URL.Src); src != "" && !strings.HasPrefix(src, "{{") {
		lower := strings.ToLower(src)
		if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
			c.Errorf(b.URL.Pos, "URL %q must start with http:// or https://", src)
		}
	}
	names := make([]string, 0, len(b.Headers))
	for k := range b.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !headerNameRe.MatchString(k) {
			h := b.Headers[k]
			c.Errorf(h.Pos, "%q is not a valid header name: use letters, digits and -", k)
		}
	}
	if b.Body != nil && (b.Method == "" || b.Method == http.MethodGet) {
		c.Warnf(flows.Pos{}, "a GET request with a body: most servers ignore it; set method: POST")
	}
}

// Enter sends the request and saves the response.
func (b *JSON) Enter(r flows.Run) flows.Result {
	client := r.HTTP()
	if client == nil {
		return flows.Failf("HTTP requests are disabled in this engine")
	}
	req, err := b.request(r)
	if err != nil {
		return flows.Fail(err)
	}
	timeout := b.Timeout.Duration
	if timeout <= 0 {
		timeout = jsonDefaultTimeout
	}
	timeout = min(timeout, jsonMaxTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	status, body, reqErr := b.do(client, req.WithContext(ctx))
	if reqErr != nil && ctx.Err() != nil {
		reqErr = fmt.Errorf("%s %s: no response within %s", req.Method, req.URL.Redacted(), timeout)
	}
	if body != nil {
		if err := save(r, b.Save, parseResponse(body)); err != nil {
			return flows.Fail(err)
		}
	}
	if err := save(r, b.SaveStatus, float64(status)); err != nil {
		return flows.Fail(err)
	}
	errText := ""
	if reqErr != nil {
		errText = reqErr.Error()
	}
	if err := save(r, b.SaveError, errText); err != nil {
		return flows.Fail(err)
	}
	if reqErr == nil {
		return flows.Next()
	}
	if !b.OnError.IsZero() {
		return flows.Goto(&b.OnError)
	}
	return flows.Fail(reqErr)
}

// request renders the URL, headers and body into a request.
func (b *JSON) request(r flows.Run) (*http.Request, error) {
	raw, err := r.Render(&b.URL)
	if err != nil {
		return nil, err
	}
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("JSON block: %q is not an http or https URL", raw)
	}
	method := b.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if jb, ok := b.Body.(*jsonBody); ok && jb != nil {
		v, err := jb.render(r, jb.root)
		if err != nil {
			return nil, err
		}
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("JSON block: the body cannot be sent as JSON: %w", err)
		}
		body = bytes.NewReader(data)
	}
	// The context is attached by the caller.
	req, err := http.NewRequestWithContext(context.Background(), method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("JSON block: %w", err)
	}
	req.Header.Set("User-Agent", "Switchboard")
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for name, t := range b.Headers {
		v, err := r.Render(&t)
		if err != nil {
			return nil, err
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("JSON block: header %s contains a line break", name)
		}
		req.Header.Set(name, v)
	}
	return req, nil
}

// do performs the request. It returns the status (0 without a response),
// the body when one was read in full, and an error for anything but a
// complete 2xx response.
func (b *JSON) do(client flows.HTTPDoer, req *http.Request) (int, []byte, error) {
	max := b.MaxSize
	if max <= 0 {
		max = jsonDefaultSize
	}
	max = min(max, jsonMaxSize)
	what := req.Method + " " + req.URL.Redacted()
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, fmt.Errorf("%s: %v", what, err)
	}
	if resp == nil || resp.Body == nil {
		return 0, nil, fmt.Errorf("%s: no response", what)
	}
	defer resp.Body.Close()
	if resp.ContentLength > int64(max) {
		return resp.StatusCode, nil, fmt.Errorf("%s: the response is %d bytes, more than max_size %d", what, resp.ContentLength, max)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(max)+1))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s: reading the response: %v", what, err)
	}
	if len(data) > max {
		return resp.StatusCode, nil, fmt.Errorf("%s: the response is more than max_size %d bytes", what, max)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, data, fmt.Errorf("%s: the server answered %s", what, resp.Status)
	}
	return resp.StatusCode, data, nil
}

// parseResponse is the parsed JSON of a response body, or its text.
func parseResponse(data []byte) any {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&v); err == nil && !dec.More() {
		if _, err := dec.Token(); err == io.EOF {
			return v
		}
	}
	return string(data)
}
