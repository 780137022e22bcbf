package main

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

var _ sdk.MediaFetcher = (*Telegram)(nil)

// downloadTimeout bounds a file's download, reading included (the host
// bounds it too).
const downloadTimeout = 2 * time.Minute

var (
	// fileIDRe is a file_id: Telegram's are URL-safe base64.
	fileIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,512}$`)
	// filePathRe is a file_path getFile may give ("photos/file_7.jpg"):
	// relative, so that the download stays on the Bot API server.
	filePathRe = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)
)

// tgFile is the Bot API's File.
type tgFile struct {
	FileID   string `json:"file_id"`
	FileSize int64  `json:"file_size"`
	FilePath string `json:"file_path"`
}

// FetchMedia downloads a file the channel received, by its reference
// (telegram-file:{file_id}): getFile gives the file's path, and the file
// comes from the Bot API's file endpoint ({api_url}/file/bot{token}/{path}).
// Any other URL is refused without a call. Telegram lets bots download
// files up to 20 MB.
func (t *Telegram) FetchMedia(ctx context.Context, instance, url string) (io.ReadCloser, sdk.MediaInfo, error) {
	id, ok := strings.CutPrefix(url, fileURLPrefix)
	if !ok || !fileIDRe.MatchString(id) {
		return nil, sdk.MediaInfo{}, fmt.Errorf("%w: not a %s{file_id} reference", sdk.ErrUnknownMedia, fileURLPrefix)
	}
	c, err := t.config(instance)
	if err != nil {
		return nil, sdk.MediaInfo{}, err
	}
	var f tgFile
	if err := t.call(ctx, c, "getFile", map[string]string{"file_id": id}, &f, callTimeout); err != nil {
		return nil, sdk.MediaInfo{}, err
	}
	if !filePathRe.MatchString(f.FilePath) || strings.Contains("/"+f.FilePath+"/", "/../") || strings.Contains("/"+f.FilePath+"/", "/./") {
		// No path (a file over 20 MB), or a local Bot API server's
		// absolute one: not for download.
		return nil, sdk.MediaInfo{}, sdk.Final(fmt.Errorf("telegram getFile: the file %s has no path to download it by", id))
	}
	ctx, cancel := context.WithTimeout(ctx, downloadTimeout)
	u := strings.TrimRight(c.APIURL, "/") + "/file/bot" + c.Token + "/" + f.FilePath
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, sdk.MediaInfo{}, sdk.Final(fmt.Errorf("telegram file download: bad request"))
	}
	resp, err := t.http.Do(req)
	if err != nil {
		cancel()
		return nil, sdk.MediaInfo{}, sdk.Retryable(fmt.Errorf("telegram file download: %s", scrub(err, c.Token)), 0)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		err := fmt.Errorf("telegram file download: %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		return nil, sdk.MediaInfo{}, sdk.StatusError(resp, err)
	}
	info := sdk.MediaInfo{ContentType: contentType(resp.Header.Get("Content-Type"), f.FilePath), Name: path.Base(f.FilePath), Size: max(resp.ContentLength, 0)}
	return sdk.CloseFunc(resp.Body, cancel), info, nil
}

// extTypes are the types of the extensions Telegram's file paths have that
// Go's own table (mime.TypeByExtension) may not know on every system.
var extTypes = map[string]string{
	".oga": "audio/ogg", ".ogg": "audio/ogg", ".mp3": "audio/mpeg", ".m4a": "audio/mp4",
	".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
}

// contentType is the download's type as the server says it, or, when it
// says none or only application/octet-stream (as Telegram's file server
// does for most files), the type of the file name's extension.
func contentType(header, name string) string {
	if t, _, err := mime.ParseMediaType(header); err == nil && t != "application/octet-stream" {
		return header
	}
	ext := strings.ToLower(path.Ext(name))
	if t, ok := extTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return header
}
