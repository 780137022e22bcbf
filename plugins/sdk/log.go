package sdk

import (
	"io"
	"os"
	"sync"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/switchboard-bots/switchboard/plugins/internal/wire"
)

// hostStderr is the process's standard error as it was at start: the pipe
// the host reads plugin logs from. go-plugin later points os.Stderr
// elsewhere, so it is taken before that.
var hostStderr = os.Stderr

// logOutput is where Logger writes; sdktest swaps it for a buffer.
var logOutput = &swapWriter{w: hostStderr}

type swapWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *swapWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (s *swapWriter) swap(w io.Writer) (restore func()) {
	s.mu.Lock()
	old := s.w
	s.w = w
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.w = old
		s.mu.Unlock()
	}
}

var (
	loggerOnce sync.Once
	logger     hclog.Logger
)

// Logger returns the plugin's logger. Its lines go to the host, which
// logs them under the plugin's name at their level (rate-limited: log what
// an operator needs, not every request). Never log a secret or a whole
// configuration.
func Logger() hclog.Logger {
	loggerOnce.Do(func() {
		level := hclog.LevelFromString(os.Getenv(wire.EnvLogLevel))
		if level == hclog.NoLevel {
			level = hclog.Info
		}
		logger = hclog.New(&hclog.LoggerOptions{
			Level:      level,
			Output:     logOutput,
			JSONFormat: true,
		})
	})
	return logger
}
