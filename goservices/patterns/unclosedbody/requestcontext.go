package unclosedbody

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// STILL BUGGY, BUT HIDDEN: the request carries r.Context(); when the handler
// returns the server cancels it and the transport closes the leaked connection.
func RequestContext(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, env.DependencyURL+"/item", nil)
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
