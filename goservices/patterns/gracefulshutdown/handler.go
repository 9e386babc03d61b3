package gracefulshutdown

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"gatewaylab/goservices/internal/svc"
)

// Handler takes `work` to answer, and gives up with 503 when its context
// ends first (the client left, or shutdown cancelled it).
func Handler(env svc.Env) http.Handler {
	work := param(env, "work", DefaultWork)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(work)
		defer t.Stop()
		select {
		case <-t.C:
			svc.OK(w, env.Replica)
		case <-r.Context().Done():
			svc.Unavailable(w, fmt.Errorf("work abandoned: %w", context.Cause(r.Context())))
		}
	})
}
