package svc

import (
	"container/list"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Hooks are a variant's probes and SIGTERM handling; a nil field keeps
// refsvc's default. One constructor builds them all so that they can share
// state (e.g. a draining flag set by Stop and read by Ready).
type Hooks struct {
	Live  http.Handler // GET /livez on the service port; nil answers 200 "ok"
	Ready http.Handler // GET /readyz on the service port; nil answers 200 "ok"
	Stop  StopFunc     // run on SIGTERM instead of refsvc's default shutdown of the service port
}

// HooksFunc builds a variant's Hooks; t tracks the service handler's
// in-flight requests (probes are not tracked).
type HooksFunc func(env Env, t *Tracker) Hooks

// StopFunc stops the service port; refsvc exits soon after it returns.
type StopFunc func(Stopping) error

// Stopping is what a Stop hook gets. With a Stop hook, SIGTERM does not
// cancel the service port's requests: only Cancel does.
type Stopping struct {
	Server *http.Server       // the service port's server, still serving
	Cancel context.CancelFunc // cancels the base context of its requests
	Log    *slog.Logger
}

// Tracker knows when each in-flight request started, so that a probe can
// tell a stuck process from an idle one. The zero value is ready to use.
type Tracker struct {
	mu     sync.Mutex
	starts list.List // of time.Time, oldest first: pushed under mu
}

// Wrap tracks h's requests from start to return.
func (t *Tracker) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.mu.Lock()
		e := t.starts.PushBack(time.Now())
		t.mu.Unlock()
		defer func() {
			t.mu.Lock()
			t.starts.Remove(e)
			t.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}

// OldestInFlight is the age of the oldest request still in its handler, or
// 0 when none is.
func (t *Tracker) OldestInFlight() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.starts.Front(); e != nil {
		return time.Since(e.Value.(time.Time))
	}
	return 0
}

// InFlight is how many requests are in their handler.
func (t *Tracker) InFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.starts.Len()
}

// ProbeOK answers 200 "ok": the default /livez and /readyz.
func ProbeOK(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok\n"))
}

// ProbeFail answers 503 with why, for a probe that fails.
func ProbeFail(w http.ResponseWriter, why string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write([]byte(why + "\n"))
}
