package timeoutmismatch

import (
	"context"
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// STILL BUGGY: http.TimeoutHandler answers 503 in time, but the inner handler
// keeps running. TimeoutHandler cancels r.Context(); this call does not use
// it (as code that ignores its request context does), so the dependency call
// and its goroutine live on after the client got its 503.
func TimeoutHandler(env svc.Env) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := env.Fetch(context.Background()); err != nil {
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica) // after the timeout: http.ErrHandlerTimeout, dropped
	})
	return http.TimeoutHandler(inner, param(env, "timeout_handler", DefaultTimeoutHandler),
		`{"ok":false,"error":"handler timeout"}`)
}
