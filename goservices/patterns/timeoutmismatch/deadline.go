package timeoutmismatch

import (
	"context"
	"errors"
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// FIX: the dependency call gets a deadline (-param budget, below nginx's
// proxy_read_timeout) from r.Context(). When it passes, the call is cancelled
// and the gateway gets a fast, honest, countable 503 with Retry-After.
func Deadline(env svc.Env) http.Handler {
	budget := param(env, "budget", DefaultBudget)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), budget)
		defer cancel()
		if err := env.Fetch(ctx); err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				svc.Unavailable(w, errors.New("dependency timeout"))
				return
			}
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}
