package orphansubscriber

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
	"gatewaylab/goservices/patterns/orphansubscriber/sdk"
)

// BUG: a client and a subscription per request, never closed: each request leaves the SDK's subscriber goroutine parked forever.
func Buggy(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := sdk.NewClient(env.DependencyURL, env.Client)
		c.Subscribe("item", onItem) // starts a goroutine only Close stops
		if err := fetchItem(c); err != nil {
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}
