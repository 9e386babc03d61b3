package unclosedbody

import (
	"io"
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// FIX: drain and close the body, so the connection goes back to the idle pool.
func Fixed(env svc.Env) http.Handler {
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
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		svc.OK(w, env.Replica)
	})
}
