package sdk

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTPClient returns an HTTP client for calling a provider: every request
// bounded by timeout (0: none, the caller's context bounds it), and enough
// idle connections kept per host for the runtime's concurrent sends (Go's
// default keeps two, so busier plugins would open and close a connection
// per message).
func HTTPClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Timeout: timeout, Transport: t}
}

// MaxDownloadRedirects bounds the redirects DownloadClient follows.
const MaxDownloadRedirects = 3

// DownloadClient returns an HTTP client for downloading a file with
// credentials (an attachment for FetchMedia): no timeout of its own (bound
// each request with its context), at most MaxDownloadRedirects redirects,
// none from https to http or to a URL with credentials in it, and the
// Authorization header only ever sent to the first request's scheme, host
// and port. Go's own client keeps Authorization on a redirect to the same
// host name on another port, or to a subdomain; this one does not. A
// refused redirect fails the request with an error wrapping
// ErrRedirectRefused.
func DownloadClient() *http.Client {
	hc := HTTPClient(0)
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		switch {
		case len(via) > MaxDownloadRedirects:
			return fmt.Errorf("%w: more than %d redirects", ErrRedirectRefused, MaxDownloadRedirects)
		case req.URL.Scheme != "https" && req.URL.Scheme != first.Scheme:
			return fmt.Errorf("%w: to %s, not https", ErrRedirectRefused, req.URL.Scheme)
		case req.URL.User != nil:
			return fmt.Errorf("%w: to a URL with credentials", ErrRedirectRefused)
		}
		if req.URL.Scheme != first.Scheme || !strings.EqualFold(req.URL.Host, first.Host) {
			req.Header.Del("Authorization")
		}
		return nil
	}
	return hc
}

// ErrRedirectRefused is a redirect DownloadClient would not follow.
var ErrRedirectRefused = errors.New("redirect refused")

// CloseFunc returns body that also calls fn once closed: for a FetchMedia
// download whose context must last until the runtime has read the body
// (fn cancels it).
func CloseFunc(body io.ReadCloser, fn func()) io.ReadCloser {
	return &closeFunc{ReadCloser: body, fn: fn}
}

type closeFunc struct {
	io.ReadCloser
	fn func()
}

func (c *closeFunc) Close() error {
	err := c.ReadCloser.Close()
	c.fn()
	return err
}

// WithoutURL returns the error a *url.Error wraps, without the URL it
// names: a download link's signature or a token in a query must not reach
// errors and logs.
func WithoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// maxRetryAfter bounds the wait a provider's Retry-After may ask for: the
// runtime's outbox waits at most a day before another try.
const maxRetryAfter = 24 * time.Hour

// RetryAfter reads a Retry-After header: delay seconds (digits only), or an
// HTTP date. It is 0 when the header is absent, malformed or in the past,
// and at most a day, whatever the provider says.
func RetryAfter(h string) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if strings.Trim(h, "0123456789") == "" {
		n, err := strconv.ParseInt(h, 10, 64)
		if err != nil || n > int64(maxRetryAfter/time.Second) { // too large for int64: as large as allowed
			return maxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0
	}
	return min(max(time.Until(t), 0), maxRetryAfter).Round(time.Second)
}

// StatusError classifies err, the failure of a request that got resp, an
// answer that was not a success: 429 and 5xx are retryable, after the
// answer's Retry-After; anything else is final, 408 included: for a request
// that is not idempotent, such as sending a message, the provider may have
// acted on it anyway. A caller that knows better checks for it first.
func StatusError(resp *http.Response, err error) error {
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return Retryable(err, RetryAfter(resp.Header.Get("Retry-After")))
	}
	return Final(err)
}
