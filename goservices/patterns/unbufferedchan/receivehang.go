package unbufferedchan

import (
	"context"
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// BUG (the receive side): the worker sends only when the call succeeded; on
// an error it returns without a word, and the handler waits on <-result
// forever. The gateway sees a timeout; the handler's goroutine stays parked
// after the gateway hung up, because nothing here watches r.Context().
func ReceiveHang(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		result := make(chan struct{})
		go func() {
			if err := env.Fetch(context.Background()); err != nil {
				return // forgot to tell the handler
			}
			result <- struct{}{}
		}()
		<-result // parks forever once the worker returned on an error
		svc.OK(w, env.Replica)
	})
}

// FIX: the worker always sends, error or not, into a buffered slot, and the
// handler also stops waiting when the request is gone. An error becomes an
// honest 503 at once, which the gateway can retry elsewhere.
func ReceiveFixed(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		result := make(chan error, 1)
		go func() { result <- env.Fetch(r.Context()) }()
		select {
		case err := <-result:
			if err != nil {
				svc.Unavailable(w, err)
				return
			}
			svc.OK(w, env.Replica)
		case <-r.Context().Done():
		}
	})
}
