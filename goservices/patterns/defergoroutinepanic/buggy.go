package defergoroutinepanic

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// BUG: the audit goroutine panics when the call failed; a panic in a
// goroutine nobody recovers ends the process, every in-flight request with it.
func Buggy(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := call(r, env)
		defer func() {
			go func() {
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
