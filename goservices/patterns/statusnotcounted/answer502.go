package statusnotcounted

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// 502: the client cannot tell it from a gateway 502 (nginx's own, for a dead replica).
func Answer502(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := env.Fetch(r.Context()); err != nil {
			svc.Error(w, http.StatusBadGateway, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}
