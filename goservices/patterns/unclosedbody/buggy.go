package unclosedbody

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// BUG: resp.Body is never read nor closed, so its connection never returns to the pool.
func Buggy(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequest(http.MethodGet, env.DependencyURL+"/item", nil)
		if err != nil {
			svc.Fail(w, err)
			return
		}
		resp, err := env.Client.Do(req)
		if err != nil {
			svc.Fail(w, err)
			return
		}
		_ = resp // body left open
		svc.OK(w, env.Replica)
	})
}
