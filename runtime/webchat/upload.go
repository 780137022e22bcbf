package webchat

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// Uploads: a visitor sends a file with POST /webchat/upload (multipart
// form, field "file", the visitor token as a Bearer token), gets back its
// attachment, and sends a message frame carrying it in "attachments". Files
// are kept in Config.UploadDir and served from /webchat/files/NAME.

// uploadTypes are the kinds of file visitors may send, by the type their
// content is sniffed as (never the name or the header the browser chose).
var uploadTypes = map[string]struct{ ext, kind string }{
	"image/png":       {".png", "image"},
	"image/jpeg":      {".jpg", "image"},
	"image/gif":       {".gif", "image"},
	"image/webp":      {".webp", "image"},
	"application/pdf": {".pdf", "file"},
	"text/plain":      {".txt", "file"},
}

// maxAttachments bounds the attachments of one message.
const maxAttachments = 5

var fileNameRe = regexp.MustCompile(`^[0-9a-f]{32}\.[a-z]{3,4}$`)

// filesPath is where uploaded files are served.
const filesPath = "/webchat/files/"

func (w *Webchat) upload(ctx *fasthttp.RequestCtx) {
	if w.cfg.UploadDir == "" {
		web.Error(ctx, fasthttp.StatusNotFound, "uploads_disabled", "this server does not take file uploads", nil)
		return
	}
	if !w.checkOrigin(ctx) {
		web.Error(ctx, fasthttp.StatusForbidden, "origin_not_allowed", "this page's origin may not use the web chat", nil)
		return
	}
	tok, _ := strings.CutPrefix(string(ctx.Request.Header.Peek("Authorization")), "Bearer ")
	if _, err := verifyToken(w.cfg.Secret, tok); err != nil {
		web.Error(ctx, fasthttp.StatusUnauthorized, "invalid_token", "send the visitor token of the web chat as a Bearer token", nil)
		return
	}
	fh, err := ctx.FormFile("file")
	if err != nil {
		web.Error(ctx, fasthttp.StatusBadRequest, "missing_file", `send the file as multipart form data in the field "file"`, nil)
		return
	}
	m, err := w.saveForm(fh)
	if err != nil {
		UploadError(ctx, err)
		return
	}
	web.JSON(ctx, fasthttp.StatusCreated, m)
}

// Upload errors.
var (
	ErrUploadTooLarge = errors.New("the file is too large")
	ErrUploadType     = errors.New("send an image (PNG, JPEG, GIF, WebP), a PDF or a text file")
	ErrUploadOff      = errors.New("this server does not take file uploads")
)

// UploadError answers an error of SaveUpload.
func UploadError(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, ErrUploadTooLarge):
		web.Error(ctx, fasthttp.StatusRequestEntityTooLarge, "file_too_large", err.Error(), nil)
	case errors.Is(err, ErrUploadType):
		web.Error(ctx, fasthttp.StatusUnsupportedMediaType, "file_type_not_allowed", err.Error(), nil)
	case errors.Is(err, ErrUploadOff):
		web.Error(ctx, fasthttp.StatusNotFound, "uploads_disabled", err.Error(), nil)
	default:
		web.Error(ctx, fasthttp.StatusInternalServerError, "internal", "the file could not be stored", nil)
	}
}

func (w *Webchat) saveForm(fh *multipart.FileHeader) (flows.Media, error) {
	if fh.Size > w.cfg.MaxUpload {
		return flows.Media{}, fmt.Errorf("%w: files may be at most %d bytes", ErrUploadTooLarge, w.cfg.MaxUpload)
	}
	f, err := fh.Open()
	if err != nil {
		return flows.Media{}, fmt.Errorf("%w: the file could not be read", ErrUploadType)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, w.cfg.MaxUpload+1))
	if err != nil {
		return flows.Media{}, err
	}
	return w.SaveUpload(fh.Filename, data)
}

// SaveUpload keeps a file sent in a conversation (by a visitor, or an agent
// through the API) and returns it as an attachment served at
// /webchat/files/NAME. Its type is sniffed from its content: images, PDF
// and text only.
func (w *Webchat) SaveUpload(filename string, data []byte) (flows.Media, error) {
	if w.cfg.UploadDir == "" {
		return flows.Media{}, ErrUploadOff
	}
	if int64(len(data)) > w.cfg.MaxUpload {
		return flows.Media{}, fmt.Errorf("%w: files may be at most %d bytes", ErrUploadTooLarge, w.cfg.MaxUpload)
	}
	mt, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	typ, ok := uploadTypes[mt]
	if !ok {
		return flows.Media{}, ErrUploadType
	}
	var id [16]byte
	rand.Read(id[:])
	name := hex.EncodeToString(id[:]) + typ.ext
	if err := os.MkdirAll(w.cfg.UploadDir, 0o750); err != nil {
		w.cfg.Log.Error("upload dir", "err", err)
		return flows.Media{}, err
	}
	if err := os.WriteFile(filepath.Join(w.cfg.UploadDir, name), data, 0o640); err != nil {
		w.cfg.Log.Error("upload", "err", err)
		return flows.Media{}, err
	}
	return flows.Media{URL: filesPath + name, Kind: typ.kind, Name: cleanName(filename), MIME: mt, Size: int64(len(data))}, nil
}

// cleanName keeps a file name for display: no path, no control characters,
// bounded.
func cleanName(s string) string {
	s = filepath.Base(strings.ReplaceAll(s, "\\", "/"))
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// file serves an uploaded file. Only images are shown inline; everything
// is served with its sniffed type and nosniff, so no upload runs as a page.
func (w *Webchat) file(ctx *fasthttp.RequestCtx) {
	name, _ := ctx.UserValue("name").(string)
	if w.cfg.UploadDir == "" || !fileNameRe.MatchString(name) {
		web.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such file", nil)
		return
	}
	var mt, kind string
	for t, u := range uploadTypes {
		if strings.HasSuffix(name, u.ext) {
			mt, kind = t, u.kind
		}
	}
	data, err := os.ReadFile(filepath.Join(w.cfg.UploadDir, name))
	if err != nil || mt == "" {
		web.Error(ctx, fasthttp.StatusNotFound, "not_found", "no such file", nil)
		return
	}
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.Response.Header.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if kind != "image" {
		ctx.Response.Header.Set("Content-Disposition", "attachment")
	}
	ctx.SetContentType(mt)
	ctx.SetBody(data)
}

// attachments checks the attachments of a message frame: only files this
// server stored may be attached.
func (w *Webchat) attachments(in []flows.Media) ([]flows.Media, error) {
	if len(in) > maxAttachments {
		return nil, fmt.Errorf("a message may carry at most %d attachments", maxAttachments)
	}
	out := make([]flows.Media, 0, len(in))
	for _, a := range in {
		name, ok := strings.CutPrefix(a.URL, filesPath)
		if !ok || !fileNameRe.MatchString(name) || w.cfg.UploadDir == "" {
			return nil, fmt.Errorf("attachments must be files uploaded to %s first", "/webchat/upload")
		}
		info, err := os.Stat(filepath.Join(w.cfg.UploadDir, name))
		if err != nil {
			return nil, fmt.Errorf("no uploaded file %s", name)
		}
		a.Size, a.Name = info.Size(), cleanName(a.Name)
		for t, u := range uploadTypes {
			if strings.HasSuffix(name, u.ext) {
				a.MIME, a.Kind = t, u.kind
			}
		}
		out = append(out, a)
	}
	return out, nil
}
