package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

var _ sdk.MediaFetcher = (*SMS)(nil)

// downloadTimeout bounds a media download, reading included (the host
// bounds it too). Twilio answers a media URL with a redirect to the file's
// storage, which sdk.DownloadClient follows without the credentials.
const downloadTimeout = 2 * time.Minute

var (
	// messageSIDRe is an MMS's (MM…) or SMS's (SM…) SID; mediaSIDRe a
	// media file's (ME…).
	messageSIDRe = regexp.MustCompile(`^[A-Z]{2}[0-9a-fA-F]{32}$`)
	mediaSIDRe   = regexp.MustCompile(`^ME[0-9a-fA-F]{32}$`)
)

// FetchMedia downloads an MMS's media file by its MediaUrlN as Twilio gave
// it ({api_url}/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}),
// with the account SID and auth token as basic auth: Twilio requires them
// when "HTTP Basic Authentication for media access" is on, and answers
// with a redirect to the file's storage, which is followed without them.
// A URL of another host or account, or of another form, is refused
// without a call: the credentials go to the configured API only.
func (s *SMS) FetchMedia(ctx context.Context, instance, raw string) (io.ReadCloser, sdk.MediaInfo, error) {
	c, err := s.config(instance)
	if err != nil {
		return nil, sdk.MediaInfo{}, err
	}
	u, ok := mediaURL(c, raw)
	if !ok {
		return nil, sdk.MediaInfo{}, fmt.Errorf("%w: not a media URL of the account on the configured Twilio API", sdk.ErrUnknownMedia)
	}
	ctx, cancel := context.WithTimeout(ctx, downloadTimeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, sdk.MediaInfo{}, sdk.Final(errors.New("twilio media download: bad request"))
	}
	req.SetBasicAuth(c.AccountSID, c.AuthToken)
	resp, err := s.files.Do(req)
	if err != nil {
		cancel()
		if errors.Is(err, sdk.ErrRedirectRefused) {
			return nil, sdk.MediaInfo{}, sdk.Final(fmt.Errorf("twilio media download: %w", sdk.WithoutURL(err)))
		}
		return nil, sdk.MediaInfo{}, sdk.Retryable(fmt.Errorf("twilio media download: %w", sdk.WithoutURL(err)), 0)
	}
	if resp.StatusCode != http.StatusOK {
		defer cancel()
		defer resp.Body.Close()
		return nil, sdk.MediaInfo{}, downloadError(resp)
	}
	info := sdk.MediaInfo{ContentType: resp.Header.Get("Content-Type"), Size: max(resp.ContentLength, 0)}
	return sdk.CloseFunc(resp.Body, cancel), info, nil
}

// mediaURL returns the URL to fetch for raw when it is a media URL of the
// instance's account on the configured API (scheme, host and path), built
// from the configuration and the two SIDs only.
func mediaURL(c config, raw string) (string, bool) {
	api, err := url.Parse(strings.TrimRight(c.APIURL, "/"))
	if err != nil {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != api.Scheme || !strings.EqualFold(u.Host, api.Host) || u.User != nil ||
		u.RawPath != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", false
	}
	rest, ok := strings.CutPrefix(u.Path, api.Path+"/2010-04-01/Accounts/")
	if !ok {
		return "", false
	}
	p := strings.Split(rest, "/")
	if len(p) != 5 || !strings.EqualFold(p[0], c.AccountSID) || p[1] != "Messages" || !messageSIDRe.MatchString(p[2]) ||
		p[3] != "Media" || !mediaSIDRe.MatchString(p[4]) {
		return "", false
	}
	return strings.TrimRight(c.APIURL, "/") + "/2010-04-01/Accounts/" + c.AccountSID + "/Messages/" + p[2] + "/Media/" + p[4], true
}

// downloadError is a download's failure: Twilio's 404 (the media was
// deleted, or belongs to no message of the account) and other 4xx are
// final, 429 and 5xx retryable. It names the answering host, not the URL
// (a storage URL is signed), and Twilio's error code when the API says
// one.
func downloadError(resp *http.Response) error {
	msg := fmt.Sprintf("twilio media download from %s: HTTP %d", resp.Request.URL.Host, resp.StatusCode)
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &e) == nil && e.Code != 0 {
		msg += fmt.Sprintf(" (code %d): %s", e.Code, e.Message)
	}
	err := errors.New(msg)
	return sdk.StatusError(resp, err)
}
