package timeoutmismatch

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// STILL BUGGY: the no-deadline handler behind http.Server.WriteTimeout. The
// timeout cancels nothing: the handler still waits for the dependency, its
// late answer fails to write, and the connection closes only when the handler
// returns (nginx: "upstream prematurely closed connection").
func WriteTimeout(env svc.Env) http.Handler {
	return NoDeadline(env)
}

// WriteTimeoutServer sets the service port's WriteTimeout (-param write_timeout).
func WriteTimeoutServer(env svc.Env, s *http.Server) {
	s.WriteTimeout = param(env, "write_timeout", DefaultWriteTimeout)
}
