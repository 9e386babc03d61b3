package defergoroutinepanic

import (
	"log/slog"
	"net/http"
	"sync"

	"gatewaylab/goservices/internal/svc"
)

// FIX: the goroutine recovers its own panic (only it can), and the handler
// waits for its audit goroutines before returning.
func Fixed(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		defer wg.Wait() // runs last: defers run in reverse order
		resp, err := call(r, env)
		defer func() {
			wg.Add(1) // before go: the seed's template calls Add inside the goroutine, racing with Wait
			go func() {
				defer wg.Done()
				defer func() {
					if p := recover(); p != nil {
						slog.Error("audit panicked", "panic", p)
					}
				}()
				audit(resp, err)
			}()
		}()
		if err != nil {
			svc.Fail(w, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}
