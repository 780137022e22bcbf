// Package editor holds Switchboard's web UI: the live chat console (and,
// later, the bot editor), a React + TypeScript app built with Vite from
// the sources in this folder. The built bundle in dist/ is committed and
// embedded here, so `go build` alone gives the whole product; `make
// editor` rebuilds it, and TestDistFresh fails when dist/ was not rebuilt
// after a change to the sources.
//
// Handler serves the bundle under Base (/console/): the files as built,
// index.html for every other path (the app's routes, handled in the
// browser), with the cache and security headers a console needs.
package editor

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"io/fs"
	"mime"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/runtime/web"
)

//go:embed all:dist
var dist embed.FS

// Base is where the console is served; the app is built with it as its
// base path (vite.config.ts).
const Base = "/console"

// Dist is the built bundle: index.html, assets/, and what public/ holds.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path: cannot happen
	}
	return sub
}

// file is one file of the bundle, ready to send.
type file struct {
	body, gz []byte
	ctype    string
	etag     string
	cache    string
}

// Handler serves a built bundle. Use New, or Mount for the embedded one.
type Handler struct {
	files map[string]*file
	index *file
}

// Cache policies: hashed assets never change under their name; index.html
// is checked every time so that a new build is picked up at once.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
	cacheShort      = "public, max-age=3600"
)

// New loads the bundle in fsys (which must hold index.html) into memory,
// with a gzipped copy of each text file.
func New(fsys fs.FS) (*Handler, error) {
	h := &Handler{files: map[string]*file{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != "." {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil // build stamps such as .source-sha256 are not served
		}
		if d.IsDir() {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		f := &file{body: b, ctype: contentType(p), etag: `"` + hex.EncodeToString(sum[:12]) + `"`, cache: cacheShort}
		switch {
		case p == "index.html":
			f.cache = cacheRevalidate
		case strings.HasPrefix(p, "assets/"):
			f.cache = cacheImmutable
		}
		if compressible(f.ctype) && len(b) > 512 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(b)
			zw.Close()
			if buf.Len() < len(b) {
				f.gz = buf.Bytes()
			}
		}
		h.files[p] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.index = h.files["index.html"]
	if h.index == nil {
		return nil, errors.New("the web UI bundle has no index.html: run `make editor`")
	}
	return h, nil
}

var embedded = sync.OnceValues(func() (*Handler, error) { return New(Dist()) })

// Mount adds the embedded console to r: GET and HEAD on /console/* (the
// router redirects /console to /console/). Without a usable bundle it
// answers 503 with how to build it.
func Mount(r *router.Router) {
	h, err := embedded()
	if err != nil {
		serve := func(ctx *fasthttp.RequestCtx) {
			web.Error(ctx, fasthttp.StatusServiceUnavailable, "console_not_built", err.Error(), nil)
		}
		for _, m := range []string{fasthttp.MethodGet, fasthttp.MethodHead} {
			r.Handle(m, Base+"/{path:*}", serve)
		}
		return
	}
	h.Mount(r)
}

// Mount adds h to r under Base + "/".
func (h *Handler) Mount(r *router.Router) {
	for _, m := range []string{fasthttp.MethodGet, fasthttp.MethodHead} {
		r.Handle(m, Base+"/{path:*}", h.Serve)
	}
}

// staticExt are the extensions of files a bundle has: a missing one is a
// 404, not the app (a typo in an asset URL must not answer HTML).
var staticExt = map[string]bool{
	".js": true, ".mjs": true, ".css": true, ".map": true, ".html": true, ".json": true, ".txt": true,
	".svg": true, ".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".ico": true,
	".woff": true, ".woff2": true, ".ttf": true, ".wasm": true, ".webmanifest": true,
}

// Serve answers one request under Base.
func (h *Handler) Serve(ctx *fasthttp.RequestCtx) {
	p := string(ctx.Path())
	rel, under := strings.CutPrefix(path.Clean(p), Base+"/")
	if p == Base+"/" {
		rel, under = "", true
	}
	f := h.files[rel]
	switch {
	case !under || strings.HasPrefix(rel, ".") || strings.Contains(rel, "/."):
		web.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such file: "+p, nil)
		return
	case f != nil:
	case rel == "" || !staticExt[strings.ToLower(path.Ext(rel))] && !strings.HasPrefix(rel, "assets/"):
		f = h.index // an app route: the app shows it
	default:
		web.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such file: "+p, nil)
		return
	}
	h.send(ctx, f)
}

func (h *Handler) send(ctx *fasthttp.RequestCtx, f *file) {
	hd := &ctx.Response.Header
	securityHeaders(ctx)
	hd.Set("Cache-Control", f.cache)
	hd.Set("ETag", f.etag)
	hd.Set("Vary", "Accept-Encoding")
	hd.SetContentType(f.ctype)
	if inm := string(ctx.Request.Header.Peek("If-None-Match")); inm != "" && etagMatch(inm, f.etag) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	if f.gz != nil && acceptsGzip(ctx.Request.Header.Peek("Accept-Encoding")) {
		hd.Set("Content-Encoding", "gzip")
		ctx.SetBody(f.gz)
		return
	}
	ctx.SetBody(f.body)
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func acceptsGzip(ae []byte) bool {
	for _, part := range strings.Split(string(ae), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

// hostRe is a Host header fit to go into the policy (name or [v6], port).
var hostRe = regexp.MustCompile(`^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$`)

// CSP is the Content-Security-Policy of the console for a request to
// host: everything from this server only, and the live socket on the same
// host. Images from elsewhere are shown as links by the app, so that
// opening a conversation loads nothing a customer points at.
func CSP(host string) string {
	connect := "'self'"
	if hostRe.MatchString(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; " +
		"connect-src " + connect + "; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}

func securityHeaders(ctx *fasthttp.RequestCtx) {
	hd := &ctx.Response.Header
	hd.Set("Content-Security-Policy", CSP(string(ctx.Host())))
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
}

var types = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".svg":         "image/svg+xml",
	".txt":         "text/plain; charset=utf-8",
	".ico":         "image/x-icon",
	".woff2":       "font/woff2",
	".webmanifest": "application/manifest+json",
}

func contentType(p string) string {
	ext := strings.ToLower(path.Ext(p))
	if t, ok := types[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.HasPrefix(ctype, "application/json") ||
		strings.HasPrefix(ctype, "image/svg") || strings.HasPrefix(ctype, "application/manifest")
}
