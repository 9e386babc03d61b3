package statusnotcounted

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// FIX: 503 with Retry-After: 1, honest and countable (proxy_next_upstream http_503).
func Answer503(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := env.Fetch(r.Context()); err != nil {
			svc.Unavailable(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}
