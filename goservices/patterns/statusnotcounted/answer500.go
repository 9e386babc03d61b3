package statusnotcounted

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// 500: counted by nginx only with proxy_next_upstream http_500, and it blames this replica for the dependency.
func Answer500(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := env.Fetch(r.Context()); err != nil {
			svc.Error(w, http.StatusInternalServerError, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}
