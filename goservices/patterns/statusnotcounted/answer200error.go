package statusnotcounted

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// BUG: the error hides in a 200 body; nginx, metrics and retries all see success.
func Answer200Error(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := env.Fetch(r.Context()); err != nil {
			svc.Error(w, http.StatusOK, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}
