// Package timeoutmismatch is the "timeout-mismatch" scenario: the
// dependency is slow (Toxiproxy latency) and the question is who gives up
// first, and what the gateway sees when it does: the service's own
// timeouts against nginx's proxy_read_timeout.
package timeoutmismatch

import (
	"net/http"
	"time"

	"gatewaylab/goservices/internal/svc"
)

// Name is the -pattern value for this scenario.
const Name = "timeout-mismatch"

// Param defaults; each variant reads only its own.
const (
	DefaultWriteTimeout   = 5 * time.Second         // -param write_timeout (write-timeout)
	DefaultTimeoutHandler = 5 * time.Second         // -param timeout_handler (timeout-handler)
	DefaultBudget         = 1500 * time.Millisecond // -param budget (deadline): keep it below proxy_read_timeout
)

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"no-deadline":     NoDeadline,
	"write-timeout":   WriteTimeout,
	"timeout-handler": TimeoutHandler,
	"deadline":        Deadline,
}

// Pattern is this scenario as refsvc registers it: GET and POST /api/item,
// three duration params, and a server tweak for write-timeout.
var Pattern = svc.Pattern{
	Name:     Name,
	Variants: Variants,
	Methods:  []string{"GET", "POST"},
	Params: map[string]any{
		"write_timeout":   DefaultWriteTimeout,
		"timeout_handler": DefaultTimeoutHandler,
		"budget":          DefaultBudget,
	},
	Servers: map[string]func(svc.Env, *http.Server){"write-timeout": WriteTimeoutServer},
}

func param(env svc.Env, key string, def time.Duration) time.Duration {
	d, err := env.Duration(key, def)
	if err != nil {
		panic(err) // refsvc checks params at start-up
	}
	return d
}
