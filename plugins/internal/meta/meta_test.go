package meta

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

func TestValidSignature(t *testing.T) {
	body := []byte(`{"object":"page"}`)
	good := Sign(body, "s")
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{good, true},
		{Sign(body, "other"), false},
		{good[len("sha256="):], false}, // no prefix
		{"sha1=" + good[len("sha256="):], false},
		{"sha256=zz", false},
		{"", false},
	} {
		if got := ValidSignature(tc.header, body, "s"); got != tc.want {
			t.Errorf("ValidSignature(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	graph := func(code int) []byte {
		return []byte(`{"error": {"message": "m", "type": "OAuthException", "code": ` + strconv.Itoa(code) + `}}`)
	}
	for _, tc := range []struct {
		status    int
		header    http.Header
		body      []byte
		retryable bool
		after     time.Duration
		code      int
	}{
		{429, http.Header{"Retry-After": {"7"}}, nil, true, 7 * time.Second, 0},
		{400, nil, graph(130429), true, DefaultRetryAfter, 130429},
		{400, nil, graph(80007), true, DefaultRetryAfter, 80007},
		{400, nil, graph(613), true, DefaultRetryAfter, 613},
		{500, nil, graph(1), true, 0, 1},
		{503, nil, []byte("<html>"), true, 0, 0},
		{400, nil, graph(131047), false, 0, 131047},
		{400, nil, graph(131026), false, 0, 131026},
		{400, nil, graph(100), false, 0, 100},
		{403, nil, graph(10), false, 0, 10},
		{400, nil, graph(551), false, 0, 551},
		{401, nil, graph(190), false, 0, 190},
	} {
		err := Classify(tc.status, tc.header, tc.body)
		var se *sdk.Error
		var ce *CodeError
		if !errors.As(err, &se) || !errors.As(err, &ce) {
			t.Fatalf("Classify(%d, %s) = %v", tc.status, tc.body, err)
		}
		if se.Retryable != tc.retryable || se.RetryAfter != tc.after || ce.Code != tc.code {
			t.Errorf("Classify(%d, %s) = %v: retryable %v after %v code %d", tc.status, tc.body, err, se.Retryable, se.RetryAfter, ce.Code)
		}
	}
}
