package noisyneighbour

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// BUG: /api/report's fan-out shares env.Client's pool with /api/item: a few
// reports in flight hold most connections and items queue behind their calls.
func Buggy(env svc.Env) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/item", func(w http.ResponseWriter, r *http.Request) {
		if err := env.Fetch(r.Context()); err != nil {
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
	mux.HandleFunc("/api/report", func(w http.ResponseWriter, r *http.Request) {
		if err := report(r.Context(), env, env.Client); err != nil {
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
	return mux
}
