package circuitbreaker

import (
	"context"
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// BUG: a deadline but no breaker. While the dependency is slow every request
// waits the whole timeout - for a pooled connection, then for the answer -
// and fails with a 502 that a default gateway neither retries nor counts.
// Nothing remembers that the last hundred calls failed the same way.
func NoBreaker(env svc.Env) http.Handler {
	timeout := duration(env, "timeout", DefaultTimeout)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if err := env.Fetch(ctx); err != nil {
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}
