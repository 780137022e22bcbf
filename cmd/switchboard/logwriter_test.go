package main

import (
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Lines reach the output by themselves shortly after they are written, and
// all of them on Close.
func TestLogWriterFlushes(t *testing.T) {
	var out lockedBuilder
	lw := newLogWriter(&out)
	lw.Write([]byte("first\n"))
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != "first\n" {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s the output is %q, want the first line", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	lw.Write([]byte("second\n"))
	lw.Close()
	lw.Close()
	if got := out.String(); got != "first\nsecond\n" {
		t.Fatalf("after Close the output is %q", got)
	}
	// A part still closing after the log writer (the store, past the
	// stop's deadline) still reaches the output.
	lw.Write([]byte("late\n"))
	if got := out.String(); got != "first\nsecond\nlate\n" {
		t.Fatalf("a line written after Close: the output is %q", got)
	}
}
