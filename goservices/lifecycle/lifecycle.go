// Package lifecycle gives a service one root context, cancelled on SIGTERM
// or SIGINT, and tracks the background goroutines started from it so that
// shutdown can wait for them with a deadline.
//
//	g := lifecycle.New(context.Background(), nil)
//	g.Go(func(ctx context.Context) { worker(ctx) })
//	<-g.Context().Done()          // a signal arrived
//	err := g.Shutdown(5 * time.Second)
package lifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Group owns the root context and the goroutines started with Go.
type Group struct {
	ctx    context.Context
	cancel context.CancelFunc // also stops signal delivery
	log    *slog.Logger

	mu      sync.Mutex
	closed  bool
	done    chan struct{} // closed when every goroutine has returned; made by the first Shutdown
	wg      sync.WaitGroup
	running atomic.Int64
}

// New returns a Group whose context is cancelled on SIGTERM, SIGINT, when
// parent is cancelled, or by Shutdown. A nil log means slog.Default().
func New(parent context.Context, log *slog.Logger) *Group {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := signal.NotifyContext(parent, syscall.SIGTERM, os.Interrupt)
	return &Group{ctx: ctx, cancel: cancel, log: log}
}

// Context is the root context: pass it (or a child) to handlers.
func (g *Group) Context() context.Context { return g.ctx }

// Go runs f in a tracked goroutine with the root context. A panic in f is
// logged and recovered: it ends that goroutine, not the process. Go returns
// false, and starts nothing, once Shutdown has begun.
func (g *Group) Go(f func(ctx context.Context)) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	// Add before the goroutine starts: an Add inside it could run after
	// Shutdown's Wait has already seen zero.
	g.wg.Add(1)
	g.running.Add(1)
	go func() {
		defer g.wg.Done()
		defer g.running.Add(-1)
		defer func() {
			if r := recover(); r != nil {
				g.log.Error("background goroutine panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
		}()
		f(g.ctx)
	}()
	return true
}

// Shutdown stops new goroutines, cancels the root context and waits up to
// timeout for the running ones. The error says how many did not finish; a
// later Shutdown may wait for them again.
func (g *Group) Shutdown(timeout time.Duration) error {
	g.mu.Lock()
	g.closed = true
	if g.done == nil {
		g.done = make(chan struct{})
		// This waiter outlives a timed-out Shutdown until the stragglers end.
		go func() { g.wg.Wait(); close(g.done) }()
	}
	done := g.done
	g.mu.Unlock()
	g.cancel()

	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		return fmt.Errorf("lifecycle: %d background goroutine(s) did not finish within %s of shutdown", g.running.Load(), timeout)
	}
}
