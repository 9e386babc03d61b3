package unreadrequestbody

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// "BUG" (claimed): r.Body is never read nor closed. The server closes it after the handler returns, so nothing leaks.
func Buggy(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc.OK(w, env.Replica)
	})
}
