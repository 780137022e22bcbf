package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/sdktest"
)

const (
	sid       = "AC0123456789abcdef0123456789abcdef"
	authToken = "tw-auth-t0ken-never-logged"
	from      = "+15005550006"
	msgPath   = "/2010-04-01/Accounts/" + sid + "/Messages.json"
)

// conf is a configuration against the API at api; "" leaves api_url out,
// as a configuration for the real Twilio does (the manifest's schema
// wants a URL where it is given).
func conf(api string) json.RawMessage {
	if api == "" {
		return json.RawMessage(`{"account_sid": "` + sid + `", "auth_token": "` + authToken + `", "from": "` + from + `"}`)
	}
	return json.RawMessage(`{"account_sid": "` + sid + `", "auth_token": "` + authToken + `", "from": "` + from + `", "api_url": "` + api + `"}`)
}

// created is Twilio's answer to a new message (201, trimmed).
const created = `{"account_sid": "` + sid + `", "api_version": "2010-04-01", "body": "Someone is waiting in the support queue",
 "direction": "outbound-api", "error_code": null, "error_message": null, "from": "` + from + `", "num_segments": "1",
 "sid": "SM1234567890abcdef1234567890abcdef", "status": "queued", "to": "+14155552671"}`

func TestSMSSend(t *testing.T) {
	p := sdktest.Start(t, New())
	prov := sdktest.NewProvider(t)
	if err := p.ConfigureIntegration(conf(prov.URL)); err != nil {
		t.Fatal(err)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(sid+":"+authToken))
	var texts []string
	for _, c := range []struct {
		label          string
		params         string
		mocks          []sdktest.Mock
		want           string
		wantErr        string
		wantRetryable  bool
		wantRetryAfter time.Duration
	}{
		{
			label:  "an SMS",
			params: `{"to": "+14155552671", "text": "Someone is waiting in the support queue"}`,
			mocks: []sdktest.Mock{{
				Path:   msgPath,
				Header: map[string]string{"Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"},
				Body:   url.Values{"To": {"+14155552671"}, "From": {from}, "Body": {"Someone is waiting in the support queue"}}.Encode(),
				Status: 201, Response: created,
			}},
			want: `{"sid": "SM1234567890abcdef1234567890abcdef", "status": "queued"}`,
		},
		{
			label:  "rate limited",
			params: `{"to": "+14155552671", "text": "hi"}`,
			mocks: []sdktest.Mock{{
				Path: msgPath, Status: 429, ResponseHeader: map[string]string{"Retry-After": "12"},
				Response: `{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}`,
			}},
			wantErr: "code 20429", wantRetryable: true, wantRetryAfter: 12 * time.Second,
		},
		{
			label:   "Twilio is down",
			params:  `{"to": "+14155552671", "text": "hi"}`,
			mocks:   []sdktest.Mock{{Path: msgPath, Status: 500, Response: `{"code": 20500, "message": "Internal Server Error", "status": 500}`}},
			wantErr: "twilio error 500", wantRetryable: true,
		},
		{
			label:  "an invalid number",
			params: `{"to": "+1555", "text": "hi"}`,
			mocks: []sdktest.Mock{{
				Path: msgPath, Status: 400,
				Response: `{"code": 21211, "message": "The 'To' number +1555 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`,
			}},
			wantErr: "code 21211",
		},
		{label: "no text", params: `{"to": "+14155552671", "text": " "}`, wantErr: "to and text are required"},
		{label: "too long", params: `{"to": "+14155552671", "text": "` + strings.Repeat("a", 1601) + `"}`, wantErr: "at most 1600"},
	} {
		t.Run(c.label, func(t *testing.T) {
			prov.Expect(c.mocks...)
			defer prov.Verify(t)
			res, err := p.Invoke("sms.send", json.RawMessage(c.params), sdk.Conversation{Bot: "support"})
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("Invoke: %v", err)
				}
				var got, want any
				_ = json.Unmarshal(res, &got)
				_ = json.Unmarshal([]byte(c.want), &want)
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				if string(g) != string(w) {
					t.Errorf("result = %s, want %s", res, c.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, c.wantErr)
			}
			texts = append(texts, err.Error())
			var se *sdk.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *sdk.Error", err)
			}
			if se.Retryable != c.wantRetryable || se.RetryAfter != c.wantRetryAfter {
				t.Errorf("retryable, after = %v, %v; want %v, %v", se.Retryable, se.RetryAfter, c.wantRetryable, c.wantRetryAfter)
			}
		})
	}
	p.CheckSecrets(t, []string{authToken}, texts...)
}

func TestManifestAndConfigure(t *testing.T) {
	p := sdktest.Start(t, New())
	m, err := p.IntegrationManifest()
	if err != nil || m.Name != "twilio" || len(m.Actions) != 1 || m.Actions[0].Name != "sms.send" {
		t.Fatalf("manifest = %+v, %v", m, err)
	}
	for _, s := range []json.RawMessage{m.ConfigSchema, m.Actions[0].Params, m.Actions[0].Result} {
		if !json.Valid(s) {
			t.Errorf("schema is not JSON: %s", s)
		}
	}
	// Invoking before any configuration is final.
	_, err = p.Invoke("sms.send", json.RawMessage(`{"to": "+14155552671", "text": "hi"}`), sdk.Conversation{})
	if err == nil || sdk.IsRetryable(err) {
		t.Errorf("unconfigured invoke = %v, want a final error", err)
	}
	for _, tc := range []struct{ config, field string }{
		{`{"account_sid": "AC1", "auth_token": "` + authToken + `", "from": "` + from + `"}`, "/account_sid"},
		{`{"account_sid": "` + sid + `", "from": "` + from + `"}`, "/auth_token"},
		{`{"account_sid": "` + sid + `", "auth_token": "` + authToken + `"}`, "/from"},
		{`{"account_sid": "` + sid + `", "auth_token": "` + authToken + `", "from": "` + from + `", "api_url": "nope"}`, "/api_url"},
		{`{"account_sid": "` + sid + `", "auth_token": "` + authToken + `", "from": "` + from + `", "token": "x"}`, ""},
	} {
		err := p.ConfigureIntegration(json.RawMessage(tc.config))
		var se *sdk.Error
		if !errors.As(err, &se) || se.Field != tc.field {
			t.Errorf("Configure(%s) = %v, want a config error at %q", tc.config, err, tc.field)
		}
	}
	if err := p.ConfigureIntegration(conf("")); err != nil {
		t.Errorf("the default api_url: %v", err)
	}
	_, err = p.Invoke("sms.call", json.RawMessage(`{}`), sdk.Conversation{})
	if err == nil || !strings.Contains(err.Error(), "unknown action") {
		t.Errorf("unknown action = %v", err)
	}
	p.CheckSecrets(t, []string{authToken})
}
