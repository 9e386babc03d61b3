package orphansubscriber

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/deptest"
	"gatewaylab/goservices/internal/stacktest"
	"gatewaylab/goservices/internal/svc"
)

// newEnv starts a fast fake dependency: this leak needs no fault.
func newEnv(t *testing.T) svc.Env {
	t.Helper()
	return deptest.Env(t, 10, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"ok":true}`)
	})
}

// drive sends n GETs one after another through a real server and a keep-alive client.
func drive(t *testing.T, h http.Handler, n int) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()
	for i := range n {
		resp, err := srv.Client().Get(srv.URL + "/api/item")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
}

// The orphan: the SDK's subscriber goroutine, parked in its range loop.
const top, file = "sdk.(*Client).Subscribe.func1+", "/orphansubscriber/sdk/sdk.go:"

// waitGrowth polls the goroutine profile until the goroutines whose top
// frame is top (in the SDK's file) are n more than before; it returns their block.
func waitGrowth(t *testing.T, top string, before, n int) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		got, block := stacktest.Count(top, file)
		if got-before == n {
			return block
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines under %s grew by %d, want %d; block:\n%s", top, got-before, n, block)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBuggyLeaksOneGoroutinePerRequest(t *testing.T) {
	const n = 50
	env := newEnv(t)
	before, _ := stacktest.Count(top, file)
	g0 := runtime.NumGoroutine()
	drive(t, Buggy(env), n)
	t.Logf("leaked stack:\n%s", waitGrowth(t, top, before, n))
	if g := runtime.NumGoroutine() - g0; g < n {
		t.Errorf("goroutines grew by %d, want >= %d", g, n)
	}
	// The orphans can never be stopped: nothing holds their clients any more.
}

func TestFixedDoesNotLeak(t *testing.T) {
	ignore := goleak.IgnoreCurrent() // orphans of the buggy test, if it ran first
	// Registered first, so it runs after newEnv's cleanup has closed the dependency.
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	drive(t, Fixed(newEnv(t)), 100)
}
