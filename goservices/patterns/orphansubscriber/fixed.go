package orphansubscriber

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
	"gatewaylab/goservices/patterns/orphansubscriber/sdk"
)

// FIX: the subscription is bound to the request context and the client is closed, so its goroutine ends with the request.
func Fixed(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := sdk.NewClient(env.DependencyURL, env.Client)
		defer c.Close()
		c.SubscribeContext(r.Context(), "item", onItem)
		if err := fetchItem(c); err != nil {
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}
