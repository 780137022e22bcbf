package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/switchboard-bots/switchboard/plugins/internal/wire"
	pb "github.com/switchboard-bots/switchboard/plugins/proto/switchboard/plugin/v1"
	"github.com/switchboard-bots/switchboard/plugins/sdk/internal/testhook"
)

// ServeChannel serves a channel plugin to the host that launched this
// process, and returns when the host closes it. Call it from main.
func ServeChannel(c Channel) {
	if c == nil {
		fatal("ServeChannel: nil Channel")
	}
	if m := c.Manifest(); m.Name == "" {
		fatal("ServeChannel: the manifest has no Name")
	}
	serve(c)
}

// ServeIntegration serves an integration plugin to the host that launched
// this process, and returns when the host closes it. Call it from main.
func ServeIntegration(i Integration) {
	if i == nil {
		fatal("ServeIntegration: nil Integration")
	}
	if m := i.Manifest(); m.Name == "" {
		fatal("ServeIntegration: the manifest has no Name")
	}
	serve(i)
}

// gcPercent is the plugin's GOGC unless the environment sets one.
const gcPercent = 400

func fatal(msg string) {
	fmt.Fprintln(hostStderr, "switchboard plugin:", msg)
	os.Exit(1)
}

func serve(impl any) {
	if os.Getenv("GOGC") == "" {
		// A plugin's heap is a few MiB, under which Go collects after
		// every 4 MiB allocated: at thousands of calls a second that is
		// dozens of collections a second. Letting the heap grow to five
		// times what is live costs little memory and a quarter of the
		// plugin's CPU under load.
		debug.SetGCPercent(gcPercent)
	}
	go watchHost(os.Getppid, alive, hostGone, time.Second)
	plugin.Serve(serveConfig(impl, nil))
}

// hostGone ends a plugin whose host has died: nobody will call it again,
// and a plugin must never outlive its host. What a poller had not handed
// over is fetched again by the next run (emit acknowledges only what the
// runtime stored).
func hostGone() {
	Logger().Warn("the host is gone; exiting")
	os.Exit(3)
}

// alive reports whether process pid exists (signal 0 checks without
// sending anything).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

// watchHost calls gone once the host that launched this process is gone.
// go-plugin itself gives a plugin no such signal (its stdin is the host's
// stdin, not a pipe that closes), so the SDK watches:
//
//   - its parent: when the host dies the process is re-parented (to init
//     or a subreaper) and getppid changes;
//   - the host's pid, passed in the environment, when the parent is not
//     the host (the plugin was started through a wrapper script, or the
//     host died before this check began): the host must stay alive.
//
// The goroutine lives as long as the process.
func watchHost(getppid func() int, alive func(int) bool, gone func(), every time.Duration) {
	parent := getppid()
	host, err := strconv.Atoi(os.Getenv(wire.EnvHostPID))
	if err != nil || host <= 0 {
		host = parent
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if getppid() != parent || (parent != host && !alive(host)) {
			gone()
			return
		}
		<-t.C
	}
}

// grpcPlugin is the go-plugin face of a plugin: the SDK serves, the host
// (plugins/host) is the client.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl any
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	c := &calls{}
	switch impl := p.impl.(type) {
	case Channel:
		pb.RegisterPluginServer(s, &pluginServer{kind: pb.Kind_KIND_CHANNEL, calls: c})
		pb.RegisterChannelServer(s, &channelServer{impl: impl, calls: c})
	case Integration:
		pb.RegisterPluginServer(s, &pluginServer{kind: pb.Kind_KIND_INTEGRATION, calls: c})
		pb.RegisterIntegrationServer(s, &integrationServer{impl: impl, calls: c})
	default:
		return fmt.Errorf("%T is neither a sdk.Channel nor a sdk.Integration", p.impl)
	}
	return nil
}

func (p *grpcPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("package sdk serves plugins; the client is plugins/host")
}

func serveConfig(impl any, test *plugin.ServeTestConfig) *plugin.ServeConfig {
	return &plugin.ServeConfig{
		HandshakeConfig: wire.Handshake,
		Plugins:         plugin.PluginSet{wire.PluginName: &grpcPlugin{impl: impl}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts,
				grpc.MaxRecvMsgSize(wire.MaxMessageSize),
				grpc.MaxSendMsgSize(wire.MaxMessageSize))...)
		},
		Logger: Logger(),
		Test:   test,
	}
}

func init() {
	testhook.Serve = func(ctx context.Context, impl any, reattach chan<- *plugin.ReattachConfig, closed chan struct{}) error {
		switch impl.(type) {
		case Channel, Integration:
		default:
			return fmt.Errorf("%T is neither a sdk.Channel nor a sdk.Integration", impl)
		}
		go plugin.Serve(serveConfig(impl, &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed}))
		return nil
	}
	testhook.SetLogOutput = func(w io.Writer) func() { return logOutput.swap(w) }
}
