package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/meta"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

var _ sdk.MediaFetcher = (*WhatsApp)(nil)

// downloadTimeout bounds a media download, reading included (the host
// bounds it too).
const downloadTimeout = 2 * time.Minute

var (
	// mediaIDRe is a media id: Meta's ids are numbers.
	mediaIDRe = regexp.MustCompile(`^[0-9]{1,64}$`)
	// versionDirRe is the version of a Graph API path ("/v21.0/"): a media
	// URL stored under another version than the one configured now is
	// still the channel's own.
	versionDirRe = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/$`)
)

// mediaURL is the part the channel reads of the Graph API's answer to a
// GET of a media id ({"messaging_product", "url", "mime_type", "sha256",
// "file_size", "id"}): a download URL valid for a few minutes. The size
// is taken from the download itself, which is exact.
type mediaURL struct {
	URL      string `json:"url"`
	MIMEType string `json:"mime_type"`
}

// FetchMedia downloads a media file the channel received, by its URL as
// stored ({graph_url}/{media-id}): a GET of the media id with the access
// token answers a short-lived download URL, which is fetched with the
// token too. Only the media id of the URL is used, against the configured
// graph_url, and a URL of another host, or one that is not a media id's,
// is refused without a call: the access token goes to the Graph API and to
// the download URL it gives, nowhere else.
func (w *WhatsApp) FetchMedia(ctx context.Context, instance, raw string) (io.ReadCloser, sdk.MediaInfo, error) {
	c, err := w.config(instance)
	if err != nil {
		return nil, sdk.MediaInfo{}, err
	}
	id, ok := mediaID(c.GraphURL, raw)
	if !ok {
		return nil, sdk.MediaInfo{}, fmt.Errorf("%w: not a media URL of %s", sdk.ErrUnknownMedia, c.GraphURL)
	}
	ctx, cancel := context.WithTimeout(ctx, downloadTimeout)
	info, dl, err := w.mediaURL(ctx, c, id)
	if err != nil {
		cancel()
		return nil, sdk.MediaInfo{}, err
	}
	body, size, err := w.download(ctx, c, dl)
	if err != nil {
		cancel()
		return nil, sdk.MediaInfo{}, err
	}
	info.Size = size
	return sdk.CloseFunc(body, cancel), info, nil
}

// mediaID returns the media id of a URL of the channel's form: the
// configured graph_url's scheme and host, its path or any version's, and
// a media id.
func mediaID(graphURL, raw string) (string, bool) {
	g, err := url.Parse(graphURL)
	if err != nil {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != g.Scheme || u.Host != g.Host || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	dir, id := path.Split(u.Path)
	if !mediaIDRe.MatchString(id) || (dir != g.Path+"/" && !versionDirRe.MatchString(dir)) {
		return "", false
	}
	return id, true
}

// mediaURL asks the Graph API for a media id's download URL. The phone
// number id makes Meta refuse a media id of another number.
func (w *WhatsApp) mediaURL(ctx context.Context, c config, id string) (sdk.MediaInfo, *url.URL, error) {
	u := c.GraphURL + "/" + id + "?phone_number_id=" + url.QueryEscape(c.PhoneNumberID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return sdk.MediaInfo{}, nil, sdk.Final(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.AccessToken)
	resp, err := w.client.Do(req)
	if err != nil {
		return sdk.MediaInfo{}, nil, sdk.Retryable(fmt.Errorf("graph API media %s: %w", id, sdk.WithoutURL(err)), 0)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return sdk.MediaInfo{}, nil, sdk.Retryable(fmt.Errorf("graph API media %s: reading the answer: %w", id, sdk.WithoutURL(err)), 0)
	}
	if resp.StatusCode >= 300 {
		return sdk.MediaInfo{}, nil, meta.Classify(resp.StatusCode, resp.Header, b)
	}
	var m mediaURL
	if err := json.Unmarshal(b, &m); err != nil {
		return sdk.MediaInfo{}, nil, sdk.Final(fmt.Errorf("graph API media %s: unexpected answer: %v", id, err))
	}
	dl, err := url.Parse(m.URL)
	g, _ := url.Parse(c.GraphURL)
	// The token goes with the download: over TLS (or as the configured
	// Graph API is reached, for a test's server), to a host, no one's
	// credentials in the URL.
	if err != nil || (dl.Scheme != "https" && dl.Scheme != g.Scheme) || dl.Host == "" || dl.User != nil {
		return sdk.MediaInfo{}, nil, sdk.Final(fmt.Errorf("graph API media %s: the answer has no download URL", id))
	}
	return sdk.MediaInfo{ContentType: m.MIMEType}, dl, nil
}

// download GETs a download URL with the access token and returns the body
// and its size (0: unknown).
func (w *WhatsApp) download(ctx context.Context, c config, dl *url.URL) (io.ReadCloser, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, dl.String(), nil)
	if err != nil {
		return nil, 0, sdk.Final(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.AccessToken)
	resp, err := w.files.Do(req)
	if err != nil {
		// The URL is the file's signed link: named by its host only.
		return nil, 0, sdk.Retryable(fmt.Errorf("media download from %s: %w", dl.Host, sdk.WithoutURL(err)), 0)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err := fmt.Errorf("media download from %s: HTTP %d", dl.Host, resp.StatusCode)
		// 404: the link expired (it lasts minutes) or the media is gone
		// (Meta keeps it 30 days): final.
		return nil, 0, sdk.StatusError(resp, err)
	}
	return resp.Body, max(resp.ContentLength, 0), nil
}
