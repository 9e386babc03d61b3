package circuitbreaker

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/deptest"
	"gatewaylab/goservices/internal/svc"
)

// dependency answers at once when healthy and waits `slow` (or until the
// caller gives up) when not; calls counts what reached it.
type dependency struct {
	env   svc.Env
	slow  atomic.Bool
	calls atomic.Int64
}

func newDependency(t *testing.T, params map[string]string) *dependency {
	d := &dependency{}
	current := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, current) }) // runs last: after the dependency is closed
	d.env = deptest.Env(t, 20, func(w http.ResponseWriter, r *http.Request) {
		d.calls.Add(1)
		if d.slow.Load() {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
				return
			}
		}
		w.Write([]byte(`{"ok":true}`))
	})
	d.env.Params = params
	return d
}

func call(h http.Handler) (int, time.Duration) {
	start := time.Now()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/item", nil))
	return rec.Code, time.Since(start)
}

var fast = map[string]string{"timeout": "100ms", "open_for": "300ms", "trip_after": "3"}

func TestNoBreakerWaitsTheFullTimeoutEveryTime(t *testing.T) {
	d := newDependency(t, fast)
	h := NoBreaker(d.env)
	d.slow.Store(true)
	for i := range 6 {
		code, took := call(h)
		if code != http.StatusBadGateway || took < 90*time.Millisecond {
			t.Fatalf("call %d: %d after %v, want 502 after the 100 ms timeout", i, code, took)
		}
	}
	if d.calls.Load() != 6 {
		t.Errorf("the dependency got %d calls, want every one of 6", d.calls.Load())
	}
}

func TestBreakerOpensFailsFastAndClosesThroughAHalfOpenProbe(t *testing.T) {
	d := newDependency(t, fast)
	h := Breaker(d.env)
	d.slow.Store(true)
	for i := range 3 { // trip_after 3: each waits its timeout, then a 503 the gateway may retry
		if code, took := call(h); code != http.StatusServiceUnavailable || took < 90*time.Millisecond {
			t.Fatalf("call %d before it opens: %d after %v, want 503 after the timeout", i, code, took)
		}
	}
	for i := range 20 {
		if code, took := call(h); code != http.StatusServiceUnavailable || took > 50*time.Millisecond {
			t.Fatalf("open, call %d: %d after %v, want a 503 at once", i, code, took)
		}
	}
	if d.calls.Load() != 3 {
		t.Errorf("the dependency got %d calls while open, want only the 3 that tripped it", d.calls.Load())
	}
	d.slow.Store(false)
	time.Sleep(350 * time.Millisecond) // open_for 300 ms: the next call is the half-open probe
	if code, _ := call(h); code != http.StatusOK {
		t.Fatalf("half-open probe with a healthy dependency: %d, want 200", code)
	}
	if code, _ := call(h); code != http.StatusOK {
		t.Errorf("after the probe succeeded: %d, want 200 (closed)", code)
	}
}

func TestAFailedProbeOpensItAgain(t *testing.T) {
	d := newDependency(t, fast)
	h := Breaker(d.env)
	d.slow.Store(true)
	for range 3 {
		call(h)
	}
	time.Sleep(350 * time.Millisecond)
	if code, took := call(h); code != http.StatusServiceUnavailable || took < 90*time.Millisecond {
		t.Fatalf("half-open probe on a slow dependency: %d after %v, want 503 after the timeout", code, took)
	}
	if code, took := call(h); code != http.StatusServiceUnavailable || took > 50*time.Millisecond {
		t.Errorf("after a failed probe: %d after %v, want an immediate 503 (open again)", code, took)
	}
}

func TestSheddingAnswersAtOnceBeyondMaxInflight(t *testing.T) {
	d := newDependency(t, map[string]string{"timeout": "300ms", "trip_after": "100", "max_inflight": "4"})
	h := Breaker(d.env)
	d.slow.Store(true)
	var wg sync.WaitGroup
	codes := make(chan int, 10)
	for range 4 {
		wg.Go(func() { c, _ := call(h); codes <- c })
	}
	time.Sleep(100 * time.Millisecond) // the four hold every slot
	code, took := call(h)
	wg.Wait()
	if code != http.StatusServiceUnavailable || took > 50*time.Millisecond {
		t.Errorf("fifth request with four in flight: %d after %v, want a 503 at once", code, took)
	}
	if d.calls.Load() != 4 {
		t.Errorf("the dependency got %d calls, want 4 (the shed one never reached it)", d.calls.Load())
	}
}

func TestMaxInflightZeroShedsNothing(t *testing.T) {
	d := newDependency(t, map[string]string{"timeout": "200ms", "trip_after": "100", "max_inflight": "0"})
	h := Breaker(d.env)
	d.slow.Store(true)
	var wg sync.WaitGroup
	for range 10 { // under the pool's 20 connections: only shedding could stop one
		wg.Go(func() { call(h) })
	}
	wg.Wait()
	if d.calls.Load() != 10 {
		t.Errorf("the dependency got %d of 10 concurrent calls with max_inflight 0, want all", d.calls.Load())
	}
}
