package livenesslies

import (
	"net/http"
	"sync"

	"gatewaylab/goservices/internal/svc"
)

// Fixed is the same handler with the unlock deferred.
func Fixed(env svc.Env) http.Handler { return &fixed{env: env} }

type fixed struct {
	mu  sync.Mutex
	env svc.Env
}

func (h *fixed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock() // FIX: unlocked on every path, the error path included
	if err := h.env.Fetch(r.Context()); err != nil {
		svc.Fail(w, err)
		return
	}
	svc.OK(w, h.env.Replica)
}
