package gracefulshutdown

import (
	"context"
	"time"

	"gatewaylab/goservices/internal/svc"
)

// CancelContextHooks do what refsvc does by default (its root context is
// cancelled by SIGTERM): in-flight requests see their context cancelled and
// answer 503 early, and Shutdown closes the listener at once, before the
// gateway has stopped sending new requests here.
func CancelContextHooks(svc.Env, *svc.Tracker) svc.Hooks {
	return svc.Hooks{Stop: func(s svc.Stopping) error {
		s.Log.Info("SIGTERM: cancelling in-flight requests, shutting down")
		s.Cancel() // BUG: abandons in-flight work instead of finishing it
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := s.Server.Shutdown(ctx)
		if err != nil {
			s.Server.Close()
		}
		s.Log.Info("shut down, exiting", "err", err)
		return err
	}}
}
