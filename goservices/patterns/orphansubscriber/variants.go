// Package orphansubscriber is the "orphan-subscriber" scenario: a handler
// makes an SDK client per request and subscribes, but never ends the
// subscription, so every request leaves one goroutine behind, no fault needed.
package orphansubscriber

import (
	"io"

	"gatewaylab/goservices/internal/svc"
	"gatewaylab/goservices/patterns/orphansubscriber/sdk"
)

// Name is the -pattern value for this scenario.
const Name = "orphan-subscriber"

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"buggy": Buggy,
	"fixed": Fixed,
	// an SDK whose Close does not end its watcher (the article's path)
	"close-leaks": CloseLeaks,
	"wrapped":     Wrapped,
	"one-client":  OneClient,
}

// Pattern is this scenario as refsvc registers it: GET /api/item, no params.
var Pattern = svc.Pattern{Name: Name, Variants: Variants}

// fetchItem does the dependency call with the body drained and closed: the
// leak in this scenario is the subscription, not the body.
func fetchItem(c *sdk.Client) error {
	resp, err := c.Get("/item")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

func onItem(sdk.Event) {} // would refresh a cache entry
