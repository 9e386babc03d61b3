package timeoutmismatch

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// BUG: no deadline anywhere: the handler waits as long as the dependency
// takes. r.Context() ends only if the client (nginx) hangs up first.
func NoDeadline(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := env.Fetch(r.Context()); err != nil {
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}
