package orphansubscriber

import (
	"testing"
	"time"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/stacktest"
)

// The watcher the SDK's Close forgets, parked in its select.
const watchTop = "sdk.(*Client).Watch.func1+"

func TestCloseLeaksOneWatcherPerRequestDespiteClose(t *testing.T) {
	const n = 50
	before, _ := stacktest.Count(watchTop, file)
	drive(t, CloseLeaks(newEnv(t)), n)
	deadline := time.Now().Add(3 * time.Second)
	for {
		got, block := stacktest.Count(watchTop, file)
		if got-before == n {
			t.Logf("leaked stack:\n%s", block)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("watcher goroutines grew by %d, want %d (one per request, Close called on each)", got-before, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWrappedAndOneClientDoNotLeak(t *testing.T) {
	for name, h := range map[string]func(t *testing.T){
		"wrapped":    func(t *testing.T) { drive(t, Wrapped(newEnv(t)), 100) },
		"one-client": func(t *testing.T) { drive(t, OneClient(newEnv(t)), 100) },
	} {
		t.Run(name, func(t *testing.T) {
			before, _ := stacktest.Count(watchTop, file)
			ignore := goleak.IgnoreCurrent()
			t.Cleanup(func() {
				// one-client keeps its one watcher for the process's life: at most one more
				if got, _ := stacktest.Count(watchTop, file); got-before > 1 {
					t.Errorf("%d watchers left after 100 requests, want at most 1", got-before)
				}
				if name == "wrapped" {
					goleak.VerifyNone(t, ignore)
				}
			})
			h(t)
		})
	}
}
