package orphansubscriber

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
	"gatewaylab/goservices/patterns/orphansubscriber/sdk"
)

// FIX 2: one client per process, one watch made at start-up and kept for the
// process's life - the SDK's intended use; requests only call it.
func OneClient(env svc.Env) http.Handler {
	c := sdk.NewClient(env.DependencyURL, env.Client)
	c.Watch("item", onItem) // one goroutine, for the life of the process
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fetchItem(c); err != nil {
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}
