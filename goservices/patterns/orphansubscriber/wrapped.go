package orphansubscriber

import (
	"net/http"
	"sync"

	"gatewaylab/goservices/internal/svc"
	"gatewaylab/goservices/patterns/orphansubscriber/sdk"
)

// closingClient wraps the SDK so that Close really ends everything it
// started: it remembers each Watch and unsubscribes it first.
type closingClient struct {
	*sdk.Client
	mu   sync.Mutex
	subs []*sdk.Subscription
}

func (c *closingClient) Watch(topic string, cb func(sdk.Event)) {
	s := c.Client.Watch(topic, cb)
	c.mu.Lock()
	c.subs = append(c.subs, s)
	c.mu.Unlock()
}

func (c *closingClient) Close() error {
	c.mu.Lock()
	for _, s := range c.subs {
		s.Unsubscribe()
	}
	c.subs = nil
	c.mu.Unlock()
	return c.Client.Close()
}

// FIX 1: the same per-request code through a wrapper whose Close ends the
// watches the SDK's own Close forgets.
func Wrapped(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &closingClient{Client: sdk.NewClient(env.DependencyURL, env.Client)}
		defer c.Close()
		c.Watch("item", onItem)
		if err := fetchItem(c.Client); err != nil {
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}
