package memoryleak

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"gatewaylab/goservices/internal/deptest"
	"gatewaylab/goservices/internal/svc"
)

const entryKB, requests = 16, 300

// env calls a dependency that answers at once: the cache is what is under test.
func env(t testing.TB, params map[string]string) svc.Env {
	e := deptest.Env(t, 0, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) })
	e.Params = params
	return e
}

// serve sends n requests, every other one with its own X-Request-Id.
func serve(t *testing.T, h http.Handler, n int) {
	t.Helper()
	for i := range n {
		req := httptest.NewRequest(http.MethodGet, "/api/item", nil)
		if i%2 == 0 {
			req.Header.Set("X-Request-Id", fmt.Sprint(t.Name(), i))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: status %d", i, rec.Code)
		}
	}
}

// heapGrowth is HeapAlloc after f minus before, each after a full GC.
func heapGrowth(f func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

func resetCache(t *testing.T) {
	reset := func() {
		mu.Lock()
		cache = map[string]*entry{}
		mu.Unlock()
	}
	reset()
	t.Cleanup(reset)
}

func TestBuggyGrowsHeap(t *testing.T) {
	resetCache(t)
	h := Buggy(env(t, map[string]string{"entry_kb": fmt.Sprint(entryKB)}))
	growth := heapGrowth(func() { serve(t, h, requests) })
	if n := len(cache); n != requests {
		t.Errorf("cache holds %d entries, want %d (one per request)", n, requests)
	}
	want := int64(requests * entryKB * 1024)
	t.Logf("heap grew %d KB for %d requests of entry_kb=%d", growth>>10, requests, entryKB)
	if growth < want*8/10 {
		t.Errorf("heap grew %d KB, want about %d KB", growth>>10, want>>10)
	}
	// A repeated request id is a hit: no growth.
	req := httptest.NewRequest(http.MethodGet, "/api/item", nil)
	req.Header.Set("X-Request-Id", t.Name()+"0")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if n := len(cache); n != requests {
		t.Errorf("a repeated id added an entry: %d", n)
	}
}

func TestFixedStaysFlat(t *testing.T) {
	const capacity = 16
	h := Fixed(env(t, map[string]string{"entry_kb": fmt.Sprint(entryKB), "cache_entries": fmt.Sprint(capacity)}))
	serve(t, h, capacity) // fill the cache first
	growth := heapGrowth(func() { serve(t, h, requests) })
	if limit := int64(capacity * entryKB * 1024 / 2); growth > limit {
		t.Errorf("heap grew %d KB over %d requests, want < %d KB (the LRU is full already)", growth>>10, requests, limit>>10)
	}
}

func TestEntrySize(t *testing.T) {
	e := newEntry(entryKB)
	if got := len(e.cells) * 64; got != entryKB*1024 {
		t.Errorf("entry is %d bytes, want %d", got, entryKB*1024)
	}
	for i, c := range e.cells[:len(e.cells)-1] {
		if c.blob == nil || c.next != &e.cells[i+1] {
			t.Fatalf("cell %d is not linked", i)
		}
	}
}
