package host

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/client"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// ErrNotPolling is returned by Receive for a channel that does not poll.
var ErrNotPolling = client.ErrNotPolling

// ChannelClient calls a channel plugin. It stays valid across restarts of
// the plugin: calls go to whichever process runs, and wait (within their
// timeout) while it restarts. Errors are *sdk.Error.
type ChannelClient struct {
	m *managed
}

// Name is the channel type from the manifest.
func (c *ChannelClient) Name() string { return c.m.statusCopy().Name }

// Manifest is the manifest read at the last launch.
func (c *ChannelClient) Manifest() sdk.ChannelManifest {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	return c.m.channelM
}

// Polling reports whether the channel implements Receive.
func (c *ChannelClient) Polling() bool {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	return c.m.features.Polling
}

// FetchesMedia reports whether the channel implements FetchMedia.
func (c *ChannelClient) FetchesMedia() bool {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	return c.m.features.FetchesMedia
}

// Configure sets up an instance; the host applies it again whenever the
// plugin restarts. A configuration that does not match the manifest's
// config schema is refused before the plugin sees it, with a final
// *sdk.Error whose Field is the first field at fault and whose message
// never repeats a value. An instance the plugin refuses keeps its previous
// configuration, if any.
func (c *ChannelClient) Configure(ctx context.Context, instance string, config json.RawMessage) error {
	_, err := call(ctx, c.m, func(ctx context.Context, p *proc) (struct{}, error) {
		if err := p.schemas.checkConfig(config); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, p.conn.ConfigureChannel(ctx, instance, config)
	})
	if err == nil {
		c.m.mu.Lock()
		c.m.instances[instance] = append(json.RawMessage(nil), config...)
		c.m.mu.Unlock()
		c.m.updateSecrets()
	}
	return err
}

// Unconfigure forgets an instance: it is not configured again after a
// restart.
func (c *ChannelClient) Unconfigure(instance string) {
	c.m.mu.Lock()
	delete(c.m.instances, instance)
	c.m.mu.Unlock()
	c.m.updateSecrets()
}

// HandleWebhook hands the plugin a request received for the instance.
func (c *ChannelClient) HandleWebhook(ctx context.Context, instance string, r *sdk.WebhookRequest) (*sdk.WebhookResult, error) {
	return call(ctx, c.m, func(ctx context.Context, p *proc) (*sdk.WebhookResult, error) {
		return p.conn.HandleWebhook(ctx, instance, r)
	})
}

// Send sends a message through the instance and returns the provider's
// id for it.
func (c *ChannelClient) Send(ctx context.Context, instance string, m *sdk.OutboundMessage) (string, error) {
	return call(ctx, c.m, func(ctx context.Context, p *proc) (string, error) {
		return p.conn.Send(ctx, instance, m)
	})
}

// Receive runs a polling channel's instance until ctx ends: what the
// plugin receives is handed to fn, one batch at a time, and acknowledged
// with fn's verdict (nil once stored). The stream is opened again after
// the plugin restarts. It returns ctx's error, ErrNotPolling, or the
// plugin's error once it has failed for good.
func (c *ChannelClient) Receive(ctx context.Context, instance string, fn func(context.Context, sdk.Received) error) error {
	backoff := c.m.h.cfg.MinBackoff
	for {
		p, err := c.m.conn(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return err // failed for good, or the host closed
		}
		started := time.Now()
		err = p.conn.Receive(ctx, instance, fn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, client.ErrNotPolling) {
			return err
		}
		c.m.log.Warn("receive stream ended; opening it again", "instance", instance, "error", err)
		if time.Since(started) > c.m.h.cfg.StableAfter {
			backoff = c.m.h.cfg.MinBackoff
		}
		if !sleep(ctx, backoff) {
			return ctx.Err()
		}
		backoff = min(backoff*2, c.m.h.cfg.MaxBackoff)
	}
}

// ErrNoMedia is returned by FetchMedia for a channel that does not fetch
// media; ErrMediaTooLarge is the failure of a file over
// Config.MaxMediaSize.
var (
	ErrNoMedia       = client.ErrNoMedia
	ErrMediaTooLarge = client.ErrMediaTooLarge
)

// IsTimeout reports whether err is a call that ran out of time.
func IsTimeout(err error) bool { return client.IsTimeout(err) }

// FetchMedia downloads an attachment the instance received, by its URL as
// the plugin gave it (Media.URL), through the plugin, which holds the
// credentials the download needs. It returns once the plugin has the file
// (or failed): the reader gives its bytes, exactly info.Size of them when
// that is known, and must be closed. Reading is bounded with the call by
// Config.MediaTimeout and Config.MaxMediaSize: past either it fails. A
// channel that does not fetch media gives ErrNoMedia without a call; a URL
// the plugin refuses as not its own an error that is
// sdk.ErrUnknownMedia. Error messages carry no secret of the plugin's
// configurations, should a plugin put one there.
func (c *ChannelClient) FetchMedia(ctx context.Context, instance, url string) (io.ReadCloser, sdk.MediaInfo, error) {
	if !c.FetchesMedia() {
		return nil, sdk.MediaInfo{}, ErrNoMedia
	}
	cfg := &c.m.h.cfg
	ctx, cancel := context.WithTimeout(ctx, cfg.MediaTimeout)
	p, err := c.m.conn(ctx)
	if err != nil {
		cancel()
		return nil, sdk.MediaInfo{}, err
	}
	r, info, err := p.conn.FetchMedia(ctx, instance, url, cfg.MaxMediaSize)
	if err != nil {
		cancel()
		c.m.checkAfter(err)
		return nil, info, c.m.secrets.scrubError(err)
	}
	return &media{r: r, m: c.m, cancel: cancel}, info, nil
}

// media is a download's reader: its errors scrubbed, its stream ended by
// Close.
type media struct {
	r      io.ReadCloser
	m      *managed
	cancel context.CancelFunc
}

func (d *media) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		d.m.checkAfter(err)
		err = d.m.secrets.scrubError(err)
	}
	return n, err
}

func (d *media) Close() error {
	d.cancel()
	return d.r.Close()
}

// IntegrationClient calls an integration plugin; like ChannelClient it
// stays valid across restarts.
type IntegrationClient struct {
	m *managed
}

// Name is the integration's name from the manifest.
func (c *IntegrationClient) Name() string { return c.m.statusCopy().Name }

// Manifest is the manifest read at the last launch.
func (c *IntegrationClient) Manifest() sdk.IntegrationManifest {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	return c.m.integM
}

// Configure sets the integration's configuration, applied again whenever
// the plugin restarts. It is checked against the config schema first, as
// a channel instance's is.
func (c *IntegrationClient) Configure(ctx context.Context, config json.RawMessage) error {
	_, err := call(ctx, c.m, func(ctx context.Context, p *proc) (struct{}, error) {
		if err := p.schemas.checkConfig(config); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, p.conn.ConfigureIntegration(ctx, config)
	})
	if err == nil {
		c.m.mu.Lock()
		c.m.integConfig, c.m.hasConfig = append(json.RawMessage(nil), config...), true
		c.m.mu.Unlock()
		c.m.updateSecrets()
	}
	return err
}

// Invoke runs an action; conv.InvocationID is the runtime's id of the
// call, the same on every retry of it. Parameters that do not match the
// action's params schema never reach the plugin, and a result that does
// not match its result schema is not returned: both are final errors
// that say where and what, never a value.
func (c *IntegrationClient) Invoke(ctx context.Context, action string, params json.RawMessage, conv sdk.Conversation) (json.RawMessage, error) {
	return call(ctx, c.m, func(ctx context.Context, p *proc) (json.RawMessage, error) {
		if err := p.schemas.checkParams(action, params); err != nil {
			return nil, err
		}
		res, err := p.conn.Invoke(ctx, action, params, conv)
		if err != nil {
			return nil, err
		}
		if err := p.schemas.checkResult(action, res); err != nil {
			return nil, err
		}
		return res, nil
	})
}
