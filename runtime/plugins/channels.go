// Package plugins is the runtime's side of plugin channels: the channel
// instances bots list in their files (flows.Bot.Channels), configured in
// the plugins the host runs (plugins/host); their webhooks at
// /hooks/{bot}/{channel}; the outbox's sender for them; and their pollers.
//
// A message a plugin hands over is handled by the pipeline (stored,
// de-duplicated by the channel's message id, answered) before the webhook
// is answered, so a provider that gets an error sends it again and nothing
// is lost. Outbound messages wait in the outbox until the plugin took them:
// a plugin that is down or restarting only delays them.
package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"

	"github.com/switchboard-bots/switchboard/flows"
	"github.com/switchboard-bots/switchboard/plugins/host"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
	"github.com/switchboard-bots/switchboard/runtime/channel"
	"github.com/switchboard-bots/switchboard/runtime/outbox"
	"github.com/switchboard-bots/switchboard/runtime/pipeline"
	"github.com/switchboard-bots/switchboard/runtime/store"
	"github.com/switchboard-bots/switchboard/runtime/web"
)

// Config configures Channels. Host, Pipeline (or SetPipeline) and Store are
// required.
type Config struct {
	Host     *host.Host
	Pipeline *pipeline.Pipeline
	Store    store.Store
	// Getenv fills the ${VAR}s of channel configs; nil means os.Getenv.
	Getenv func(string) string
	// HandleTimeout bounds the handling of one webhook request's
	// messages; 0 means 30s.
	HandleTimeout time.Duration
	Log           *slog.Logger
}

// Channels runs the plugin channel instances of the running bots.
type Channels struct {
	cfg Config

	mu        sync.RWMutex
	instances map[string]map[string]*instance // bot → channel name → instance
	closed    bool
	wg        sync.WaitGroup // pollers
}

// instance is one bot's channel: a configured instance of a plugin.
type instance struct {
	bot, name, typ string
	// id names the instance to the plugin: "bot/name".
	id     string
	client *host.ChannelClient
	caps   channel.Capabilities
	// config is the instance's config as the bot file has it (with its
	// ${VAR}s), to tell a changed one.
	config string
	stop   context.CancelFunc // its poller, if it polls
}

// New returns Channels; SetBots configures them.
func New(cfg Config) *Channels {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.HandleTimeout <= 0 {
		cfg.HandleTimeout = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Channels{cfg: cfg, instances: map[string]map[string]*instance{}}
}

// SetPipeline gives Channels the pipeline, when it was made after them.
func (c *Channels) SetPipeline(p *pipeline.Pipeline) { c.cfg.Pipeline = p }

// SetBots configures the channels of the running bots: new and changed
// instances are configured in their plugins, pollers started, and
// instances gone are dropped. It returns one error per channel that could
// not be set up (an unknown plugin, a missing environment variable, a
// configuration the plugin refuses); the bot's other channels run.
func (c *Channels) SetBots(ctx context.Context, bots map[string]*flows.Bot) []error {
	var errs []error
	next := map[string]map[string]*instance{}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	for _, botID := range sortedKeys(bots) {
		for _, cc := range bots[botID].Channels {
			old := c.instances[botID][cc.Name]
			raw, _ := json.Marshal(cc.Config)
			if old != nil && old.typ == cc.Type && old.config == string(raw) {
				put(next, old)
				continue
			}
			inst, err := c.configure(ctx, botID, cc, string(raw))
			if err != nil {
				errs = append(errs, fmt.Errorf("bot %s, channel %s (%s, %s:%d): %w", botID, cc.Name, cc.Type, bots[botID].File, cc.Pos.Line, err))
				if old != nil {
					put(next, old) // the working version stays
				}
				continue
			}
			if old != nil {
				c.stopInstance(old)
			}
			put(next, inst)
		}
	}
	for _, byName := range c.instances {
		for name, inst := range byName {
			if next[inst.bot][name] != inst {
				c.stopInstance(inst)
				inst.client.Unconfigure(inst.id)
			}
		}
	}
	c.instances = next
	return errs
}

func put(m map[string]map[string]*instance, inst *instance) {
	if m[inst.bot] == nil {
		m[inst.bot] = map[string]*instance{}
	}
	m[inst.bot][inst.name] = inst
}

// configure sets an instance up in its plugin and starts its poller;
// under c.mu.
func (c *Channels) configure(ctx context.Context, bot string, cc flows.ChannelConfig, raw string) (*instance, error) {
	client, ok := c.cfg.Host.Channel(cc.Type)
	if !ok {
		return nil, fmt.Errorf("no channel plugin %q is installed (see switchboard plugin list)", cc.Type)
	}
	config, _, err := cc.ExpandEnv(c.cfg.Getenv)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	inst := &instance{bot: bot, name: cc.Name, typ: cc.Type, id: bot + "/" + cc.Name, client: client,
		caps: host.Capabilities(client.Manifest().Capabilities), config: raw}
	if err := client.Configure(ctx, inst.id, body); err != nil {
		return nil, err
	}
	if client.Polling() {
		pctx, cancel := context.WithCancel(context.Background())
		inst.stop = cancel
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.poll(pctx, inst)
		}()
	}
	return inst, nil
}

func (c *Channels) stopInstance(inst *instance) {
	if inst.stop != nil {
		inst.stop()
	}
}

// Close stops the pollers.
func (c *Channels) Close(ctx context.Context) error {
	c.mu.Lock()
	c.closed = true
	for _, byName := range c.instances {
		for _, inst := range byName {
			c.stopInstance(inst)
		}
	}
	c.mu.Unlock()
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Channels) lookup(bot, name string) *instance {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.instances[bot][name]
}

// Capabilities is what the plugin channel named ch can show, for the
// channels of any bot; ok is false for a name no bot uses.
func (c *Channels) Capabilities(ch string) (channel.Capabilities, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, byName := range c.instances {
		if inst, ok := byName[ch]; ok {
			return inst.caps, true
		}
	}
	return channel.Capabilities{}, false
}

// FetchesMedia reports whether bot's channel ch is a plugin channel whose
// plugin fetches its attachments (sdk.MediaFetcher).
func (c *Channels) FetchesMedia(bot, ch string) bool {
	inst := c.lookup(bot, ch)
	return inst != nil && inst.client.FetchesMedia()
}

// FetchMedia downloads an attachment bot's channel ch received, by its URL
// as stored, through the channel's plugin, which holds the credentials it
// takes: host.ChannelClient.FetchMedia, with its bounds and errors. A
// channel that is not a plugin channel of the bot's, running, gives
// host.ErrNoMedia.
func (c *Channels) FetchMedia(ctx context.Context, bot, ch, url string) (io.ReadCloser, sdk.MediaInfo, error) {
	inst := c.lookup(bot, ch)
	if inst == nil {
		return nil, sdk.MediaInfo{}, fmt.Errorf("%w: bot %s has no plugin channel %q running", host.ErrNoMedia, bot, ch)
	}
	return inst.client.FetchMedia(ctx, inst.id, url)
}

// poll runs a polling instance's receive stream until ctx ends.
func (c *Channels) poll(ctx context.Context, inst *instance) {
	err := inst.client.Receive(ctx, inst.id, func(ctx context.Context, r sdk.Received) error {
		return c.take(ctx, inst, r.Messages, r.Statuses)
	})
	if err != nil && ctx.Err() == nil {
		c.cfg.Log.Error("plugin channel stopped receiving", "bot", inst.bot, "channel", inst.name, "err", err)
	}
}

// take hands a plugin's messages to the pipeline and its receipts to the
// store; an error means some were not stored (the plugin delivers them
// again, and de-duplication drops what was).
func (c *Channels) take(ctx context.Context, inst *instance, ms []sdk.InboundMessage, ss []sdk.StatusUpdate) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.HandleTimeout)
	defer cancel()
	for _, m := range ms {
		if m.Sender == "" {
			continue // nothing to answer: the plugin should not have sent it
		}
		_, err := c.cfg.Pipeline.Handle(ctx, pipeline.Inbound{
			Bot: inst.bot, Channel: inst.name, Sender: m.Sender, ID: m.ID, Name: m.Name,
			Content: host.ContentToFlows(m.Content),
		})
		if err != nil {
			return fmt.Errorf("message %s from %s: %w", m.ID, m.Sender, err)
		}
	}
	for _, s := range ss {
		if err := c.receipt(ctx, inst, s); err != nil {
			return err
		}
	}
	return nil
}

// receipt stores a delivery status update.
func (c *Channels) receipt(ctx context.Context, inst *instance, s sdk.StatusUpdate) error {
	m, err := c.cfg.Store.MessageByExternal(ctx, inst.name, s.ExternalID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // a receipt for a message this runtime did not send
	}
	if err != nil {
		return err
	}
	u := store.StatusUpdate{Contact: m.Contact, Seq: m.Seq, Status: string(s.Status), ExternalID: s.ExternalID, Attempts: m.Attempts, Error: s.Error}
	return c.cfg.Store.Commit(ctx, &store.Batch{ContactID: m.Contact, Updates: []store.StatusUpdate{u}})
}

// Mount adds the webhooks: any method on /hooks/{bot}/{channel} and below.
func (c *Channels) Mount(r *router.Router) {
	r.ANY("/hooks/{bot}/{channel}", c.webhook)
	r.ANY("/hooks/{bot}/{channel}/{rest:*}", c.webhook)
}

func (c *Channels) webhook(ctx *fasthttp.RequestCtx) {
	bot, _ := ctx.UserValue("bot").(string)
	name, _ := ctx.UserValue("channel").(string)
	inst := c.lookup(bot, name)
	if inst == nil {
		web.Error(ctx, fasthttp.StatusNotFound, "unknown_channel", fmt.Sprintf("bot %q has no channel %q", bot, name), nil)
		return
	}
	req := &sdk.WebhookRequest{
		Bot: bot, Method: string(ctx.Method()), Path: string(ctx.Path()), Query: string(ctx.URI().QueryString()),
		Header: http.Header{}, Body: append([]byte(nil), ctx.PostBody()...), RemoteAddr: ctx.RemoteAddr().String(),
	}
	ctx.Request.Header.VisitAll(func(k, v []byte) { req.Header.Add(string(k), string(v)) })
	rctx, cancel := context.WithTimeout(context.Background(), c.cfg.HandleTimeout)
	defer cancel()
	res, err := inst.client.HandleWebhook(rctx, inst.id, req)
	if err != nil {
		c.cfg.Log.Warn("plugin channel webhook", "bot", bot, "channel", name, "err", err)
		ctx.Response.Header.Set("Retry-After", "5")
		web.Error(ctx, fasthttp.StatusServiceUnavailable, "channel_unavailable", "the channel could not take the request: the provider should send it again", nil)
		return
	}
	if err := c.take(rctx, inst, res.Messages, res.Statuses); err != nil {
		c.cfg.Log.Warn("plugin channel webhook: not stored", "bot", bot, "channel", name, "err", err)
		ctx.Response.Header.Set("Retry-After", "5")
		web.Error(ctx, fasthttp.StatusServiceUnavailable, "unavailable", "the messages were not stored: send them again", nil)
		return
	}
	for k, vs := range res.Header {
		for _, v := range vs {
			ctx.Response.Header.Add(k, v)
		}
	}
	status := res.Status
	if status == 0 {
		status = fasthttp.StatusOK
	}
	ctx.SetStatusCode(status)
	ctx.SetBody(res.Body)
}

// Sender is the outbox's sender for plugin channels (outbox.Config.Others):
// it finds the contact's bot's instance by the message's channel, rewrites
// what the channel cannot show, and sends each part through the plugin.
func (c *Channels) Sender() outbox.Sender { return sender{c} }

type sender struct{ c *Channels }

func (s sender) Send(ctx context.Context, contact *flows.Contact, m store.Message) (string, error) {
	inst := s.c.lookup(contact.Bot, m.Channel)
	if inst == nil {
		// The bot no longer has the channel, or it failed to set up: the
		// message waits (retries) in case it comes back.
		return "", fmt.Errorf("bot %s has no channel %q running", contact.Bot, m.Channel)
	}
	var last time.Time
	if inst.caps.ReplyWindow > 0 {
		last = s.c.lastInbound(ctx, contact.ID, m.Seq)
	}
	parts := channel.Degrade(m.Content, inst.caps)
	var first string
	for i, part := range parts {
		id, err := inst.client.Send(ctx, inst.id, &sdk.OutboundMessage{
			ID:          fmt.Sprintf("%s/%d/%d", contact.ID, m.Seq, i),
			Recipient:   contact.ExternalID,
			Content:     host.ContentFromFlows(part),
			LastInbound: last,
		})
		if err != nil {
			return first, sendError(err)
		}
		if first == "" {
			first = id
		}
	}
	return first, nil
}

// lastInboundScan bounds the messages read back to find the user's last.
const lastInboundScan = 100

// lastInbound is when the contact last wrote before message seq, for
// channels with a reply window; zero when not found among the last
// lastInboundScan messages (the plugin then sends as usual and the
// provider says if the window closed).
func (c *Channels) lastInbound(ctx context.Context, contact string, seq uint64) time.Time {
	ms, _, err := c.cfg.Store.Messages(ctx, contact, store.MessageQuery{Before: strconv.FormatUint(seq, 10), Limit: lastInboundScan})
	if err != nil {
		return time.Time{}
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Direction == store.DirectionIn {
			return ms[i].Time
		}
	}
	return time.Time{}
}

// sendError turns a plugin's error into the outbox's: retryable or final
// as the plugin says, with its retry-after.
func sendError(err error) error {
	var pe *sdk.Error
	if errors.As(err, &pe) {
		return &outbox.SendError{Err: err, Retryable: pe.Retryable, RetryAfter: pe.RetryAfter}
	}
	return err // the plugin is down or timed out: retry
}

func sortedKeys(m map[string]*flows.Bot) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
