package livenesslies

import (
	"net/http"
	"sync"

	"gatewaylab/goservices/internal/svc"
)

// Buggy serialises dependency calls with a mutex (say the client it guards
// is not safe for concurrent use), and its error path forgets to unlock.
func Buggy(env svc.Env) http.Handler { return &buggy{env: env} }

type buggy struct {
	mu  sync.Mutex
	env svc.Env
}

func (h *buggy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	if err := h.env.Fetch(r.Context()); err != nil {
		svc.Fail(w, err)
		return // BUG: returns with mu locked: every later request blocks in Lock forever
	}
	h.mu.Unlock()
	svc.OK(w, h.env.Replica)
}
