package memoryleak

import (
	"net/http"

	lru "github.com/hashicorp/golang-lru/v2"

	"gatewaylab/goservices/internal/svc"
)

// Fixed bounds the same cache: an LRU of cache_entries entries, so memory
// stays flat at about cache_entries * entry_kb KB.
func Fixed(env svc.Env) http.Handler {
	kb := param(env, "entry_kb", DefaultEntryKB)
	cache, err := lru.New[string, *entry](max(param(env, "cache_entries", DefaultCacheEntries), 1))
	if err != nil {
		panic(err) // only for a size <= 0
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := env.Fetch(r.Context()); err != nil {
			svc.Fail(w, err)
			return
		}
		key := cacheKey(r)
		if _, ok := cache.Get(key); !ok {
			cache.Add(key, newEntry(kb)) // FIX: evicts the least recently used entry when full
		}
		svc.OK(w, env.Replica)
	})
}
