package sdk

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// A download that a first server redirects to another (the same host name
// on another port, as a storage service would be) reaches it without the
// credentials, and a chain of redirects longer than the bound is refused.
func TestDownloadClientRedirects(t *testing.T) {
	var mu sync.Mutex
	var storageAuth []string
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		storageAuth = append(storageAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path == "/loop" {
			http.Redirect(w, r, "/loop", http.StatusFound)
			return
		}
		io.WriteString(w, "the file")
	}))
	defer storage.Close()
	var apiAuth string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiAuth = r.Header.Get("Authorization")
		http.Redirect(w, r, storage.URL+r.URL.Path, http.StatusFound)
	}))
	defer api.Close()

	get := func(path string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api.URL+path, nil)
		req.Header.Set("Authorization", "Bearer secret-token")
		resp, err := DownloadClient().Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	body, err := get("/file")
	if err != nil || body != "the file" {
		t.Fatalf("download: %q, %v", body, err)
	}
	if apiAuth != "Bearer secret-token" {
		t.Fatalf("the first server got %q", apiAuth)
	}
	mu.Lock()
	if len(storageAuth) != 1 || storageAuth[0] != "" {
		t.Fatalf("the storage got the credentials: %q", storageAuth)
	}
	mu.Unlock()

	if _, err := get("/loop"); !errors.Is(err, ErrRedirectRefused) || !strings.Contains(err.Error(), "more than 3 redirects") {
		t.Fatalf("a redirect loop: %v", err)
	}
}

// A download's body ends its context once closed, and a transport error
// loses the signed URL it named.
func TestCloseFuncAndWithoutURL(t *testing.T) {
	ended := false
	body := CloseFunc(io.NopCloser(strings.NewReader("x")), func() { ended = true })
	if b, _ := io.ReadAll(body); string(b) != "x" || ended {
		t.Fatalf("read %q, ended %v", b, ended)
	}
	if err := body.Close(); err != nil || !ended {
		t.Fatalf("close: %v, ended %v", err, ended)
	}
	_, err := http.Get("http://127.0.0.1:1/file?signature=s3cr3t")
	if err == nil || !strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("the transport error should name the URL: %v", err)
	}
	if got := WithoutURL(err); strings.Contains(got.Error(), "s3cr3t") {
		t.Fatalf("WithoutURL kept the URL: %v", got)
	}
}

// TestRetryAfterAndStatusError: a provider's Retry-After in seconds or as
// a date, bounded; and which answers are worth another try.
func TestRetryAfterAndStatusError(t *testing.T) {
	for h, want := range map[string]time.Duration{
		"":                     0,
		"30":                   30 * time.Second,
		" 7 ":                  7 * time.Second,
		"0":                    0,
		"-5":                   0,
		"soon":                 0,
		"1.5":                  0,
		"999999999999":         24 * time.Hour,
		"99999999999999999999": 24 * time.Hour,
		"+30":                  0,
		"86400":                24 * time.Hour,
		time.Now().Add(-time.Minute).UTC().Format(http.TimeFormat):   0,
		time.Now().Add(50 * time.Hour).UTC().Format(http.TimeFormat): 24 * time.Hour,
	} {
		if got := RetryAfter(h); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", h, got, want)
		}
	}
	// A date two minutes ahead: about two minutes, to the second.
	if got := RetryAfter(time.Now().Add(2*time.Minute + 500*time.Millisecond).UTC().Format(http.TimeFormat)); got < 118*time.Second || got > 121*time.Second {
		t.Errorf("a date two minutes ahead: %v", got)
	}
	for code, retry := range map[int]bool{400: false, 401: false, 404: false, 408: false, 429: true, 500: true, 503: true, 302: false} {
		resp := &http.Response{StatusCode: code, Header: http.Header{"Retry-After": {"12"}}}
		err := StatusError(resp, errors.New("no"))
		var se *Error
		if !errors.As(err, &se) || se.Retryable != retry {
			t.Errorf("%d: %v, want retryable %v", code, err, retry)
			continue
		}
		if retry && se.RetryAfter != 12*time.Second {
			t.Errorf("%d: retry after %v, want 12s", code, se.RetryAfter)
		}
	}
}
