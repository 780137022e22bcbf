package host

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/switchboard-bots/switchboard/plugins/internal/client"
	"github.com/switchboard-bots/switchboard/plugins/internal/wire"
	"github.com/switchboard-bots/switchboard/plugins/sdk"
)

// proc is one launched plugin process.
type proc struct {
	pc   *plugin.Client
	conn *client.Conn
	pid  int
	// schemas are its manifest's, which calls to it are checked against.
	schemas *schemas
}

// errPermanent marks a launch failure that retrying cannot fix.
type errPermanent struct{ error }

func (e errPermanent) Unwrap() error { return e.error }

// managed is one plugin binary and its supervisor. The supervisor
// goroutine (run) owns the process: it alone launches and kills it. Calls
// take the current process under mu.
type managed struct {
	h    *Host
	path string
	sum  []byte
	log  *slog.Logger
	lim  *limiter
	// secrets are the secret values of the configurations applied, kept
	// out of the plugin's forwarded log lines.
	secrets secretSet

	firstDone chan struct{} // closed after the first launch attempt
	done      chan struct{} // closed when run returns
	kick      chan struct{} // a call failed at the transport: check soon

	mu       sync.Mutex
	status   Status
	cur      *proc
	ready    chan struct{} // closed when cur is set; replaced when it is cleared
	channelM sdk.ChannelManifest
	integM   sdk.IntegrationManifest
	features client.Features
	// schemas are the last manifest's, kept for the next launch: a
	// restart compiles only schemas that changed.
	schemas *schemas
	// instances are the channel instances' configurations, applied again
	// after a restart; integConfig is an integration's.
	instances   map[string]json.RawMessage
	integConfig json.RawMessage
	hasConfig   bool
}

func newManaged(h *Host, e entry) *managed {
	base := filepath.Base(e.path)
	log := h.log.With("plugin", base)
	m := &managed{
		h: h, path: e.path, sum: e.sum, log: log,
		lim:       newLimiter(h.cfg.LogRate, h.cfg.LogBurst),
		firstDone: make(chan struct{}),
		done:      make(chan struct{}),
		kick:      make(chan struct{}, 1),
		ready:     make(chan struct{}),
		instances: map[string]json.RawMessage{},
		status:    Status{Name: base, Path: e.path, State: StateStarting},
	}
	return m
}

func (m *managed) kind() Kind {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status.Kind
}

func (m *managed) statusCopy() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status
	s.LogDrops = m.lim.total.Load()
	return s
}

func (m *managed) setState(st State, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.status.State = st
	if err != nil {
		m.status.LastError = err.Error()
	}
}

// run is the supervisor: launch, watch, kill, back off, again, until ctx
// ends (Close) or the plugin has failed for good.
func (m *managed) run(ctx context.Context) {
	defer close(m.done)
	first := true
	firstDone := func() {
		if first {
			first = false
			close(m.firstDone)
		}
	}
	defer firstDone()
	cfg := &m.h.cfg
	backoff := cfg.MinBackoff
	failures := 0
	for {
		p, err := m.launch(ctx)
		if ctx.Err() != nil {
			if p != nil {
				m.stop(p)
			}
			m.setState(StateStopped, nil)
			return
		}
		if err != nil {
			failures++
			m.log.Error("plugin failed to start", "error", err, "failures", failures)
			var perm errPermanent
			if errors.As(err, &perm) || failures >= cfg.MaxFailures {
				m.setState(StateFailed, err)
				firstDone()
				return
			}
			m.setState(StateRestarting, err)
			firstDone()
			if !sleep(ctx, backoff) {
				m.setState(StateStopped, nil)
				return
			}
			backoff = min(backoff*2, cfg.MaxBackoff)
			continue
		}
		launched := time.Now()
		m.up(p)
		firstDone()
		reason := m.watch(ctx, p)
		m.down(reason)
		m.stop(p)
		if reason == nil || ctx.Err() != nil {
			m.setState(StateStopped, nil)
			return
		}
		m.log.Warn("plugin restarting", "reason", reason)
		if time.Since(launched) >= cfg.StableAfter {
			failures, backoff = 0, cfg.MinBackoff
		}
		failures++
		if failures >= cfg.MaxFailures {
			m.setState(StateFailed, fmt.Errorf("%w; gave up after %d failures in a row", reason, failures))
			return
		}
		m.mu.Lock()
		m.status.Restarts++
		m.mu.Unlock()
		if !sleep(ctx, backoff) {
			m.setState(StateStopped, nil)
			return
		}
		backoff = min(backoff*2, cfg.MaxBackoff)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// up makes p the process calls go to.
func (m *managed) up(p *proc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cur = p
	m.status.State = StateRunning
	m.status.PID = p.pid
	close(m.ready)
	m.log.Info("plugin running", "name", m.status.Name, "version", m.status.Version, "kind", m.status.Kind, "pid", p.pid)
}

// down takes the process away from calls; they wait for the next one. A
// nil reason: the host is closing.
func (m *managed) down(reason error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cur = nil
	m.ready = make(chan struct{})
	m.status.State = StateRestarting
	m.status.PID = 0
	if reason != nil {
		m.status.LastError = reason.Error()
	}
}

// launch starts the binary and brings it to the point where calls can go
// to it: handshake, kind, manifest, and every known configuration applied.
func (m *managed) launch(ctx context.Context) (_ *proc, err error) {
	cfg := &m.h.cfg
	if m.sum != nil {
		// go-plugin checks it too, at start; checking here first tells a
		// wrong binary (permanent) from a launch failure.
		if err := checkSum(m.path, m.sum); err != nil {
			return nil, errPermanent{err}
		}
	}
	cmd := exec.Command(m.path)
	level := "info"
	if m.log.Enabled(context.Background(), slog.LevelDebug) {
		level = "debug"
	}
	cmd.Env = append(m.h.env(), wire.EnvHostPID+"="+strconv.Itoa(os.Getpid()), wire.EnvLogLevel+"="+level)
	var secure *plugin.SecureConfig
	if m.sum != nil {
		secure = &plugin.SecureConfig{Checksum: m.sum, Hash: sha256.New()}
	}
	hl := newHCLogger(m.log, m.lim, &m.secrets)
	hl.binary = cmd.Path
	pc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  wire.Handshake,
		Plugins:          plugin.PluginSet{wire.PluginName: client.GRPCPlugin{}},
		Cmd:              cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     cfg.StartTimeout,
		Logger:           hl,
		SyncStdout:       &lineWriter{fn: func(s string) { hl.Info(s, "stream", "stdout") }},
		SyncStderr:       &lineWriter{fn: func(s string) { hl.Info(s, "stream", "stderr") }},
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(wire.MaxMessageSize), grpc.MaxCallSendMsgSize(wire.MaxMessageSize))},
	})
	p := &proc{pc: pc}
	defer func() {
		if err != nil {
			m.stop(p)
		}
	}()
	rpc, err := pc.Client()
	if err != nil {
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			return nil, errPermanent{err}
		}
		return nil, err
	}
	if rc := pc.ReattachConfig(); rc != nil {
		p.pid = rc.Pid
	}
	raw, err := rpc.Dispense(wire.PluginName)
	if err != nil {
		return nil, err
	}
	p.conn = raw.(*client.Conn)

	sctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	kind, _, err := p.conn.Describe(sctx)
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	var name, version string
	var cm sdk.ChannelManifest
	var im sdk.IntegrationManifest
	var features client.Features
	switch kind {
	case client.KindChannel:
		cm, features, err = p.conn.ChannelManifest(sctx)
		name, version = cm.Name, cm.Version
	case client.KindIntegration:
		im, err = p.conn.IntegrationManifest(sctx)
		name, version = im.Name, im.Version
	}
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if name == "" {
		return nil, errPermanent{errors.New("the manifest has no name")}
	}
	m.mu.Lock()
	prevKind, prevName, seen := m.status.Kind, m.status.Name, m.status.Version != "" || m.status.Kind != ""
	prevSchemas := m.schemas
	m.mu.Unlock()
	if seen && (prevKind != Kind(kind) || prevName != name) {
		// The binary was replaced by another plugin while running.
		return nil, errPermanent{fmt.Errorf("the plugin is now %s %q, was %s %q", kind, name, prevKind, prevName)}
	}
	configSchema, actions := cm.ConfigSchema, []sdk.Action(nil)
	if kind == client.KindIntegration {
		configSchema, actions = im.ConfigSchema, im.Actions
	}
	// A schema that does not compile could check nothing: the plugin
	// breaks its own contract, and is not used.
	if p.schemas, err = compileSchemas(prevSchemas, configSchema, actions); err != nil {
		return nil, errPermanent{fmt.Errorf("manifest: %w", err)}
	}
	if err := m.h.register(m, name); err != nil {
		return nil, errPermanent{err}
	}
	m.mu.Lock()
	m.status.Name, m.status.Version, m.status.Kind = name, version, Kind(kind)
	m.channelM, m.integM, m.features, m.schemas = cm, im, features, p.schemas
	instances := make([]string, 0, len(m.instances))
	for k := range m.instances {
		instances = append(instances, k)
	}
	configs := m.instances
	integConfig, hasConfig := m.integConfig, m.hasConfig
	m.mu.Unlock()

	// Configure again what the previous process had, as far as its
	// manifest (which may be new) still allows.
	sort.Strings(instances)
	for _, inst := range instances {
		if err := p.schemas.checkConfig(configs[inst]); err != nil {
			m.log.Error("a configuration the plugin had taken does not match its schema now; not applied", "instance", inst, "error", err)
			continue
		}
		if err := p.conn.ConfigureChannel(sctx, inst, configs[inst]); err != nil {
			if sdk.IsRetryable(err) {
				return nil, fmt.Errorf("configure %s: %w", inst, err)
			}
			m.log.Error("plugin refused a configuration it had taken", "instance", inst, "error", err)
		}
	}
	if hasConfig {
		if err := p.schemas.checkConfig(integConfig); err != nil {
			m.log.Error("the configuration the plugin had taken does not match its schema now; not applied", "error", err)
		} else if err := p.conn.ConfigureIntegration(sctx, integConfig); err != nil {
			if sdk.IsRetryable(err) {
				return nil, fmt.Errorf("configure: %w", err)
			}
			m.log.Error("plugin refused a configuration it had taken", "error", err)
		}
	}
	return p, nil
}

func checkSum(path string, want []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := h.Sum(nil); string(got) != string(want) {
		return fmt.Errorf("%s: SHA-256 %x, want %x", path, got, want)
	}
	return nil
}

// watch returns why p has to go: it exited, failed its health checks, or
// hung; or nil when ctx ends.
func (m *managed) watch(ctx context.Context, p *proc) error {
	cfg := &m.h.cfg
	health := time.NewTicker(cfg.HealthInterval)
	defer health.Stop()
	// Exited is a cheap read; poll it often so a crash is noticed fast.
	exit := time.NewTicker(100 * time.Millisecond)
	defer exit.Stop()
	var soon <-chan time.Time
	failed := 0
	// busy is what the last check saw running: after a failed or timed-out
	// call, the checks go on while calls run (the plugin's clock may not
	// yet count the call overdue), at most rechecks times.
	var busy int64
	const rechecks = 10
	again := 0
	check := func() error {
		busy = 0
		if p.pc.Exited() {
			return errors.New("plugin exited")
		}
		pctx, cancel := context.WithTimeout(ctx, cfg.HealthTimeout)
		inFlight, overdue, err := p.conn.Ping(pctx, cfg.OverdueAfter)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if p.pc.Exited() {
			return errors.New("plugin exited")
		}
		if err != nil {
			failed++
			if failed >= cfg.HealthFailures {
				return fmt.Errorf("%d health checks failed: %w", failed, err)
			}
			return nil
		}
		failed = 0
		if overdue > 0 {
			return fmt.Errorf("plugin hung: %d calls running past their deadline", overdue)
		}
		busy = inFlight
		return nil
	}
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-exit.C:
			if p.pc.Exited() {
				err = errors.New("plugin exited")
			}
		case <-health.C:
			err = check()
		case <-m.kick:
			// A call just failed or timed out: look again once a call
			// that ignored its deadline would count as overdue.
			soon, again = time.After(cfg.OverdueAfter+100*time.Millisecond), 0
		case <-soon:
			soon = nil
			err = check()
			if err == nil && busy > 0 && again < rechecks {
				again++
				soon = time.After(cfg.OverdueAfter + 100*time.Millisecond)
			}
		}
		if err != nil {
			return err
		}
	}
}

// stop ends p: gracefully, then by force after KillTimeout.
func (m *managed) stop(p *proc) {
	done := make(chan struct{})
	go func() { // ends when go-plugin's Kill does, bounded by the force kill below
		defer close(done)
		p.pc.Kill()
	}()
	select {
	case <-done:
		return
	case <-time.After(m.h.cfg.KillTimeout):
	}
	m.log.Warn("plugin did not stop in time; killing it", "pid", p.pid)
	killPID(p.pid)
	<-done
}

// forceKill kills the current process at once (Close out of time).
func (m *managed) forceKill() {
	m.mu.Lock()
	p := m.cur
	m.mu.Unlock()
	if p != nil {
		killPID(p.pid)
	}
}

func killPID(pid int) {
	if pid <= 0 {
		return
	}
	if pr, err := os.FindProcess(pid); err == nil {
		_ = pr.Kill()
	}
}

// errDown is returned to calls while no process runs.
func (m *managed) errDown() error {
	m.mu.Lock()
	st := m.status
	m.mu.Unlock()
	if st.State == StateStopped {
		return &sdk.Error{Err: ErrClosed, Retryable: true}
	}
	msg := fmt.Sprintf("plugin %s is %s", st.Name, st.State)
	if st.LastError != "" {
		msg += ": " + st.LastError
	}
	return &sdk.Error{Err: errors.New(msg), Retryable: true}
}

// conn waits for a running process, until ctx ends.
func (m *managed) conn(ctx context.Context) (*proc, error) {
	for {
		m.mu.Lock()
		p, ready, st := m.cur, m.ready, m.status.State
		m.mu.Unlock()
		if p != nil {
			return p, nil
		}
		if st == StateFailed || st == StateStopped {
			return nil, m.errDown()
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, m.errDown()
		}
	}
}

// call runs fn on the running process, bounded by CallTimeout. A call that
// failed at the transport gets the process checked at once.
func call[T any](ctx context.Context, m *managed, fn func(context.Context, *proc) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, m.h.cfg.CallTimeout)
	defer cancel()
	p, err := m.conn(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	res, err := fn(ctx, p)
	m.checkAfter(err)
	return res, err
}

// checkAfter gets the process checked soon when err is a call that failed
// at the transport.
func (m *managed) checkAfter(err error) {
	var te *client.TransportError
	if errors.As(err, &te) {
		select {
		case m.kick <- struct{}{}:
		default:
		}
	}
}

// updateSecrets recomputes the secret values of the configurations the
// plugin holds, from its manifest's secret pointers.
func (m *managed) updateSecrets() {
	m.mu.Lock()
	var values []string
	for _, c := range m.instances {
		values = append(values, secretValues(c, m.channelM.Secrets)...)
	}
	if m.hasConfig {
		values = append(values, secretValues(m.integConfig, m.integM.Secrets)...)
	}
	m.mu.Unlock()
	m.secrets.set(values)
}
