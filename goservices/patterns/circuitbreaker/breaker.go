package circuitbreaker

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/sony/gobreaker/v2"

	"gatewaylab/goservices/internal/svc"
)

var errShed = errors.New("overloaded: too many requests in flight")

// FIX: the call goes through a circuit breaker (sony/gobreaker). After
// trip_after failures in a row it opens: calls fail at once with an honest
// 503 + Retry-After, which the gateway can retry on another replica (nginx:
// http_503 in proxy_next_upstream) - no goroutine or connection waits on a
// dependency known to be down. After open_for one half-open probe goes
// through; its success closes the breaker. Load shedding bounds what is
// left: beyond max_inflight handlers a request gets the 503 at once.
func Breaker(env svc.Env) http.Handler {
	timeout := duration(env, "timeout", DefaultTimeout)
	tripAfter := uint32(integer(env, "trip_after", DefaultTripAfter))
	var slots chan struct{} // nil: no shedding (max_inflight 0)
	if n := integer(env, "max_inflight", DefaultMaxInflight); n > 0 {
		slots = make(chan struct{}, n)
	}
	cb := gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "dependency",
		MaxRequests: 1,
		Timeout:     duration(env, "open_for", DefaultOpenFor),
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= tripAfter },
		// the gateway hanging up says nothing about the dependency
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(name string, from, to gobreaker.State) {
			slog.Info("circuit breaker", "name", name, "from", from.String(), "to", to.String(), "replica", env.Replica)
		},
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slots != nil {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			default:
				svc.Unavailable(w, errShed)
				return
			}
		}
		_, err := cb.Execute(func() (struct{}, error) {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			return struct{}{}, env.Fetch(ctx)
		})
		if err != nil {
			svc.Unavailable(w, err) // open, half-open busy, or this call failed: retry elsewhere
			return
		}
		svc.OK(w, env.Replica)
	})
}
