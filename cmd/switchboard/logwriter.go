package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logWriter buffers the server's log lines and writes them out every
// flushEvery (or when the buffer fills), so that the access log costs one
// write system call per batch of requests instead of one per request. A
// crash loses at most the last flushEvery of lines.
type logWriter struct {
	mu     sync.Mutex
	w      *bufio.Writer
	closed bool // written through from then on
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

const (
	logBuffer     = 64 << 10
	logFlushEvery = 100 * time.Millisecond
)

// newLogWriter starts a logWriter over w; Close stops its flusher.
func newLogWriter(w io.Writer) *logWriter {
	l := &logWriter{w: bufio.NewWriterSize(w, logBuffer), stop: make(chan struct{}), done: make(chan struct{})}
	go l.flushLoop()
	return l
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		// A part left closing past the stop (the store) still reports.
		n, err := l.w.Write(p)
		if err == nil {
			err = l.w.Flush()
		}
		return n, err
	}
	return l.w.Write(p)
}

func (l *logWriter) flush(last bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Flush() // nowhere to report a failed log write
	l.closed = l.closed || last
}

func (l *logWriter) flushLoop() {
	defer close(l.done)
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.flush(false)
		case <-l.stop:
			l.flush(true)
			return
		}
	}
}

// Close flushes what is buffered and stops the flusher; writes after Close
// go out at once. Close it last.
func (l *logWriter) Close() {
	l.once.Do(func() { close(l.stop) })
	<-l.done
}
