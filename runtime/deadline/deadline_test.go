package deadline

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestDeadlineWithinBounds(t *testing.T) {
	const d = 800 * time.Millisecond
	s := New(d)
	for i := 0; i < 3; i++ {
		before := time.Now()
		ctx := s.Context()
		after := time.Now()
		dl, ok := ctx.Deadline()
		if !ok {
			t.Fatal("no deadline")
		}
		if dl.Before(before.Add(d)) || dl.After(after.Add(d+d/8)) {
			t.Fatalf("deadline %v after the call, want between %v and %v", dl.Sub(before), d, d+d/8)
		}
		time.Sleep(d / 16)
	}
}

func TestSharedWithinWindowAndRenewedAfter(t *testing.T) {
	s := New(time.Second)
	a, b := s.Context(), s.Context()
	if a != b {
		t.Fatal("two calls in one window got different contexts")
	}
	time.Sleep(time.Second/8 + 10*time.Millisecond)
	c := s.Context()
	if c == a {
		t.Fatal("a call after the window got the old context")
	}
	if a.Err() != nil {
		t.Fatal("the old context ended before its deadline")
	}
}

func TestContextEnds(t *testing.T) {
	s := New(20 * time.Millisecond)
	ctx := s.Context()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the context never ended")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", ctx.Err())
	}
}

func TestConcurrentCallers(t *testing.T) {
	s := New(time.Minute)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				if dl, ok := s.Context().Deadline(); !ok || time.Until(dl) < 59*time.Second {
					t.Errorf("deadline %v away, want about a minute", time.Until(dl))
					return
				}
			}
		}()
	}
	wg.Wait()
}
