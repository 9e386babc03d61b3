// Package ctxnotpropagated is the "ctx-not-propagated" scenario: the handler
// has a context with a deadline but calls the dependency over raw TCP, where
// the context does nothing unless the code hands its deadline to the socket.
// Toxiproxy's timeout toxic holds the connection: no reply, no close.
package ctxnotpropagated

import (
	"time"

	"gatewaylab/goservices/internal/svc"
)

// Name is the -pattern value for this scenario.
const Name = "ctx-not-propagated"

// DefaultBudget is -param budget: how long one dependency call may take.
const DefaultBudget = 500 * time.Millisecond

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"buggy": Buggy,
	"fixed": Fixed,
}

// Pattern is this scenario as refsvc registers it: GET /api/item, one
// duration param. refsvc also requires -dependency-tcp for it.
var Pattern = svc.Pattern{
	Name:     Name,
	Variants: Variants,
	Params:   map[string]any{"budget": DefaultBudget},
}

func budget(env svc.Env) time.Duration {
	d, err := env.Duration("budget", DefaultBudget)
	if err != nil {
		panic(err) // refsvc checks params at start-up
	}
	return d
}
