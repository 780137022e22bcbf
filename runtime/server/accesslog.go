package server

import (
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// access is one request, as the access log tells it.
type access struct {
	at       time.Time
	level    slog.Level
	method   []byte
	route    string
	path     []byte
	status   int
	duration time.Duration
	id       string
	remote   net.IP
}

// attrs are the request's attributes for a slog record.
func (a *access) attrs() []slog.Attr {
	return []slog.Attr{
		slog.String("method", string(a.method)),
		slog.String("route", a.route),
		slog.String("path", string(a.path)),
		slog.Int("status", a.status),
		slog.Duration("duration", a.duration),
		slog.String("request_id", a.id),
		slog.String("remote", a.remote.String()),
	}
}

const accessMsg = "http request"

// appendAccessLine appends a's line exactly as slog's TextHandler, with
// default options, writes it: the access log takes this path when the
// server is given the handler's writer (Config.AccessLog), and costs a
// fraction of a generic record's formatting on every request.
func appendAccessLine(b []byte, a *access) []byte {
	b = append(b, "time="...)
	b = appendRFC3339Millis(b, a.at)
	b = append(b, " level="...)
	b = append(b, a.level.String()...)
	b = append(b, " msg="...)
	b = appendLogString(b, accessMsg)
	b = append(b, " method="...)
	b = appendLogString(b, a.method)
	b = append(b, " route="...)
	b = appendLogString(b, a.route)
	b = append(b, " path="...)
	b = appendLogString(b, a.path)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(a.status), 10)
	b = append(b, " duration="...)
	b = append(b, a.duration.String()...)
	b = append(b, " request_id="...)
	b = appendLogString(b, a.id)
	b = append(b, " remote="...)
	var ip [len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")]byte
	return append(appendLogString(b, appendIP(ip[:0], a.remote)), '\n')
}

// appendIP appends ip as ip.String writes it, without allocating for a
// well-formed address.
func appendIP(b []byte, ip net.IP) []byte {
	if len(ip) == 0 {
		return append(b, "<nil>"...)
	}
	if t, err := ip.AppendText(b); err == nil {
		return t
	}
	return append(b, ip.String()...)
}

// appendRFC3339Millis is slog's time format: RFC 3339 with milliseconds,
// truncated, and always three digits of them.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	// RFC3339Nano trims trailing zeros: a tenth of a millisecond more keeps
	// four digits, the fourth of which is dropped.
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

// appendLogString appends s bare, or quoted when the TextHandler would
// quote it: empty, or holding a space, an equals sign, a quote, a control
// character, or a non-ASCII character that is a space, unprintable or not
// UTF-8.
func appendLogString[S string | []byte](b []byte, s S) []byte {
	if !needsLogQuoting(s) {
		return append(b, s...)
	}
	return strconv.AppendQuote(b, string(s))
}

func needsLogQuoting[S string | []byte](s S) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c != '\\' && (c <= ' ' || c == '=' || c == '"') {
				return true
			}
			i++
			continue
		}
		var rb [utf8.UTFMax]byte
		r, size := utf8.DecodeRune(rb[:copy(rb[:], s[i:])])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// accessWriter writes access lines to w, one Write per line, from a pool
// of buffers.
type accessWriter struct {
	w    io.Writer
	bufs sync.Pool
}

func (aw *accessWriter) write(a *access) {
	bp, _ := aw.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	*bp = appendAccessLine((*bp)[:0], a)
	_, _ = aw.w.Write(*bp) // nowhere to report a failed log write
	if cap(*bp) <= 4<<10 {
		aw.bufs.Put(bp)
	}
}
