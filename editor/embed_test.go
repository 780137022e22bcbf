package editor

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"
)

// sourceInputs must match `inputs` in scripts/source-hash.mjs.
var sourceInputs = []string{"index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json", "scripts", "src", "public"}

// sourceHash is scripts/source-hash.mjs in Go: the hash of the sources
// dist/ is built from.
func sourceHash(t *testing.T, root fs.FS) string {
	t.Helper()
	var files []string
	for _, in := range sourceInputs {
		err := fs.WalkDir(root, in, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != in && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, p)
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	sort.Strings(files)
	all := sha256.New()
	for _, f := range files {
		b, err := fs.ReadFile(root, f)
		if err != nil {
			t.Fatal(err)
		}
		one := sha256.Sum256(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")))
		io.WriteString(all, f+"\x00"+hex.EncodeToString(one[:])+"\n")
	}
	return hex.EncodeToString(all.Sum(nil))
}

// TestDistFresh fails when editor/dist was not rebuilt after a change to
// the editor's sources: `make editor` rebuilds it (and the stamp).
func TestDistFresh(t *testing.T) {
	if _, err := os.Stat("src"); err != nil {
		t.Skip("the editor's sources are not here")
	}
	stamp, err := fs.ReadFile(Dist(), ".source-sha256")
	if err != nil {
		t.Fatalf("editor/dist has no .source-sha256: run `make editor` and commit editor/dist")
	}
	if got, want := sourceHash(t, os.DirFS(".")), strings.TrimSpace(string(stamp)); got != want {
		t.Fatalf("editor/dist is stale: it was built from sources with hash %s, the sources now hash to %s.\nRun `make editor` and commit editor/dist.", want, got)
	}
}

// do runs one request through a router with the handler mounted.
func do(t *testing.T, r *router.Router, method, uri string, hdr ...string) *fasthttp.Response {
	t.Helper()
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(uri)
	ctx.Request.Header.SetHost("console.test:8080")
	for i := 0; i+1 < len(hdr); i += 2 {
		ctx.Request.Header.Set(hdr[i], hdr[i+1])
	}
	r.Handler(&ctx)
	resp := &fasthttp.Response{}
	ctx.Response.CopyTo(resp)
	return resp
}

var testBundle = fstest.MapFS{
	"index.html":              {Data: []byte(`<!doctype html><script type="module" src="/console/assets/index-abc123.js"></script>`)},
	"assets/index-abc123.js":  {Data: []byte(strings.Repeat("console.log('hi');\n", 100))},
	"assets/index-abc123.css": {Data: []byte("body{}")},
	"favicon.svg":             {Data: []byte("<svg/>")},
	".source-sha256":          {Data: []byte("x\n")},
}

func testRouter(t *testing.T) *router.Router {
	t.Helper()
	h, err := New(testBundle)
	if err != nil {
		t.Fatal(err)
	}
	r := router.New()
	h.Mount(r)
	r.GET("/api/v1/x", func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("api") })
	return r
}

func TestHandler(t *testing.T) {
	r := testRouter(t)
	index := string(testBundle["index.html"].Data)
	for _, tc := range []struct {
		name, method, uri  string
		status             int
		ctype, cache, body string
	}{
		{"root", "GET", "/console/", 200, "text/html; charset=utf-8", "no-cache", index},
		{"index by name", "GET", "/console/index.html", 200, "text/html; charset=utf-8", "no-cache", index},
		{"app route", "GET", "/console/queue", 200, "text/html; charset=utf-8", "no-cache", index},
		{"deep app route", "GET", "/console/queue/ho_123?status=open", 200, "text/html; charset=utf-8", "no-cache", index},
		{"app route with a trailing slash", "GET", "/console/settings/", 200, "text/html; charset=utf-8", "no-cache", index},
		{"hashed asset", "GET", "/console/assets/index-abc123.js", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", ""},
		{"css", "GET", "/console/assets/index-abc123.css", 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body{}"},
		{"public file", "GET", "/console/favicon.svg", 200, "image/svg+xml", "public, max-age=3600", "<svg/>"},
		{"HEAD", "HEAD", "/console/queue", 200, "text/html; charset=utf-8", "no-cache", ""},
		{"missing asset", "GET", "/console/assets/index-gone.js", 404, "application/json", "no-store", ""},
		{"missing asset, no extension", "GET", "/console/assets/nothing", 404, "application/json", "no-store", ""},
		{"missing file with an extension", "GET", "/console/logo.png", 404, "application/json", "no-store", ""},
		{"build stamp is not served", "GET", "/console/.source-sha256", 404, "application/json", "no-store", ""},
		{"escape attempt", "GET", "/console/../api/v1/x", 404, "application/json", "no-store", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(t, r, tc.method, tc.uri)
			if resp.StatusCode() != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode(), tc.status, resp.Body())
			}
			if tc.ctype != "" && string(resp.Header.ContentType()) != tc.ctype {
				t.Errorf("Content-Type %q, want %q", resp.Header.ContentType(), tc.ctype)
			}
			if tc.cache != "" && string(resp.Header.Peek("Cache-Control")) != tc.cache {
				t.Errorf("Cache-Control %q, want %q", resp.Header.Peek("Cache-Control"), tc.cache)
			}
			if tc.body != "" && string(resp.Body()) != tc.body {
				t.Errorf("body %q, want %q", resp.Body(), tc.body)
			}
			if tc.status == 200 && tc.ctype != "" {
				if string(resp.Header.Peek("X-Content-Type-Options")) != "nosniff" {
					t.Error("no X-Content-Type-Options: nosniff")
				}
				csp := string(resp.Header.Peek("Content-Security-Policy"))
				for _, want := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self' ws://console.test:8080 wss://console.test:8080", "frame-ancestors 'none'", "object-src 'none'"} {
					if !strings.Contains(csp, want) {
						t.Errorf("CSP %q lacks %q", csp, want)
					}
				}
				if strings.Contains(csp, "unsafe") || strings.Contains(csp, "*") {
					t.Errorf("CSP %q is not strict", csp)
				}
			}
		})
	}
}

func TestHandlerRedirectsBase(t *testing.T) {
	r := testRouter(t)
	resp := do(t, r, "GET", "/console?x=1")
	if loc := string(resp.Header.Peek("Location")); resp.StatusCode()/100 != 3 || !strings.HasSuffix(loc, "/console/?x=1") {
		t.Fatalf("GET /console: %d Location %q, want a redirect to /console/?x=1", resp.StatusCode(), loc)
	}
}

func TestHandlerGzipAndETag(t *testing.T) {
	r := testRouter(t)
	js := testBundle["assets/index-abc123.js"].Data
	resp := do(t, r, "GET", "/console/assets/index-abc123.js", "Accept-Encoding", "br, gzip")
	if string(resp.Header.Peek("Content-Encoding")) != "gzip" {
		t.Fatalf("no gzip: Content-Encoding %q", resp.Header.Peek("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(resp.Body()))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if !bytes.Equal(got, js) {
		t.Fatal("gzipped body differs from the file")
	}
	if resp := do(t, r, "GET", "/console/assets/index-abc123.js", "Accept-Encoding", "gzip;q=0"); resp.Header.Peek("Content-Encoding") != nil || !bytes.Equal(resp.Body(), js) {
		t.Fatal("gzip sent although refused")
	}
	etag := string(resp.Header.Peek("ETag"))
	if etag == "" {
		t.Fatal("no ETag")
	}
	if resp := do(t, r, "GET", "/console/assets/index-abc123.js", "If-None-Match", etag); resp.StatusCode() != fasthttp.StatusNotModified || len(resp.Body()) != 0 {
		t.Fatalf("If-None-Match: %d, want 304 without a body", resp.StatusCode())
	}
}

func TestCSPRejectsOddHosts(t *testing.T) {
	for host, want := range map[string]string{
		"127.0.0.1:8080":     "connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;",
		"[::1]:8080":         "connect-src 'self' ws://[::1]:8080 wss://[::1]:8080;",
		"evil; script-src *": "connect-src 'self';",
		"a b":                "connect-src 'self';",
	} {
		if got := CSP(host); !strings.Contains(got, want) {
			t.Errorf("CSP(%q) = %q, want it to contain %q", host, got, want)
		}
	}
}

func TestNewNeedsIndex(t *testing.T) {
	if _, err := New(fstest.MapFS{"assets/a.js": {Data: []byte("x")}}); err == nil {
		t.Fatal("a bundle without index.html was accepted")
	}
}

// TestEmbeddedBundle checks the committed bundle: index.html is served
// and every asset it names is there with its type.
func TestEmbeddedBundle(t *testing.T) {
	r := router.New()
	Mount(r)
	resp := do(t, r, "GET", "/console/")
	if resp.StatusCode() != 200 {
		t.Fatalf("GET /console/: %d %s", resp.StatusCode(), resp.Body())
	}
	refs := regexp.MustCompile(`(?:src|href)="(/console/[^"]+)"`).FindAllStringSubmatch(string(resp.Body()), -1)
	if len(refs) < 2 {
		t.Fatalf("index.html names %d files, want the script and the stylesheet at least:\n%s", len(refs), resp.Body())
	}
	for _, ref := range refs {
		a := do(t, r, "GET", ref[1])
		if a.StatusCode() != 200 {
			t.Errorf("%s: %d", ref[1], a.StatusCode())
		}
		if want := contentType(path.Base(ref[1])); string(a.Header.ContentType()) != want {
			t.Errorf("%s: Content-Type %q, want %q", ref[1], a.Header.ContentType(), want)
		}
	}
	// The app renders text as text.
	err := fs.WalkDir(os.DirFS("src"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(os.DirFS("src"), p)
		if err == nil && bytes.Contains(b, []byte("dangerouslySetInnerHTML")) {
			t.Errorf("src/%s uses dangerouslySetInnerHTML: render text as text", p)
		}
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
}
