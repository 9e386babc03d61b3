package unbufferedchan

import (
	"context"
	"net/http"
	"time"

	"gatewaylab/goservices/internal/svc"
)

// BUG: the channel is unbuffered; once the handler stops waiting, nobody receives and the worker blocks forever on its send.
func Buggy(env svc.Env) http.Handler {
	budget := budget(env)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		result := make(chan error)
		go func() {
			result <- env.Fetch(context.Background()) // blocks forever after a timeout
		}()
		select {
		case err := <-result:
			answer(w, env, err, false)
		case <-time.After(budget):
			answer(w, env, nil, true)
		}
	})
}
