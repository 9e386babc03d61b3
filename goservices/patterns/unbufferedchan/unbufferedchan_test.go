package unbufferedchan

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/deptest"
	"gatewaylab/goservices/internal/stacktest"
	"gatewaylab/goservices/internal/svc"
)

// newDep is a fake dependency that answers only once gate is closed: the
// test's stand-in for Toxiproxy latency, never a sleep in service code.
func newDep(t *testing.T, gate chan struct{}) svc.Env {
	t.Helper()
	env := deptest.Env(t, 200, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
		case <-r.Context().Done():
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	env.Params = map[string]string{"budget": "20ms"}
	return env
}

// drive sends n concurrent GETs through a real server and returns how many
// answers were degraded; any non-200 fails the test.
func drive(t *testing.T, h http.Handler, n int) (degraded int) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, err := srv.Client().Get(srv.URL + "/api/item")
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var body struct{ Degraded bool }
			json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status %d", resp.StatusCode)
			}
			mu.Lock()
			if body.Degraded {
				degraded++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	srv.Client().CloseIdleConnections()
	return degraded
}

// waitCount polls the goroutine profile until want goroutines match substrs.
func waitCount(t *testing.T, want int, substrs ...string) (block string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		n, block := stacktest.Count(substrs[0], substrs[1:]...)
		if n == want {
			return block
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines match %q, want %d; block:\n%s", n, substrs, want, block)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The leaked worker, blocked in its channel send in buggy.go (debug=1 hides
// the runtime.chansend1 frame).
var leaked = []string{"unbufferedchan.Buggy.func1.1+", "/unbufferedchan/buggy.go:"}

func TestBuggyLeaksOneGoroutinePerTimeout(t *testing.T) {
	const n = 30
	gate := make(chan struct{})
	env := newDep(t, gate)
	before, _ := stacktest.Count(leaked[0], leaked[1:]...)
	g0 := runtime.NumGoroutine()
	if d := drive(t, Buggy(env), n); d != n {
		t.Fatalf("%d of %d answers degraded, want all (dependency slower than the budget)", d, n)
	}
	close(gate) // the dependency answers: each worker now tries to send
	block := waitCount(t, before+n, leaked...)
	t.Logf("leaked stack:\n%s", block)
	if g := runtime.NumGoroutine() - g0; g < n {
		t.Errorf("goroutines grew by %d, want >= %d", g, n)
	}
	// The leaked senders can never be released; tests do not wait for them.
}

func TestBuggyFastDependencyDoesNotLeak(t *testing.T) {
	gate := make(chan struct{})
	close(gate)
	env := newDep(t, gate)
	env.Params = map[string]string{"budget": "5s"}
	before, _ := stacktest.Count(leaked[0], leaked[1:]...)
	if d := drive(t, Buggy(env), 50); d != 0 {
		t.Fatalf("%d answers degraded, want 0 with a fast dependency", d)
	}
	waitCount(t, before, leaked...)
}

func TestFixedDoesNotLeak(t *testing.T) {
	ignore := goleak.IgnoreCurrent() // leaks of the buggy tests, if they ran first
	// Registered first, so it runs after newDep's cleanup has closed the dependency.
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	const n = 100
	gate := make(chan struct{})
	env := newDep(t, gate)
	if d := drive(t, Fixed(env), n); d != n {
		t.Fatalf("%d of %d answers degraded, want all", d, n)
	}
	close(gate) // workers finish, send into their buffer slot and exit
}

func TestBudgetParam(t *testing.T) {
	if d := budget(svc.Env{}); d != DefaultBudget {
		t.Errorf("default budget = %v", d)
	}
	if d := budget(svc.Env{Params: map[string]string{"budget": "0s"}}); d != 0 {
		t.Errorf("budget=0s gives %v", d)
	}
}
