package livenesslies

import (
	"context"
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// DeepLiveness is the anti-pattern: liveness that calls the dependency. When
// the dependency is down, every replica fails it and gets restarted, though
// restarting fixes nothing and the replicas themselves were healthy.
func DeepLiveness(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), deepTimeout)
		defer cancel()
		if err := env.Fetch(ctx); err != nil { // ANTI-PATTERN: a dependency failure is not this process's death
			svc.ProbeFail(w, "dependency: "+err.Error())
			return
		}
		svc.ProbeOK(w, r)
	})
}
