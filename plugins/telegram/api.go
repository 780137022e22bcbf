package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// callTimeout bounds every Bot API call but getUpdates, which gets
// pollTimeout more.
const callTimeout = 10 * time.Second

// apiResponse is the Bot API's envelope: {"ok": true, "result": …} or
// {"ok": false, "error_code": 429, "description": "…", "parameters":
// {"retry_after": 5}}.
type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// call calls a Bot API method with a JSON body and decodes its result into
// out (unless nil). Errors are *sdk.Error: 429 is retryable after
// parameters.retry_after, 5xx and network failures are retryable, any
// other refusal (400 bad request, 403 blocked by the user, 401 bad token)
// is final. The token is part of every URL, so no error carries a URL.
func (t *Telegram) call(ctx context.Context, c config, method string, params any, out any, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := json.Marshal(params)
	if err != nil {
		return sdk.Final(fmt.Errorf("telegram %s: %v", method, err))
	}
	u := strings.TrimRight(c.APIURL, "/") + "/bot" + c.Token + "/" + method
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return sdk.Final(fmt.Errorf("telegram %s: bad request", method))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.http.Do(req)
	if err != nil {
		return sdk.Retryable(fmt.Errorf("telegram %s: %s", method, scrub(err, c.Token)), 0)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return sdk.Retryable(fmt.Errorf("telegram %s: reading the answer: %s", method, scrub(err, c.Token)), 0)
	}
	var r apiResponse
	jsonErr := json.Unmarshal(b, &r)
	if resp.StatusCode == http.StatusOK && jsonErr == nil && r.OK {
		if out != nil {
			if err := json.Unmarshal(r.Result, out); err != nil {
				return sdk.Final(fmt.Errorf("telegram %s: unexpected result: %v", method, err))
			}
		}
		return nil
	}
	code := r.ErrorCode
	if code == 0 {
		code = resp.StatusCode
	}
	desc := r.Description
	if desc == "" {
		desc = http.StatusText(resp.StatusCode)
	}
	err = fmt.Errorf("telegram %s: %d %s", method, code, strings.ReplaceAll(desc, c.Token, "[token]"))
	switch {
	case code == http.StatusTooManyRequests:
		after := time.Duration(r.Parameters.RetryAfter) * time.Second
		if after == 0 {
			if n, e := strconv.Atoi(resp.Header.Get("Retry-After")); e == nil && n > 0 {
				after = time.Duration(n) * time.Second
			}
		}
		return sdk.Retryable(err, after)
	case code >= 500 || resp.StatusCode >= 500:
		return sdk.Retryable(err, 0)
	default:
		return sdk.Final(err)
	}
}

// scrub gives a transport error's text without the URL (which holds the
// token), and without the token should it appear anyway.
func scrub(err error, token string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return strings.ReplaceAll(err.Error(), token, "[token]")
}
