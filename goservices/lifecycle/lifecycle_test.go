package lifecycle

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestShutdownWaitsForGoroutinesThatHonourContext(t *testing.T) {
	defer goleak.VerifyNone(t)
	g := New(context.Background(), nil)
	var finished atomic.Int32
	for range 10 {
		g.Go(func(ctx context.Context) {
			<-ctx.Done()
			time.Sleep(10 * time.Millisecond) // some cleanup work
			finished.Add(1)
		})
	}
	if err := g.Shutdown(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n := finished.Load(); n != 10 {
		t.Fatalf("Shutdown returned with %d of 10 finished", n)
	}
}

func TestShutdownNamesGoroutinesThatIgnoreContext(t *testing.T) {
	defer goleak.VerifyNone(t)
	g := New(context.Background(), nil)
	stuck := make(chan struct{})
	for range 2 {
		g.Go(func(ctx context.Context) { <-stuck }) // ignores ctx
	}
	g.Go(func(ctx context.Context) { <-ctx.Done() })
	err := g.Shutdown(50 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "2 background goroutine(s) did not finish") {
		t.Fatalf("err = %v", err)
	}
	close(stuck)
	if err := g.Shutdown(2 * time.Second); err != nil {
		t.Fatalf("second Shutdown after release: %v", err)
	}
}

func TestPanicIsRecoveredAndLogged(t *testing.T) {
	defer goleak.VerifyNone(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	g := New(context.Background(), slog.New(slog.NewTextHandler(&lockedWriter{&buf, &mu}, nil)))
	g.Go(func(ctx context.Context) { panic("boom") })
	var after atomic.Bool
	g.Go(func(ctx context.Context) { <-ctx.Done(); after.Store(true) })
	if err := g.Shutdown(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "background goroutine panicked") || !strings.Contains(buf.String(), "boom") {
		t.Fatalf("log = %q", buf.String())
	}
	if !after.Load() {
		t.Fatal("the other goroutine did not run to its end")
	}
}

func TestGoAfterShutdownStartsNothing(t *testing.T) {
	defer goleak.VerifyNone(t)
	g := New(context.Background(), nil)
	if err := g.Shutdown(time.Second); err != nil {
		t.Fatal(err)
	}
	var ran atomic.Bool
	if g.Go(func(ctx context.Context) { ran.Store(true) }) {
		t.Fatal("Go returned true after Shutdown")
	}
	time.Sleep(10 * time.Millisecond)
	if ran.Load() {
		t.Fatal("Go started a goroutine after Shutdown")
	}
}

func TestSignalCancelsContext(t *testing.T) {
	defer goleak.VerifyNone(t)
	g := New(context.Background(), nil)
	defer g.Shutdown(time.Second)
	// NotifyContext has registered SIGTERM, so this does not end the test binary.
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.Context().Done():
	case <-time.After(2 * time.Second):
		t.Fatal("SIGTERM did not cancel the root context")
	}
}

func TestParentCancelCancelsContext(t *testing.T) {
	defer goleak.VerifyNone(t)
	parent, cancel := context.WithCancel(context.Background())
	g := New(parent, nil)
	cancel()
	select {
	case <-g.Context().Done():
	case <-time.After(2 * time.Second):
		t.Fatal("parent cancel did not reach the root context")
	}
	if err := g.Shutdown(time.Second); err != nil {
		t.Fatal(err)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
