// Package gracefulshutdown is the "graceful-shutdown" scenario: a rolling
// restart sends each replica SIGTERM while the gateway still routes to it.
// Exiting at once cuts in-flight requests and refuses new ones; cancelling
// every request's context ends them early with errors; the fix leaves the
// upstream group first (readiness 503), keeps serving while that
// propagates, then lets in-flight requests finish.
package gracefulshutdown

import (
	"time"

	"gatewaylab/goservices/internal/svc"
)

// Name is the -pattern value for this scenario.
const Name = "graceful-shutdown"

// Param defaults.
const (
	DefaultWork         = 300 * time.Millisecond // -param work: how long one request takes
	DefaultDrainDelay   = 2 * time.Second        // -param drain_delay (fixed): serving on with readiness off
	DefaultDrainTimeout = 10 * time.Second       // -param drain_timeout (fixed): Shutdown's deadline
)

// Variants maps -variant values to handler constructors: the handler is the
// same, the variants differ in what SIGTERM does (Pattern.Hooks).
var Variants = map[string]svc.Constructor{
	"buggy":          Handler,
	"cancel-context": Handler,
	"fixed":          Handler,
}

// Pattern is this scenario as refsvc registers it: GET and POST /api/item
// (a gateway does not retry a POST), three params, a Stop hook per variant.
var Pattern = svc.Pattern{
	Name:     Name,
	Variants: Variants,
	Methods:  []string{"GET", "POST"},
	Params: map[string]any{
		"work":          DefaultWork,
		"drain_delay":   DefaultDrainDelay,
		"drain_timeout": DefaultDrainTimeout,
	},
	Hooks: map[string]svc.HooksFunc{
		"buggy":          BuggyHooks,
		"cancel-context": CancelContextHooks,
		"fixed":          FixedHooks,
	},
}

func param(env svc.Env, key string, def time.Duration) time.Duration {
	d, err := env.Duration(key, def)
	if err != nil {
		panic(err) // refsvc checks params at start-up
	}
	return d
}
