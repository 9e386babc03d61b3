package gatewayheaders

import (
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// BUG: the scheme comes from r.TLS and the host from r.Host. Behind a
// TLS-terminating gateway r.TLS is always nil, and r.Host is whatever the
// gateway sent: nginx's default is proxy_set_header Host $proxy_host, the
// upstream group's name. X-Forwarded-Proto/-Host are never read.
func Buggy(env svc.Env) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/item", func(w http.ResponseWriter, r *http.Request) {
		if !servedHost(r.Host) {
			misdirected(w, r.Host)
			return
		}
		svc.OK(w, env.Replica)
	})
	mux.HandleFunc("/api/login", func(w http.ResponseWriter, r *http.Request) {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		http.Redirect(w, r, scheme+"://"+r.Host+"/api/item", http.StatusFound)
	})
	return mux
}
