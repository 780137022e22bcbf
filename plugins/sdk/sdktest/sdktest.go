// Package sdktest runs a plugin in-process through the real plugin
// protocol (go-plugin's gRPC server and client, as the host uses them) and
// checks it against a fake provider server on loopback, in the manner of
// courier's handler tests:
//
//   - RunIncoming: webhook requests → the HTTP answer, the inbound messages
//     and the delivery receipts the plugin makes of them;
//   - RunOutgoing: outbound messages → the requests the plugin makes to the
//     provider (method, path, headers, JSON body), answered by mocks;
//   - RunMedia: attachment URLs → the requests the plugin makes to fetch
//     them, and the file it hands over (sdk.MediaFetcher);
//   - a mock the plugin did not call fails its case, and so does a request
//     no mock expected;
//   - the configuration's secrets must not appear in what the plugin logs.
//
// For anything else, Start gives a Plugin to call directly.
package sdktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"

	"github.com/switchboard-bots/switchboard/plugins/internal/client"
	"github.com/switchboard-bots/switchboard/plugins/internal/wire"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/plugins/sdk/internal/testhook"
)

// CallTimeout bounds every call a test makes to the plugin.
var CallTimeout = 10 * time.Second

// Plugin is a plugin served in-process, connected as the host connects.
type Plugin struct {
	conn *client.Conn
	logs *syncBuffer
}

// Start serves impl (a sdk.Channel or a sdk.Integration) in-process and
// connects to it; both end when the test does. The SDK's logger writes
// into the Plugin's log (Logs) meanwhile, so run tests that Start plugins
// one at a time (no t.Parallel).
func Start(t testing.TB, impl any) *Plugin {
	t.Helper()
	logs := &syncBuffer{}
	restore := testhook.SetLogOutput(logs)
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	if err := testhook.Serve(ctx, impl, reattach, closed); err != nil {
		cancel()
		restore()
		t.Fatalf("sdktest: %v", err)
	}
	stop := func() {
		cancel()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Errorf("sdktest: the plugin server did not stop")
		}
		restore()
	}
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-closed:
		stop()
		t.Fatalf("sdktest: the plugin server stopped before it started")
	case <-time.After(10 * time.Second):
		stop()
		t.Fatalf("sdktest: the plugin server did not start")
	}
	// go-plugin's own reattach runner would watch this process's pid
	// forever; this one ends with the server.
	rc.ReattachFunc = func() (runner.AttachedRunner, error) { return inProcess{closed: closed, cancel: cancel}, nil }
	pc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  wire.Handshake,
		Plugins:          plugin.PluginSet{wire.PluginName: client.GRPCPlugin{}},
		Reattach:         rc,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug, Name: "host"}),
	})
	rpc, err := pc.Client()
	if err != nil {
		stop()
		t.Fatalf("sdktest: connect: %v", err)
	}
	raw, err := rpc.Dispense(wire.PluginName)
	if err != nil {
		_ = rpc.Close()
		stop()
		t.Fatalf("sdktest: dispense: %v", err)
	}
	t.Cleanup(func() {
		// Closing the client shuts the server down through go-plugin's
		// controller; cancelling ctx only after that keeps go-plugin from
		// stopping the gRPC server twice at once (a data race in it).
		_ = rpc.Close()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
		}
		stop()
		pc.Kill()
		if t.Failed() {
			t.Logf("plugin log:\n%s", logs.String())
		}
	})
	return &Plugin{conn: raw.(*client.Conn), logs: logs}
}

type inProcess struct {
	closed chan struct{}
	cancel context.CancelFunc
}

func (r inProcess) Wait(ctx context.Context) error {
	select {
	case <-r.closed:
	case <-ctx.Done():
	}
	return nil
}
func (r inProcess) Kill(context.Context) error { r.cancel(); return nil }
func (r inProcess) ID() string                 { return "in-process" }
func (r inProcess) PluginToHost(n, a string) (string, string, error) {
	return n, a, nil
}
func (r inProcess) HostToPlugin(n, a string) (string, string, error) {
	return n, a, nil
}

// Logs returns everything the plugin (and go-plugin on both sides) logged
// so far.
func (p *Plugin) Logs() string { return p.logs.String() }

func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), CallTimeout)
}

// ChannelManifest reads a channel plugin's manifest as the host does.
func (p *Plugin) ChannelManifest() (sdk.ChannelManifest, error) {
	ctx, cancel := callCtx()
	defer cancel()
	m, _, err := p.conn.ChannelManifest(ctx)
	return m, err
}

// Configure configures an instance of a channel plugin.
func (p *Plugin) Configure(instance string, config json.RawMessage) error {
	ctx, cancel := callCtx()
	defer cancel()
	return p.conn.ConfigureChannel(ctx, instance, config)
}

// HandleWebhook hands a request to a channel plugin.
func (p *Plugin) HandleWebhook(instance string, r *sdk.WebhookRequest) (*sdk.WebhookResult, error) {
	ctx, cancel := callCtx()
	defer cancel()
	return p.conn.HandleWebhook(ctx, instance, r)
}

// Send sends a message through a channel plugin. A failure is a
// *sdk.Error.
func (p *Plugin) Send(instance string, m *sdk.OutboundMessage) (string, error) {
	ctx, cancel := callCtx()
	defer cancel()
	return p.conn.Send(ctx, instance, m)
}

// Receive runs a polling channel's receive stream until ctx is done,
// acknowledging each event with fn's verdict.
func (p *Plugin) Receive(ctx context.Context, instance string, fn func(context.Context, sdk.Received) error) error {
	return p.conn.Receive(ctx, instance, fn)
}

// FetchMedia downloads an attachment through a channel plugin that
// implements sdk.MediaFetcher, as the host does (at most 25 MiB), and
// returns the whole file. A failure is a *sdk.Error, a URL the plugin
// refused is sdk.ErrUnknownMedia (errors.Is), and a plugin that does not
// fetch media says so.
func (p *Plugin) FetchMedia(instance, url string) ([]byte, sdk.MediaInfo, error) {
	ctx, cancel := callCtx()
	defer cancel()
	r, info, err := p.conn.FetchMedia(ctx, instance, url, 0)
	if err != nil {
		return nil, info, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return b, info, err
}

// IntegrationManifest reads an integration plugin's manifest.
func (p *Plugin) IntegrationManifest() (sdk.IntegrationManifest, error) {
	ctx, cancel := callCtx()
	defer cancel()
	return p.conn.IntegrationManifest(ctx)
}

// ConfigureIntegration configures an integration plugin.
func (p *Plugin) ConfigureIntegration(config json.RawMessage) error {
	ctx, cancel := callCtx()
	defer cancel()
	return p.conn.ConfigureIntegration(ctx, config)
}

// Invoke runs an integration's action. conv goes to the plugin as it is,
// InvocationID too: set it as the runtime would (one per call, the same
// for a retry) to test that the plugin passes it on or de-duplicates by
// it.
func (p *Plugin) Invoke(action string, params json.RawMessage, conv sdk.Conversation) (json.RawMessage, error) {
	ctx, cancel := callCtx()
	defer cancel()
	return p.conn.Invoke(ctx, action, params, conv)
}

// CheckSecrets fails the test when one of secrets appears in the plugin's
// log or in texts (answers, error messages). The secret itself is not
// printed.
func (p *Plugin) CheckSecrets(t testing.TB, secrets []string, texts ...string) {
	t.Helper()
	all := p.Logs() + "\n" + strings.Join(texts, "\n")
	for i, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(all, s) {
			t.Errorf("secret #%d (%d characters, starting %q) appears in the plugin's log or answers", i+1, len(s), s[:min(2, len(s))])
		}
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*syncBuffer)(nil)

// jsonEqual compares two JSON texts as values.
func jsonEqual(a, b []byte) (bool, error) {
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		return false, fmt.Errorf("not JSON: %w", err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		return false, fmt.Errorf("not JSON: %w", err)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb), nil
}

func canonical(b []byte) string {
	var x any
	if json.Unmarshal(b, &x) != nil {
		return string(b)
	}
	out, _ := json.Marshal(x)
	return string(out)
}

// loopback checks that a fake provider listens on loopback only.
func loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return errors.New("sdktest: the fake provider must listen on loopback, not " + strconv.Quote(host))
	}
	return nil
}
