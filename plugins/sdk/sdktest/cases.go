package sdktest

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// Setup is what the cases of one run share.
type Setup struct {
	// Instance is the channel instance the cases use; "" means "test".
	Instance string
	// Bot is the bot of webhook requests; "" means "bot".
	Bot string
	// Config returns the instance's configuration for the fake provider
	// at providerURL (point the plugin's API base URL there).
	Config func(providerURL string) string
	// Secrets are configuration values that must not appear in the
	// plugin's log, its webhook answers or its error messages.
	Secrets []string
}

func (s *Setup) instance() string {
	if s.Instance == "" {
		return "test"
	}
	return s.Instance
}

func (s *Setup) bot() string {
	if s.Bot == "" {
		return "bot"
	}
	return s.Bot
}

// IncomingCase is one webhook request and what the plugin must make of it.
type IncomingCase struct {
	Label string
	// Method defaults to POST; Path to /hooks/{bot}/{instance}.
	Method string
	Path   string
	Query  string
	Header map[string]string
	Body   string
	// Mocks are the provider requests the plugin makes while handling
	// the request (fetching a media URL, say).
	Mocks []Mock

	// WantStatus is the answer's status; 0 means 200.
	WantStatus int
	// WantBody, when set, is the answer's body (compared as JSON when
	// both are JSON).
	WantBody string
	// WantMessages and WantStatuses are compared in full.
	WantMessages []sdk.InboundMessage
	WantStatuses []sdk.StatusUpdate
	// WantError, when set, says HandleWebhook fails with an error
	// containing it.
	WantError string
}

// OutgoingCase is one message to send and the provider traffic it makes.
type OutgoingCase struct {
	Label string
	// Message is sent; an empty Recipient means "user-1", an empty ID
	// "msg-1".
	Message sdk.OutboundMessage
	// Mocks are the provider requests Send must make, with their answers.
	Mocks []Mock

	WantExternalID string
	// WantError, when set, says Send fails with an error containing it;
	// WantRetryable and WantRetryAfter say how.
	WantError      string
	WantRetryable  bool
	WantRetryAfter time.Duration
}

// MediaCase is one attachment to fetch (sdk.MediaFetcher) and the
// provider traffic it makes. In URL and in the mocks' responses,
// {provider} stands for the fake provider's URL (for a provider that
// answers with a download URL).
type MediaCase struct {
	Label string
	// URL is the attachment's URL as the plugin gave it (Media.URL).
	URL string
	// Mocks are the provider requests FetchMedia must make, with their
	// answers: none for a URL the plugin must refuse.
	Mocks []Mock

	// WantBody is the file's bytes and WantInfo what the plugin says of
	// it.
	WantBody string
	WantInfo sdk.MediaInfo
	// WantError, when set, says the fetch fails with an error containing
	// it; WantRetryable says how, and WantUnknown that the plugin refused
	// the URL as not its own (sdk.ErrUnknownMedia).
	WantError     string
	WantRetryable bool
	WantUnknown   bool
}

// start starts impl and a provider and configures the instance.
func start(t *testing.T, impl sdk.Channel, s Setup) (*Plugin, *Provider) {
	t.Helper()
	prov := NewProvider(t)
	p := Start(t, impl)
	cfg := "{}"
	if s.Config != nil {
		cfg = s.Config(prov.URL)
	}
	if err := p.Configure(s.instance(), json.RawMessage(cfg)); err != nil {
		t.Fatalf("configure %s: %v", s.instance(), err)
	}
	return p, prov
}

// RunIncoming runs webhook cases against impl, each as a subtest.
func RunIncoming(t *testing.T, impl sdk.Channel, s Setup, cases []IncomingCase) {
	t.Helper()
	p, prov := start(t, impl, s)
	var texts []string
	for _, c := range cases {
		t.Run(c.Label, func(t *testing.T) {
			prov.Expect(c.Mocks...)
			req := &sdk.WebhookRequest{
				Bot: s.bot(), Method: c.Method, Path: c.Path, Query: c.Query,
				Header: http.Header{}, Body: []byte(c.Body), RemoteAddr: "127.0.0.1:9",
			}
			if req.Method == "" {
				req.Method = http.MethodPost
			}
			if req.Path == "" {
				req.Path = "/hooks/" + s.bot() + "/" + s.instance()
			}
			for k, v := range c.Header {
				req.Header.Set(k, v)
			}
			res, err := p.HandleWebhook(s.instance(), req)
			defer prov.Verify(t)
			if err != nil {
				texts = append(texts, err.Error())
			}
			if c.WantError != "" {
				if err == nil || !strings.Contains(err.Error(), c.WantError) {
					t.Fatalf("error = %v, want one containing %q", err, c.WantError)
				}
				return
			}
			if err != nil {
				t.Fatalf("HandleWebhook: %v", err)
			}
			texts = append(texts, string(res.Body))
			want := c.WantStatus
			if want == 0 {
				want = http.StatusOK
			}
			if res.Status != want {
				t.Errorf("status = %d, want %d (body %s)", res.Status, want, trim(res.Body))
			}
			if c.WantBody != "" {
				if eq, err := jsonEqual(res.Body, []byte(c.WantBody)); err != nil || !eq {
					if string(res.Body) != c.WantBody {
						t.Errorf("body = %s, want %s", res.Body, c.WantBody)
					}
				}
			}
			diff(t, "messages", res.Messages, c.WantMessages)
			diff(t, "statuses", res.Statuses, c.WantStatuses)
		})
	}
	p.CheckSecrets(t, s.Secrets, texts...)
}

// RunOutgoing runs send cases against impl, each as a subtest.
func RunOutgoing(t *testing.T, impl sdk.Channel, s Setup, cases []OutgoingCase) {
	t.Helper()
	p, prov := start(t, impl, s)
	var texts []string
	for _, c := range cases {
		t.Run(c.Label, func(t *testing.T) {
			prov.Expect(c.Mocks...)
			defer prov.Verify(t)
			m := c.Message
			if m.Recipient == "" {
				m.Recipient = "user-1"
			}
			if m.ID == "" {
				m.ID = "msg-1"
			}
			id, err := p.Send(s.instance(), &m)
			if err != nil {
				texts = append(texts, err.Error())
			}
			if c.WantError == "" {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if id != c.WantExternalID {
					t.Errorf("external id = %q, want %q", id, c.WantExternalID)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.WantError) {
				t.Fatalf("error = %v, want one containing %q", err, c.WantError)
			}
			var se *sdk.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *sdk.Error", err)
			}
			if se.Retryable != c.WantRetryable {
				t.Errorf("retryable = %v, want %v", se.Retryable, c.WantRetryable)
			}
			if se.RetryAfter != c.WantRetryAfter {
				t.Errorf("retry after = %v, want %v", se.RetryAfter, c.WantRetryAfter)
			}
		})
	}
	p.CheckSecrets(t, s.Secrets, texts...)
}

func diff[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "  ", "  ")
		w, _ := json.MarshalIndent(want, "  ", "  ")
		t.Errorf("%s differ:\n  got  %s\n  want %s", what, g, w)
	}
}

// RunMedia runs fetch cases against impl, a channel that implements
// sdk.MediaFetcher, each as a subtest.
func RunMedia(t *testing.T, impl sdk.Channel, s Setup, cases []MediaCase) {
	t.Helper()
	if _, ok := impl.(sdk.MediaFetcher); !ok {
		t.Fatalf("sdktest: %T does not implement sdk.MediaFetcher", impl)
	}
	p, prov := start(t, impl, s)
	var texts []string
	for _, c := range cases {
		t.Run(c.Label, func(t *testing.T) {
			mocks := make([]Mock, len(c.Mocks))
			for i, m := range c.Mocks {
				m.Response = strings.ReplaceAll(m.Response, "{provider}", prov.URL)
				mocks[i] = m
			}
			prov.Expect(mocks...)
			defer prov.Verify(t)
			body, info, err := p.FetchMedia(s.instance(), strings.ReplaceAll(c.URL, "{provider}", prov.URL))
			if err != nil {
				texts = append(texts, err.Error())
			}
			if c.WantError == "" {
				if err != nil {
					t.Fatalf("FetchMedia: %v", err)
				}
				if string(body) != c.WantBody {
					t.Errorf("body = %q, want %q", trim(body), trim([]byte(c.WantBody)))
				}
				if info != c.WantInfo {
					t.Errorf("info = %+v, want %+v", info, c.WantInfo)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.WantError) {
				t.Fatalf("error = %v, want one containing %q", err, c.WantError)
			}
			var se *sdk.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *sdk.Error", err)
			}
			if se.Retryable != c.WantRetryable {
				t.Errorf("retryable = %v, want %v", se.Retryable, c.WantRetryable)
			}
			if got := errors.Is(err, sdk.ErrUnknownMedia); got != c.WantUnknown {
				t.Errorf("sdk.ErrUnknownMedia = %v, want %v", got, c.WantUnknown)
			}
		})
	}
	p.CheckSecrets(t, s.Secrets, texts...)
}
