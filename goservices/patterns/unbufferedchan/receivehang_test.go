package unbufferedchan

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/deptest"
	"gatewaylab/goservices/internal/stacktest"
	"gatewaylab/goservices/internal/svc"
)

// failingDep answers 500 at once: the worker's call fails.
func failingDep(t *testing.T) svc.Env {
	return deptest.Env(t, 50, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
}

// askWithin sends n GETs through a real server, each given up (as a gateway's
// read timeout does) after wait, and returns the status codes; 0 is a timeout.
func askWithin(t *testing.T, h http.Handler, n int, wait time.Duration) []int {
	t.Helper()
	srv := httptest.NewServer(h)
	// srv.Close would wait for handlers that never return: close the listener and connections only
	t.Cleanup(func() { srv.Config.Close() })
	client := &http.Client{Timeout: wait}
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := client.Get(srv.URL + "/api/item")
			if err != nil {
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	client.CloseIdleConnections()
	return codes
}

// (inlined into a test, the closure is named after the test: match the tail)
var parked = []string{"ReceiveHang.func", "/unbufferedchan/receivehang.go:"}

func TestReceiveHangParksTheHandlerPastTheGatewaysTimeout(t *testing.T) {
	const n = 20
	before, _ := countParked()
	codes := askWithin(t, ReceiveHang(failingDep(t)), n, 200*time.Millisecond)
	for i, c := range codes {
		if c != 0 {
			t.Fatalf("request %d answered %d; want a timeout (the handler never answers)", i, c)
		}
	}
	// The client hung up; the handlers are still parked on <-result.
	block := waitCount(t, before+n, parked...)
	t.Logf("parked stack:\n%s", block)
}

func countParked() (int, string) {
	return stacktest.Count(parked[0], parked[1:]...)
}

func TestReceiveFixedAnswers503AtOnceAndLeavesNothing(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	start := time.Now()
	codes := askWithin(t, ReceiveFixed(failingDep(t)), 20, 2*time.Second)
	for i, c := range codes {
		if c != http.StatusServiceUnavailable {
			t.Fatalf("request %d answered %d, want 503", i, c)
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("20 answers took %v, want them at once", took)
	}
}
