package gracefulshutdown

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"gatewaylab/goservices/internal/svc"
)

// FixedHooks drain: on SIGTERM /readyz turns 503 so the gateway stops
// routing here, the process keeps serving for drain_delay while that
// propagates, then Shutdown waits up to drain_timeout for in-flight
// requests, whose contexts stay live.
func FixedHooks(env svc.Env, _ *svc.Tracker) svc.Hooks {
	delay := param(env, "drain_delay", DefaultDrainDelay)
	timeout := param(env, "drain_timeout", DefaultDrainTimeout)
	var draining atomic.Bool
	ready := func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			svc.ProbeFail(w, "draining")
			return
		}
		svc.ProbeOK(w, r)
	}
	stop := func(s svc.Stopping) error {
		draining.Store(true) // FIX: leave the upstream group first,
		s.Log.Info("SIGTERM: readiness off, draining", "drain_delay", delay, "drain_timeout", timeout)
		time.Sleep(delay) // keep serving until the gateway has noticed,
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		err := s.Server.Shutdown(ctx) // then let in-flight requests finish, uncancelled
		if err != nil {
			s.Server.Close()
		}
		s.Cancel()
		s.Log.Info("drained, exiting", "err", err)
		return err
	}
	return svc.Hooks{Ready: http.HandlerFunc(ready), Stop: stop}
}
