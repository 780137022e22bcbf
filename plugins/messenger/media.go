package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

var _ sdk.MediaFetcher = (*Messenger)(nil)

const (
	// downloadTimeout bounds an attachment's download, reading included
	// (the host bounds it too).
	downloadTimeout = 2 * time.Minute
)

// cdnDomains are the domains of Facebook's CDN that attachment payload
// URLs are on (scontent*.xx.fbcdn.net, lookaside.fbsbx.com,
// cdn.fbsbx.com).
var cdnDomains = []string{"fbcdn.net", "fbsbx.com"}

// FetchMedia downloads an attachment the channel received, by its payload
// URL: a signed URL of Facebook's CDN, which needs no token, so none is
// sent. Only https URLs of hosts under fbcdn.net and fbsbx.com are fetched
// (and of the configured cdn_url, set by tests only), a redirect too;
// anything else is refused without a request.
func (ms *Messenger) FetchMedia(ctx context.Context, instance, raw string) (io.ReadCloser, sdk.MediaInfo, error) {
	c, err := ms.config(instance)
	if err != nil {
		return nil, sdk.MediaInfo{}, err
	}
	u, err := url.Parse(raw)
	if err != nil || !c.cdnURL(u) {
		return nil, sdk.MediaInfo{}, fmt.Errorf("%w: not an https URL of Facebook's CDN (fbcdn.net, fbsbx.com)", sdk.ErrUnknownMedia)
	}
	ctx, cancel := context.WithTimeout(ctx, downloadTimeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, sdk.MediaInfo{}, sdk.Final(errors.New("messenger attachment download: bad request"))
	}
	hc := &http.Client{Transport: ms.files.Transport, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		switch {
		case len(via) > sdk.MaxDownloadRedirects:
			return fmt.Errorf("%w: more than %d redirects", sdk.ErrRedirectRefused, sdk.MaxDownloadRedirects)
		case !c.cdnURL(req.URL):
			// Named by its host only: a CDN URL is signed.
			return fmt.Errorf("%w: redirected to %s://%s, not Facebook's CDN", sdk.ErrRedirectRefused, req.URL.Scheme, req.URL.Host)
		}
		return nil
	}}
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		if errors.Is(err, sdk.ErrRedirectRefused) {
			return nil, sdk.MediaInfo{}, sdk.Final(fmt.Errorf("messenger attachment download from %s: %w", u.Host, sdk.WithoutURL(err)))
		}
		return nil, sdk.MediaInfo{}, sdk.Retryable(fmt.Errorf("messenger attachment download from %s: %w", u.Host, sdk.WithoutURL(err)), 0)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		// The CDN's 403 ("URL signature expired") and 404: the link is
		// too old or the file gone; asking again will not help.
		err := fmt.Errorf("messenger attachment download from %s: HTTP %d", resp.Request.URL.Host, resp.StatusCode)
		return nil, sdk.MediaInfo{}, sdk.StatusError(resp, err)
	}
	info := sdk.MediaInfo{ContentType: resp.Header.Get("Content-Type"), Size: max(resp.ContentLength, 0)}
	return sdk.CloseFunc(resp.Body, cancel), info, nil
}

// cdnURL reports whether the channel fetches u: an https URL, on the
// default port, of a host under one of cdnDomains; or, when cdn_url is
// set, a URL of its scheme and host under its path. No URL with
// credentials.
func (c config) cdnURL(u *url.URL) bool {
	if u.User != nil || u.Host == "" || u.Opaque != "" {
		return false
	}
	if c.CDNURL != "" {
		if b, err := url.Parse(c.CDNURL); err == nil && u.Scheme == b.Scheme && strings.EqualFold(u.Host, b.Host) &&
			strings.HasPrefix(u.Path, b.Path+"/") && !strings.Contains(u.Path+"/", "/../") && !strings.Contains(u.Path+"/", "/./") {
			return true
		}
	}
	if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") {
		return false
	}
	h := strings.ToLower(u.Hostname())
	for _, d := range cdnDomains {
		if strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}
