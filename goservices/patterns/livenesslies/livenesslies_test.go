package livenesslies

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"gatewaylab/goservices/internal/deptest"
	"gatewaylab/goservices/internal/stacktest"
	"gatewaylab/goservices/internal/svc"
)

// lab is one replica: a dependency that fails while down is set, the
// variant's tracked handler and its probes.
type lab struct {
	down    atomic.Bool
	env     svc.Env
	handler http.Handler // the variant's, untracked
	tracked http.Handler
	tracker *svc.Tracker
	hooks   svc.Hooks
}

func newLab(t *testing.T, variant string) *lab {
	t.Helper()
	l := &lab{tracker: &svc.Tracker{}}
	l.env = deptest.Env(t, 10, func(w http.ResponseWriter, r *http.Request) {
		if l.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	})
	l.env.Params = map[string]string{"stuck_after": "50ms"}
	l.handler = Variants[variant](l.env)
	l.tracked = l.tracker.Wrap(l.handler)
	if f := Pattern.Hooks[variant]; f != nil {
		l.hooks = f(l.env, l.tracker)
	}
	return l
}

func (l *lab) get() int {
	rec := httptest.NewRecorder()
	l.tracked.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/item", nil))
	return rec.Code
}

// probe answers like refsvc: a nil probe is its default 200.
func probe(h http.Handler) int {
	if h == nil {
		return http.StatusOK
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	return rec.Code
}

// fail makes one request while the dependency is down.
func (l *lab) fail(t *testing.T) {
	t.Helper()
	l.down.Store(true)
	if code := l.get(); code != http.StatusBadGateway {
		t.Fatalf("request during the fault: %d, want 502", code)
	}
	l.down.Store(false)
}

// start starts n requests and waits until the oldest has been in flight
// longer than stuck_after; the channel gets their status codes.
func (l *lab) start(t *testing.T, n int) <-chan int {
	t.Helper()
	done := make(chan int, n)
	for range n {
		go func() { done <- l.get() }()
	}
	deadline := time.Now().Add(3 * time.Second)
	for l.tracker.InFlight() < n || l.tracker.OldestInFlight() < 100*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("in flight %d (want %d), oldest %v", l.tracker.InFlight(), n, l.tracker.OldestInFlight())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return done
}

func TestBuggyDeadlocksAfterOneError(t *testing.T) {
	l := newLab(t, "buggy")
	if code := l.get(); code != http.StatusOK {
		t.Fatalf("first request: %d", code)
	}
	l.fail(t)
	const n = 3
	done := l.start(t, n)
	select {
	case code := <-done:
		t.Fatalf("a request finished (%d) though the mutex was left locked", code)
	default:
	}
	if got, block := stacktest.Count("sync.runtime_SemacquireMutex", "livenesslies.(*buggy).ServeHTTP"); got != n {
		t.Errorf("%d goroutines blocked in Lock, want %d; e.g.\n%s", got, n, block)
	}
	// Release the lock the error path kept: the dependency is back, so the
	// waiters go through one by one.
	l.handler.(*buggy).mu.Unlock()
	for range n {
		select {
		case code := <-done:
			if code != http.StatusOK {
				t.Errorf("released request: %d", code)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("request still blocked after unlock")
		}
	}
}

func TestFixedSurvivesError(t *testing.T) {
	l := newLab(t, "fixed")
	l.fail(t)
	done := make(chan int, 3)
	for range 3 {
		go func() { done <- l.get() }()
	}
	for range 3 {
		select {
		case code := <-done:
			if code != http.StatusOK {
				t.Errorf("after the fault: %d", code)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("request blocked after the fault")
		}
	}
}

// TestProbesWhileStuck checks each buggy build's probes before and during
// the deadlock: who notices the stuck process.
func TestProbesWhileStuck(t *testing.T) {
	for _, tc := range []struct {
		variant     string
		live, ready int // while stuck
	}{
		{"buggy", 200, 200},
		{"readiness", 200, 503},
		{"liveness", 503, 503},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			l := newLab(t, tc.variant)
			if live, ready := probe(l.hooks.Live), probe(l.hooks.Ready); live != 200 || ready != 200 {
				t.Fatalf("idle: livez %d readyz %d, want 200 200", live, ready)
			}
			l.fail(t)
			done := l.start(t, 1)
			if live, ready := probe(l.hooks.Live), probe(l.hooks.Ready); live != tc.live || ready != tc.ready {
				t.Errorf("stuck: livez %d readyz %d, want %d %d", live, ready, tc.live, tc.ready)
			}
			l.handler.(*buggy).mu.Unlock()
			<-done
			if live, ready := probe(l.hooks.Live), probe(l.hooks.Ready); live != 200 || ready != 200 {
				t.Errorf("released: livez %d readyz %d, want 200 200", live, ready)
			}
		})
	}
}

func TestBuggyAndFixedProbesAreShallow(t *testing.T) {
	for _, v := range []string{"buggy", "fixed"} {
		if Pattern.Hooks[v] != nil {
			t.Errorf("%s should keep refsvc's default probes", v)
		}
	}
}

// TestDeepLivenessFailsWithDependency: the code is fixed, yet liveness
// fails whenever the dependency does.
func TestDeepLivenessFailsWithDependency(t *testing.T) {
	l := newLab(t, "deep-liveness")
	if live, ready := probe(l.hooks.Live), probe(l.hooks.Ready); live != 200 || ready != 200 {
		t.Fatalf("dependency up: livez %d readyz %d, want 200 200", live, ready)
	}
	l.down.Store(true)
	if live := probe(l.hooks.Live); live != 503 {
		t.Errorf("dependency down: livez %d, want 503", live)
	}
	l.down.Store(false)
	if code := l.get(); code != http.StatusOK {
		t.Errorf("after the outage: %d, want 200 (the handler is fixed)", code)
	}
	if live := probe(l.hooks.Live); live != 200 {
		t.Errorf("dependency back: livez %d, want 200", live)
	}
}
