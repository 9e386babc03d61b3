// Package keepaliverace is the "keepalive-race" scenario: the gateway keeps
// idle connections to the replica (nginx's upstream keepalive) and the Go
// server closes an idle connection sooner than the gateway forgets it. Now
// and then the gateway sends a request on a connection the server is closing
// that same moment: the request is lost ("upstream prematurely closed" or a
// reset), retried for GET, a 502 for POST. The handler is the same in every
// variant; only the server's timeouts differ.
package keepaliverace

import (
	"net/http"
	"time"

	"gatewaylab/goservices/internal/svc"
)

// Name is the -pattern value for this scenario.
const Name = "keepalive-race"

// Param defaults; each variant reads only its own.
const (
	// short-idle: IdleTimeout far below the gateway's keepalive_timeout (short, so a short run shows the race).
	DefaultShortIdle = 100 * time.Millisecond // -param idle_timeout
	// read-timeout: the article's "ReadTimeout 5 s" and no IdleTimeout, which then falls back to ReadTimeout.
	DefaultReadTimeout = 5 * time.Second // -param read_timeout
	// long-idle (the fix): IdleTimeout above the gateway's keepalive_timeout (nginx's default is 60 s).
	DefaultLongIdle = 75 * time.Second // -param long_idle
)

// Variants maps -variant values to handler constructors: one handler, three servers.
var Variants = map[string]svc.Constructor{
	"short-idle":   Answer,
	"read-timeout": Answer,
	"long-idle":    Answer,
}

// Pattern is this scenario as refsvc registers it.
var Pattern = svc.Pattern{
	Name:     Name,
	Variants: Variants,
	Methods:  []string{"GET", "POST"},
	Params: map[string]any{
		"idle_timeout": DefaultShortIdle,
		"read_timeout": DefaultReadTimeout,
		"long_idle":    DefaultLongIdle,
	},
	Servers: map[string]func(svc.Env, *http.Server){
		"short-idle":   ShortIdle,
		"read-timeout": ReadTimeoutOnly,
		"long-idle":    LongIdle,
	},
}

// Answer reads the request body and fetches the dependency: a healthy handler.
func Answer(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := env.Fetch(r.Context()); err != nil {
			svc.Error(w, http.StatusBadGateway, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}

// BUG: the server drops an idle connection after idle_timeout, while the gateway keeps it for 60 s.
func ShortIdle(env svc.Env, s *http.Server) {
	s.IdleTimeout = param(env, "idle_timeout", DefaultShortIdle)
}

// BUG: the article's advice. With IdleTimeout unset, Go uses ReadTimeout as the idle timeout too.
func ReadTimeoutOnly(env svc.Env, s *http.Server) {
	s.ReadTimeout = param(env, "read_timeout", DefaultReadTimeout)
}

// FIXED: the server keeps an idle connection longer than the gateway does, so the gateway always closes first.
func LongIdle(env svc.Env, s *http.Server) {
	s.IdleTimeout = param(env, "long_idle", DefaultLongIdle)
}

func param(env svc.Env, key string, def time.Duration) time.Duration {
	d, err := env.Duration(key, def)
	if err != nil {
		panic(err) // refsvc checks params at start-up
	}
	return d
}
