package sdk

import (
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-bots/switchboard/plugins/internal/wire"
)

func TestWatchHostNoticesTheHostIsGone(t *testing.T) {
	t.Setenv(wire.EnvHostPID, "100")
	var ppid atomic.Int64
	ppid.Store(100)
	gone := make(chan struct{})
	go watchHost(func() int { return int(ppid.Load()) }, func(int) bool { return true }, func() { close(gone) }, time.Millisecond)
	select {
	case <-gone:
		t.Fatal("gone while the host is there")
	case <-time.After(30 * time.Millisecond):
	}
	ppid.Store(1) // re-parented to init
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the orphaned plugin did not notice")
	}
}

func TestWatchHostNoticesAHostThatDiedBeforeTheCheck(t *testing.T) {
	t.Setenv(wire.EnvHostPID, "100")
	gone := make(chan struct{})
	// Already re-parented to init when the watch starts; pid 100 is dead.
	go watchHost(func() int { return 1 }, func(pid int) bool { return pid != 100 }, func() { close(gone) }, time.Hour)
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("not noticed")
	}
}

func TestWatchHostThroughAWrapper(t *testing.T) {
	// Started by a shell script (pid 200) that the host (pid 100) runs.
	t.Setenv(wire.EnvHostPID, "100")
	var hostAlive atomic.Bool
	hostAlive.Store(true)
	gone := make(chan struct{})
	go watchHost(func() int { return 200 }, func(pid int) bool { return pid == 100 && hostAlive.Load() }, func() { close(gone) }, time.Millisecond)
	select {
	case <-gone:
		t.Fatal("gone while the host is there")
	case <-time.After(30 * time.Millisecond):
	}
	hostAlive.Store(false)
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the host's death was not noticed")
	}
}

func TestAlive(t *testing.T) {
	if !alive(os.Getpid()) {
		t.Error("this process is not alive")
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	base := errors.New("x")
	if !IsRetryable(Retryable(base, time.Second)) || IsRetryable(Final(base)) || !IsRetryable(base) || IsRetryable(nil) {
		t.Fatal("IsRetryable")
	}
	if Retryable(nil, 0) != nil || Final(nil) != nil {
		t.Fatal("nil in, nil out")
	}
	var e *Error
	if err := ConfigError("/token", "write %s", "a token"); !errors.As(err, &e) || e.Field != "/token" || err.Error() != "/token: write a token" {
		t.Fatalf("ConfigError = %v", err)
	}
	if !errors.Is(Final(base), base) {
		t.Fatal("Unwrap")
	}
}
