package orphansubscriber

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
	"gatewaylab/goservices/patterns/orphansubscriber/sdk"
)

// BUG (the article's path): the client is closed, as the SDK's docs ask - but
// the SDK's Close does not end a Watch, so each request still leaves the
// watcher goroutine parked forever. Code review sees a correct defer.
func CloseLeaks(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := sdk.NewClient(env.DependencyURL, env.Client)
		defer c.Close() // releases connections, not the watcher
		c.Watch("item", onItem)
		if err := fetchItem(c); err != nil {
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}
