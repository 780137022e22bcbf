package sdk

import (
	"net/http"
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
