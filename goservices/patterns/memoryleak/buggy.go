package memoryleak

import (
	"net/http"
	"sync"

	"gatewaylab/goservices/internal/svc"
)

var (
	mu    sync.Mutex
	cache = map[string]*entry{} // BUG: a cache without eviction: it holds every entry ever stored
)

// Buggy asks the dependency, then caches the answer's entry forever, so the
// heap grows by about entry_kb KB per request.
func Buggy(env svc.Env) http.Handler {
	kb := param(env, "entry_kb", DefaultEntryKB)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := env.Fetch(r.Context()); err != nil {
			svc.Fail(w, err)
			return
		}
		key := cacheKey(r)
		mu.Lock()
		if _, ok := cache[key]; !ok {
			cache[key] = newEntry(kb) // BUG: never evicted
		}
		mu.Unlock()
		svc.OK(w, env.Replica)
	})
}
