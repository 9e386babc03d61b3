// Package circuitbreaker is the "circuit-breaker" scenario, the article's
// Hystrix story: the dependency degrades (Toxiproxy latency) and the question
// is what every handler does meanwhile. Without a breaker each one waits its
// full timeout, holding a goroutine and a pooled connection, and the pool
// drains; with one (sony/gobreaker) the service answers fast 503s that the
// gateway can retry elsewhere, and closes again through half-open probes.
package circuitbreaker

import (
	"time"

	"gatewaylab/goservices/internal/svc"
)

// Name is the -pattern value for this scenario.
const Name = "circuit-breaker"

// Param defaults.
const (
	DefaultTimeout     = 2 * time.Second // -param timeout: each dependency call's deadline
	DefaultOpenFor     = 2 * time.Second // -param open_for: open -> half-open (gobreaker's Timeout)
	DefaultTripAfter   = 5               // -param trip_after: consecutive failures that open it
	DefaultMaxInflight = 20              // -param max_inflight: handlers at once before shedding (0: no limit)
)

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"no-breaker": NoBreaker,
	"breaker":    Breaker,
}

// Pattern is this scenario as refsvc registers it: GET /api/item.
var Pattern = svc.Pattern{
	Name:     Name,
	Variants: Variants,
	Params: map[string]any{
		"timeout":      DefaultTimeout,
		"open_for":     DefaultOpenFor,
		"trip_after":   DefaultTripAfter,
		"max_inflight": DefaultMaxInflight,
	},
}

func duration(env svc.Env, key string, def time.Duration) time.Duration {
	d, err := env.Duration(key, def)
	if err != nil {
		panic(err) // refsvc checks params at start-up
	}
	return d
}

func integer(env svc.Env, key string, def int) int {
	n, err := env.Int(key, def)
	if err != nil {
		panic(err)
	}
	return n
}
