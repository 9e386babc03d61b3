package unbufferedchan

import (
	"context"
	"net/http"
	"time"

	"gatewaylab/goservices/internal/svc"
)

// FIX: one buffer slot, so the worker's send always succeeds and it exits even when nobody is waiting.
func Fixed(env svc.Env) http.Handler {
	budget := budget(env)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		result := make(chan error, 1)
		go func() {
			result <- env.Fetch(context.Background()) // never blocks: the slot is free
		}()
		select {
		case err := <-result:
			answer(w, env, err, false)
		case <-time.After(budget):
			answer(w, env, nil, true)
		}
	})
}
