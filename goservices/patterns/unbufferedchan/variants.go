// Package unbufferedchan is the "unbuffered-chan" scenario: a handler waits
// for a worker goroutine at most a budget; with an unbuffered result channel
// the worker of every request that timed out blocks forever on its send. The
// receive-* variants are the other side: a handler parked on <-ch forever.
package unbufferedchan

import (
	"net/http"
	"time"

	"gatewaylab/goservices/internal/svc"
)

// Name is the -pattern value for this scenario.
const Name = "unbuffered-chan"

// DefaultBudget is how long the handler waits for the dependency (-param budget).
const DefaultBudget = 100 * time.Millisecond

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"buggy": Buggy,
	"fixed": Fixed,
	// the receive side: a handler parked on <-ch
	"receive-hang":  ReceiveHang,
	"receive-fixed": ReceiveFixed,
}

// Pattern is this scenario as refsvc registers it: GET /api/item, -param budget.
var Pattern = svc.Pattern{Name: Name, Variants: Variants, Params: map[string]any{"budget": DefaultBudget}}

func budget(env svc.Env) time.Duration {
	d, err := env.Duration("budget", DefaultBudget)
	if err != nil {
		panic(err) // refsvc checks params at start-up
	}
	return d
}

// answer writes the worker's result, or the fallback when it came too late.
func answer(w http.ResponseWriter, env svc.Env, err error, late bool) {
	switch {
	case late:
		svc.Degraded(w, env.Replica)
	case err != nil:
		svc.Fail(w, err)
	default:
		svc.OK(w, env.Replica)
	}
}
