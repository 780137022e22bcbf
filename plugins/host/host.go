// Package host launches and supervises the runtime's plugins: channel and
// integration binaries speaking the plugin protocol through
// hashicorp/go-plugin over gRPC with AutoMTLS.
//
// A Host discovers plugin binaries (every executable file in a folder, plus
// explicit entries that may pin a SHA-256), launches each, reads its
// manifest and then keeps it alive: one supervisor goroutine per plugin
// pings it, notices when it exits or hangs (a call still running past its
// deadline, reported by the plugin's SDK), kills it and launches it again
// with exponential backoff, configuring every channel instance again.
// Every call is bounded by a timeout. The manifest's JSON Schemas are
// compiled at launch and held to: a configuration, an action's parameters
// or its result that does not match is refused with a final error that
// says where and what, never a value (see schema.go). Plugin logs arrive
// in slog, rate-limited per plugin. Close stops them all: no plugin outlives the
// host (and a plugin whose host died exits by itself, see package sdk).
//
//	h, err := host.New(host.Config{Dir: "plugins", Log: log})
//	err = h.Start(ctx)
//	defer h.Close(ctx)
//	tg, ok := h.Channel("telegram")
//	id, err := tg.Send(ctx, "tg-main", &sdk.OutboundMessage{…})
//
// Errors from calls are *sdk.Error: Retryable says whether to try again.
// A plugin that is down answers with a retryable error.
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/wire"
)

// Config configures a Host. The zero value of every field has a safe
// default.
type Config struct {
	// Dir is the plugins folder: every executable regular file in it
	// (not in subfolders, not hidden) is a plugin. "" means none.
	Dir string
	// Plugins are explicit entries, in or out of Dir; an entry for a file
	// of Dir adds its SHA-256 pin.
	Plugins []PluginConfig
	// Env is added to the plugins' environment. Plugins do not inherit
	// the host's environment (it holds the secrets of every channel) but
	// for PATH, HOME, TMPDIR, TZ, LANG, SSL_CERT_FILE/DIR and the proxy
	// variables.
	Env []string

	// CallTimeout bounds every call to a plugin (the caller's ctx may
	// bound it further); 0 means 15s.
	CallTimeout time.Duration
	// MediaTimeout bounds a download of media (FetchMedia), reading
	// included; 0 means 1m. MaxMediaSize is the most bytes of one file
	// it takes; 0 means 25 MiB.
	MediaTimeout time.Duration
	MaxMediaSize int64
	// StartTimeout bounds a launch: process start, handshake, manifest and
	// the channel instances' configuration; 0 means 30s.
	StartTimeout time.Duration
	// HealthInterval is how often a plugin is pinged; 0 means 5s.
	// HealthTimeout bounds a ping; 0 means 2s. HealthFailures failed pings
	// in a row get the plugin restarted; 0 means 3.
	HealthInterval time.Duration
	HealthTimeout  time.Duration
	HealthFailures int
	// OverdueAfter is how long a call may run past its deadline before
	// the plugin counts as hung and is restarted; 0 means 2s.
	OverdueAfter time.Duration
	// MinBackoff and MaxBackoff bound the wait before a restart, doubled
	// after each failure in a row; 0 means 500ms and 1m.
	MinBackoff, MaxBackoff time.Duration
	// MaxFailures is how many launches or crashes in a row (each within
	// StableAfter of the last launch) mark a plugin failed for good; 0
	// means 10. StableAfter 0 means 1m.
	MaxFailures int
	StableAfter time.Duration
	// KillTimeout bounds stopping one plugin gracefully before it is
	// killed; 0 means 3s.
	KillTimeout time.Duration
	// LogRate (lines per second) and LogBurst bound each plugin's log
	// lines forwarded into Log; the rest are dropped and counted. 0 means
	// 50/s and 200.
	LogRate  float64
	LogBurst int
	// Log receives the host's and the plugins' logs; nil means
	// slog.Default().
	Log *slog.Logger
}

// PluginConfig is an explicit plugin entry.
type PluginConfig struct {
	// Path is the plugin binary.
	Path string `json:"path" yaml:"path"`
	// SHA256, when set, is the hex SHA-256 the binary must have: a binary
	// that differs is not launched.
	SHA256 string `json:"sha256,omitempty" yaml:"sha256,omitempty"`
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.CallTimeout, 15*time.Second)
	def(&c.MediaTimeout, time.Minute)
	if c.MaxMediaSize <= 0 {
		c.MaxMediaSize = wire.DefaultMaxMediaSize
	}
	def(&c.StartTimeout, 30*time.Second)
	def(&c.HealthInterval, 5*time.Second)
	def(&c.HealthTimeout, 2*time.Second)
	def(&c.OverdueAfter, 2*time.Second)
	def(&c.MinBackoff, 500*time.Millisecond)
	def(&c.MaxBackoff, time.Minute)
	def(&c.StableAfter, time.Minute)
	def(&c.KillTimeout, 3*time.Second)
	if c.HealthFailures <= 0 {
		c.HealthFailures = 3
	}
	if c.MaxFailures <= 0 {
		c.MaxFailures = 10
	}
	if c.LogRate <= 0 {
		c.LogRate = 50
	}
	if c.LogBurst <= 0 {
		c.LogBurst = 200
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = c.MinBackoff
	}
}

// Kind is what a plugin offers.
type Kind string

// Plugin kinds.
const (
	KindChannel     Kind = "channel"
	KindIntegration Kind = "integration"
)

// State is where a plugin stands.
type State string

// Plugin states.
const (
	StateStarting   State = "starting"
	StateRunning    State = "running"
	StateRestarting State = "restarting"
	// StateFailed: it failed MaxFailures times in a row, or it can never
	// work (a wrong checksum, a duplicate name); it is not tried again.
	StateFailed  State = "failed"
	StateStopped State = "stopped"
)

// Status is what Plugins reports about one plugin.
type Status struct {
	// Name, Version and Kind come from the manifest; Name is the file's
	// name until the manifest has been read.
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Kind    Kind   `json:"kind,omitempty"`
	Path    string `json:"path"`
	State   State  `json:"status"`
	// Restarts counts how often the plugin was restarted after it
	// crashed, hung or failed its health checks.
	Restarts  int    `json:"restarts"`
	LastError string `json:"last_error,omitempty"`
	// PID is the running process's id, 0 when none runs.
	PID int `json:"pid,omitempty"`
	// LogDrops counts log lines dropped by the rate limit.
	LogDrops uint64 `json:"log_drops,omitempty"`
}

// ErrClosed is returned by calls after Close.
var ErrClosed = errors.New("plugin host closed")

// Host launches and supervises plugins. New discovers them, Start launches
// them, Close stops them.
type Host struct {
	cfg     Config
	log     *slog.Logger
	plugins []*managed

	mu      sync.Mutex
	byName  map[string]*managed
	started bool
	closed  bool
	ctx     context.Context
	cancel  context.CancelFunc
}

// New discovers the plugins of cfg; it launches nothing.
func New(cfg Config) (*Host, error) {
	cfg.defaults()
	entries, err := discover(cfg.Dir, cfg.Plugins)
	if err != nil {
		return nil, err
	}
	h := &Host{cfg: cfg, log: cfg.Log, byName: map[string]*managed{}}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	for _, e := range entries {
		h.plugins = append(h.plugins, newManaged(h, e))
	}
	return h, nil
}

// Start launches every plugin and returns once each has either come up or
// failed its first launch (it is then retried in the background), or when
// ctx ends. The plugins run until Close, whatever ctx does.
func (h *Host) Start(ctx context.Context) error {
	h.mu.Lock()
	if h.started || h.closed {
		h.mu.Unlock()
		return errors.New("plugin host: Start called twice or after Close")
	}
	h.started = true
	h.mu.Unlock()
	for _, m := range h.plugins {
		go m.run(h.ctx)
	}
	for _, m := range h.plugins {
		select {
		case <-m.firstDone:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Close stops every plugin: each is asked to exit and killed after
// KillTimeout; a plugin still there when ctx ends is killed at once. Close
// returns once every supervisor has finished, or with ctx's error if some
// could not be confirmed gone.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	started := h.started
	h.mu.Unlock()
	h.cancel()
	if !started {
		return nil
	}
	all := make(chan struct{})
	go func() { // ends when the last supervisor does
		for _, m := range h.plugins {
			<-m.done
		}
		close(all)
	}()
	select {
	case <-all:
		return nil
	case <-ctx.Done():
	}
	// Out of time: no more grace for anyone.
	for _, m := range h.plugins {
		m.forceKill()
	}
	select {
	case <-all:
		return nil
	case <-time.After(2 * time.Second):
		return fmt.Errorf("plugin host: some plugins could not be confirmed stopped: %w", ctx.Err())
	}
}

// Channel returns the channel plugin of that manifest name.
func (h *Host) Channel(name string) (*ChannelClient, bool) {
	h.mu.Lock()
	m := h.byName[name]
	h.mu.Unlock()
	if m == nil || m.kind() != KindChannel {
		return nil, false
	}
	return &ChannelClient{m: m}, true
}

// Integration returns the integration plugin of that manifest name.
func (h *Host) Integration(name string) (*IntegrationClient, bool) {
	h.mu.Lock()
	m := h.byName[name]
	h.mu.Unlock()
	if m == nil || m.kind() != KindIntegration {
		return nil, false
	}
	return &IntegrationClient{m: m}, true
}

// Plugins reports every plugin, by name.
func (h *Host) Plugins() []Status {
	out := make([]Status, 0, len(h.plugins))
	for _, m := range h.plugins {
		out = append(out, m.statusCopy())
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Path < out[j].Path
	})
	return out
}

// register claims a manifest name for m; names are unique per host.
func (h *Host) register(m *managed, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if o, ok := h.byName[name]; ok && o != m {
		return fmt.Errorf("plugin name %q is taken by %s", name, o.path)
	}
	h.byName[name] = m
	return nil
}

// hostEnv are the variables of the host's environment a plugin gets.
var hostEnv = []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL", "SSL_CERT_FILE", "SSL_CERT_DIR",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"}

func (h *Host) env() []string {
	var env []string
	for _, k := range hostEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, h.cfg.Env...)
}
