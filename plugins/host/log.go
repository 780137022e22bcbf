package host

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hclog "github.com/hashicorp/go-hclog"
)

// limiter is a token bucket: rate tokens a second, up to burst.
type limiter struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time

	dropped atomic.Uint64 // since the last report
	total   atomic.Uint64
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), tokens: float64(burst), now: time.Now}
}

func (l *limiter) allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return true
	}
	l.dropped.Add(1)
	l.total.Add(1)
	return false
}

// hcLogger turns go-plugin's hclog output (the plugin's log lines, parsed
// from its stderr, and go-plugin's own messages) into slog records,
// through the plugin's limiter. It implements hclog.Logger.
type hcLogger struct {
	log     *slog.Logger
	lim     *limiter
	secrets *secretSet
	name    string
	implied []any
	// binary is the plugin's executable, as go-plugin names it.
	binary string
}

var _ hclog.Logger = (*hcLogger)(nil)

func newHCLogger(log *slog.Logger, lim *limiter, secrets *secretSet) *hcLogger {
	return &hcLogger{log: log, lim: lim, secrets: secrets}
}

// secretSet holds the secret values of a plugin's configurations, so that
// a plugin that logs one anyway does not get it into the host's log.
type secretSet struct {
	v atomic.Pointer[[]string]
}

func (s *secretSet) set(values []string) { s.v.Store(&values) }

// scrubbed is an error whose message had a secret in it: the message
// without, the error itself still there for errors.Is and errors.As.
type scrubbed struct {
	err error
	msg string
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// scrubError returns err, or err with every known secret of its message
// replaced by Redacted.
func (s *secretSet) scrubError(err error) error {
	if err == nil {
		return nil
	}
	if msg, ok := s.scrub(err.Error()).(string); ok && msg != err.Error() {
		return &scrubbed{err: err, msg: msg}
	}
	return err
}

// scrub replaces every known secret in x (a string, or a value printed
// as one) with Redacted.
func (s *secretSet) scrub(x any) any {
	vs := s.v.Load()
	if vs == nil || len(*vs) == 0 {
		return x
	}
	str, ok := x.(string)
	if !ok {
		switch x.(type) {
		case nil, bool, int, int64, float64, time.Duration, time.Time:
			return x
		}
		str = fmt.Sprint(x)
	}
	out := str
	for _, v := range *vs {
		out = strings.ReplaceAll(out, v, Redacted)
	}
	if out == str {
		return x
	}
	return out
}

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (l *hcLogger) Log(level hclog.Level, msg string, args ...any) {
	lv := slogLevel(level)
	ctx := context.Background()
	if !l.log.Enabled(ctx, lv) {
		return
	}
	if !l.lim.allow() {
		return
	}
	if n := l.lim.dropped.Swap(0); n > 0 {
		l.log.Warn("plugin log lines dropped by the rate limit", "dropped", n)
	}
	attrs := make([]any, 0, len(l.implied)+len(args))
	attrs = append(attrs, l.implied...)
	for i := 0; i+1 < len(args); i += 2 {
		// go-plugin adds the plugin's own timestamp; slog has its own.
		k := args[i]
		switch k {
		case "timestamp":
			continue
		case "plugin":
			// go-plugin's own lines name the binary so; the record's
			// plugin attribute is already the plugin's name.
			if v, ok := args[i+1].(string); ok && v != "" && v == l.binary {
				k = "path"
			}
		}
		attrs = append(attrs, k, l.secrets.scrub(args[i+1]))
	}
	l.log.Log(ctx, lv, l.secrets.scrub(msg).(string), attrs...)
}

func (l *hcLogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l *hcLogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l *hcLogger) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l *hcLogger) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l *hcLogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l *hcLogger) IsTrace() bool { return l.log.Enabled(context.Background(), slogLevel(hclog.Trace)) }
func (l *hcLogger) IsDebug() bool { return l.log.Enabled(context.Background(), slog.LevelDebug) }
func (l *hcLogger) IsInfo() bool  { return l.log.Enabled(context.Background(), slog.LevelInfo) }
func (l *hcLogger) IsWarn() bool  { return l.log.Enabled(context.Background(), slog.LevelWarn) }
func (l *hcLogger) IsError() bool { return l.log.Enabled(context.Background(), slog.LevelError) }

func (l *hcLogger) ImpliedArgs() []any { return l.implied }

func (l *hcLogger) With(args ...any) hclog.Logger {
	n := *l
	n.implied = append(append([]any(nil), l.implied...), args...)
	return &n
}

func (l *hcLogger) Name() string { return l.name }

// Named keeps the plugin attribute the host already set; go-plugin names
// its logger after the binary, which the record names anyway.
func (l *hcLogger) Named(name string) hclog.Logger {
	n := *l
	if n.name == "" {
		n.name = name
	} else {
		n.name += "." + name
	}
	return &n
}

func (l *hcLogger) ResetNamed(name string) hclog.Logger {
	n := *l
	n.name = name
	return &n
}

// SetLevel is ignored: the slog handler decides.
func (l *hcLogger) SetLevel(hclog.Level) {}

func (l *hcLogger) GetLevel() hclog.Level {
	switch {
	case l.IsTrace():
		return hclog.Trace
	case l.IsDebug():
		return hclog.Debug
	case l.IsInfo():
		return hclog.Info
	case l.IsWarn():
		return hclog.Warn
	}
	return hclog.Error
}

func (l *hcLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(opts), "", 0)
}

func (l *hcLogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return &lineWriter{fn: func(s string) { l.Info(s) }}
}

// lineWriter calls fn with each complete line written to it.
type lineWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	fn  func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			if w.buf.Len() > 64<<10 { // a line that never ends
				w.fn(w.buf.String())
				w.buf.Reset()
			}
			return len(p), nil
		}
		line := strings.TrimRight(string(w.buf.Next(i+1)), "\r\n")
		if line != "" {
			w.fn(line)
		}
	}
}
