package noisyneighbour

import (
	"errors"
	"net/http"

	"gatewaylab/goservices/internal/pool"
	"gatewaylab/goservices/internal/svc"
)

// FIX: a bulkhead per route. /api/report gets its own client, capped at
// report_conns connections, and at most report_conns reports run at once;
// the rest are shed at once with 503 instead of queueing. /api/item keeps
// env.Client to itself.
func Fixed(env svc.Env) http.Handler {
	n, _ := env.Int("report_conns", 4) // refsvc checked it at start-up
	n = max(n, 1)                      // 0 would mean no cap on the Transport
	// Built once per handler. Its pool is counted apart, so the main pool's
	// gatewaylab_outbound_* gauges now show /api/item's use alone.
	reportClient := pool.NewClient(pool.New(), n)
	slots := make(chan struct{}, n)

	mux := http.NewServeMux()
	mux.HandleFunc("/api/item", func(w http.ResponseWriter, r *http.Request) {
		if err := env.Fetch(r.Context()); err != nil {
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
	mux.HandleFunc("/api/report", func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			svc.Unavailable(w, errors.New("report bulkhead full"))
			return
		}
		if err := report(r.Context(), env, reportClient); err != nil {
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
	return mux
}
