// Package memoryleak is the "memory-leak" scenario: a response cache keyed
// by request id and never evicted keeps one pointer-rich entry per request,
// so the heap grows until the container's memory limit kills the process;
// with GOMEMLIMIT near that limit the collector runs ever more often first.
package memoryleak

import (
	"fmt"
	"net/http"
	"sync/atomic"

	"gatewaylab/goservices/internal/svc"
)

// Name is the -pattern value for this scenario.
const Name = "memory-leak"

// Param defaults.
const (
	DefaultEntryKB      = 64  // -param entry_kb: size of one cached entry
	DefaultCacheEntries = 256 // -param cache_entries: the fixed variant's LRU capacity (0 means 1)
)

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"buggy": Buggy,
	"fixed": Fixed,
}

// Pattern is this scenario as refsvc registers it: GET and POST /api/item
// (a gateway does not retry a POST it has sent: a killed process shows), two params.
var Pattern = svc.Pattern{
	Name:     Name,
	Variants: Variants,
	Methods:  []string{"GET", "POST"},
	Params:   map[string]any{"entry_kb": DefaultEntryKB, "cache_entries": DefaultCacheEntries},
}

// cell is one node of an entry. Every cell holds pointers, so the collector
// must visit each cell and blob while marking: GC work grows with the heap.
type cell struct {
	next *cell
	blob *[48]byte
}

// entry is one cached response: about kb KB in 64-byte cells.
type entry struct{ cells []cell }

func newEntry(kb int) *entry {
	cells := make([]cell, max(kb*1024/64, 1))
	for i := range cells {
		cells[i].blob = new([48]byte)
		if i > 0 {
			cells[i-1].next = &cells[i]
		}
	}
	return &entry{cells: cells}
}

var anonymous atomic.Uint64

// cacheKey is the request's X-Request-Id (nginx sets a unique one), or a
// fresh counter value: either way nearly every request is a new key.
func cacheKey(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" {
		return id
	}
	return fmt.Sprint("anon-", anonymous.Add(1))
}

func param(env svc.Env, key string, def int) int {
	n, err := env.Int(key, def)
	if err != nil {
		panic(err) // refsvc checks params at start-up
	}
	return n
}
