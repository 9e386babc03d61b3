package noisyneighbour

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/deptest"
	"gatewaylab/goservices/internal/svc"
)

// slowDep is a dependency that answers after latency (a Toxiproxy latency
// toxic, simulated in the test server).
func slowDep(t *testing.T, latency time.Duration) svc.Env {
	return deptest.Env(t, 20, func(w http.ResponseWriter, r *http.Request) { // 20: refsvc's default pool
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
		}
		w.Write([]byte(`{"ok":true}`))
	})
}

func get(h http.Handler, path string) *httptest.ResponseRecorder {
	return getCtx(context.Background(), h, path)
}

func getCtx(ctx context.Context, h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil))
	return rec
}

// underReportLoad keeps reporters report requests in flight (retrying shed
// ones after a short pause) while it times n sequential /api/item requests;
// it returns their median latency and how many reports were shed.
func underReportLoad(t *testing.T, h http.Handler, reporters, n int) (time.Duration, int64) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	var shed atomic.Int64
	var wg sync.WaitGroup
	for range reporters {
		wg.Go(func() {
			for ctx.Err() == nil {
				switch rec := getCtx(ctx, h, "/api/report"); {
				case ctx.Err() != nil: // stopped mid-report
				case rec.Code == http.StatusOK:
				case rec.Code == http.StatusServiceUnavailable:
					if rec.Header().Get("Retry-After") != "1" {
						t.Errorf("503 without Retry-After: 1")
					}
					shed.Add(1)
					time.Sleep(5 * time.Millisecond)
				default:
					t.Errorf("report: %d %s", rec.Code, rec.Body)
				}
			}
		})
	}
	defer func() { stop(); wg.Wait() }()
	time.Sleep(100 * time.Millisecond) // let the reports take the pool
	var took []time.Duration
	for range n {
		start := time.Now()
		if rec := get(h, "/api/item"); rec.Code != http.StatusOK {
			t.Fatalf("item: %d %s", rec.Code, rec.Body)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	return took[n/2], shed.Load()
}

func TestRoutes(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after deptest's cleanup closes the dependency
	env := slowDep(t, 0)
	for name, ctor := range Variants {
		h := ctor(env)
		for path, want := range map[string]int{"/api/item": 200, "/api/report": 200, "/api/other": 404} {
			if rec := get(h, path); rec.Code != want {
				t.Errorf("%s %s = %d %s, want %d", name, path, rec.Code, rec.Body, want)
			}
		}
	}
}

const latency = 50 * time.Millisecond

func TestBuggyReportsStarveItems(t *testing.T) {
	item, _ := underReportLoad(t, Buggy(slowDep(t, latency)), 10, 5)
	t.Logf("buggy: dependency %v, /api/item median %v", latency, item)
	if item < 3*latency {
		t.Errorf("/api/item median %v, want >= %v: items should wait behind reports for a pooled conn", item, 3*latency)
	}
}

func TestFixedBulkheadKeepsItemsFast(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	env := slowDep(t, latency)
	env.Params = map[string]string{"report_conns": "4"}
	item, shed := underReportLoad(t, Fixed(env), 10, 5)
	t.Logf("fixed: dependency %v, /api/item median %v, %d reports shed", latency, item, shed)
	if item > 2*latency {
		t.Errorf("/api/item median %v, want < %v: reports have their own pool", item, 2*latency)
	}
	if shed == 0 {
		t.Error("no report was shed: 10 reporters, 4 slots")
	}
}
