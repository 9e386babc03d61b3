package unclosedbody

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/pool"
	"gatewaylab/goservices/internal/svc"
)

type lab struct {
	env   svc.Env
	stats *pool.Stats
	dep   *httptest.Server
	canc  *cancelAll
}

// cancelAll lets a test cancel every outbound request. The buggy handler
// uses no context, so this is the only way to unpin its leaked connections
// (the transport never reads the socket again, so a server-side close is
// not noticed) and to wake handlers blocked waiting for one.
type cancelAll struct {
	base    http.RoundTripper
	mu      sync.Mutex
	cancels []context.CancelFunc
}

func (c *cancelAll) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	c.mu.Lock()
	c.cancels = append(c.cancels, cancel)
	c.mu.Unlock()
	return c.base.RoundTrip(req.WithContext(ctx))
}

func (c *cancelAll) CloseIdleConnections() {
	c.base.(interface{ CloseIdleConnections() }).CloseIdleConnections()
}

func (c *cancelAll) cancelAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.cancels {
		f()
	}
}

func newLab(t *testing.T, maxConns int, clientTimeout time.Duration) *lab {
	t.Helper()
	pad := strings.Repeat("x", 2000)
	n := 0
	var mu sync.Mutex
	dep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		id := n
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ok":true,"id":%d,"pad":%q}`, id, pad)
	}))
	stats := pool.New()
	client := pool.NewClient(stats, maxConns)
	ca := &cancelAll{base: client.Transport}
	client.Transport = ca
	l := &lab{
		env:   svc.Env{Client: client, DependencyURL: dep.URL, Replica: "t", ClientTimeout: clientTimeout},
		stats: stats, dep: dep, canc: ca,
	}
	t.Cleanup(func() {
		ca.cancelAll()
		client.CloseIdleConnections()
		dep.Close()
	})
	return l
}

func serve(h http.Handler) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/item", nil))
	return rec.Code
}

// goroutinesIn counts goroutines whose stack contains fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, l *lab, what string, ok func(pool.Snapshot) bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !ok(l.stats.Snapshot()) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; pool %+v", what, l.stats.Snapshot())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFixedDoesNotLeak(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	const maxConns = 5
	l := newLab(t, maxConns, 0)
	h := Fixed(l.env)
	for i := range 200 {
		if code := serve(h); code != http.StatusOK {
			t.Fatalf("request %d: status %d", i, code)
		}
	}
	waitFor(t, l, "in_use==0 idle>0", func(s pool.Snapshot) bool { return s.InUse == 0 && s.Idle > 0 })
	if d := l.stats.Snapshot().Dials; d > maxConns {
		t.Errorf("dials = %d, want <= %d (conns should be reused)", d, maxConns)
	}
	l.env.Client.CloseIdleConnections()
	l.dep.Close()
	goleak.VerifyNone(t, ignore)
}

func TestBuggyExhaustsPool(t *testing.T) {
	const maxConns, blocked = 5, 3
	l := newLab(t, maxConns, 0)
	h := Buggy(l.env)
	for i := range maxConns {
		if code := serve(h); code != http.StatusOK {
			t.Fatalf("request %d: status %d", i, code)
		}
	}
	before := runtime.NumGoroutine()
	done := make(chan int, blocked)
	for range blocked {
		go func() { done <- serve(h) }()
	}
	select {
	case code := <-done:
		t.Fatalf("request returned (%d) but the pool should be exhausted", code)
	case <-time.After(300 * time.Millisecond):
	}
	s := l.stats.Snapshot()
	if s.InUse != maxConns || s.Waiters != blocked || s.Idle != 0 {
		t.Errorf("pool = %+v, want in_use=%d waiters=%d idle=0", s, maxConns, blocked)
	}
	if after := runtime.NumGoroutine(); after <= before {
		t.Errorf("goroutines %d -> %d, want growth", before, after)
	}
	if n := goroutinesIn("net/http.(*Transport).getConn"); n != blocked {
		t.Errorf("%d goroutines blocked in Transport.getConn, want %d", n, blocked)
	}
	// Unblock: cancel every outbound request. Waiters usually fail with 502,
	// but one may win a freed conn first, so only require that they finish.
	l.canc.cancelAll()
	for range blocked {
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatal("blocked handler did not finish after cancel")
		}
	}
	waitFor(t, l, "pool drained", func(s pool.Snapshot) bool { return s.InUse == 0 && s.Waiters == 0 })
}

func TestRequestContextHidesLeak(t *testing.T) {
	const maxConns = 5
	l := newLab(t, maxConns, 0)
	// A real server: it cancels r.Context() when the handler returns.
	srv := httptest.NewServer(RequestContext(l.env))
	defer srv.Close()
	for i := range 4 * maxConns {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			cancel()
			t.Fatalf("request %d: %v (pool %+v)", i, err, l.stats.Snapshot())
		}
		resp.Body.Close()
		cancel()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	waitFor(t, l, "in_use==0", func(s pool.Snapshot) bool { return s.InUse == 0 && s.Waiters == 0 })
	// The leak is still there: every request needed a fresh dial.
	if d := l.stats.Snapshot().Dials; d < 4*maxConns {
		t.Errorf("dials = %d, want %d (one per request: conns are closed, not reused)", d, 4*maxConns)
	}
}

func TestClientTimeoutTurnsLeakIntoSlowness(t *testing.T) {
	const maxConns, n = 3, 9
	const timeout = 200 * time.Millisecond
	l := newLab(t, maxConns, timeout)
	h := ClientTimeout(l.env)
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { serve(h) })
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatalf("requests still blocked after 5s; pool %+v", l.stats.Snapshot())
	}
	if el := time.Since(start); el < timeout {
		t.Errorf("took %v, want >= %v: later requests should wait for a held conn", el, timeout)
	}
	waitFor(t, l, "in_use==0", func(s pool.Snapshot) bool { return s.InUse == 0 && s.Waiters == 0 })
	if l.env.Client.Timeout != 0 {
		t.Error("ClientTimeout must not modify the shared client")
	}
}
