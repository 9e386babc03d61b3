package unclosedbody

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// STILL BUGGY: the same leaky handler, but Client.Timeout kills each held
// connection after ClientTimeout, so the pool exhaustion turns into slowness.
func ClientTimeout(env svc.Env) http.Handler {
	client := *env.Client // same Transport, same pool
	client.Timeout = env.ClientTimeout
	env.Client = &client
	return Buggy(env)
}
