package orphansubscriber

import (
	"testing"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/stacktest"
)

// The watcher the SDK's Close forgets, parked in its select.
const watchTop = "sdk.(*Client).Watch.func1+"

func TestCloseLeaksOneWatcherPerRequestDespiteClose(t *testing.T) {
	const n = 50
	before, _ := stacktest.Count(watchTop, file)
	drive(t, CloseLeaks(newEnv(t)), n) // Close called on each client
	t.Logf("leaked stack:\n%s", waitGrowth(t, watchTop, before, n))
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
