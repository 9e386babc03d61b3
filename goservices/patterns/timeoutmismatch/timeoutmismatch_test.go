package timeoutmismatch

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/pool"
	"gatewaylab/goservices/internal/svc"
)

// slowDep is a fake dependency that answers only once gate is closed: the
// test's stand-in for Toxiproxy latency. inFlight counts calls it holds.
type slowDep struct {
	env      svc.Env
	gate     chan struct{}
	inFlight atomic.Int64
}

func newSlowDep(t *testing.T, params map[string]string) *slowDep {
	t.Helper()
	d := &slowDep{gate: make(chan struct{})}
	dep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.inFlight.Add(1)
		defer d.inFlight.Add(-1)
		select {
		case <-d.gate:
			w.Write([]byte(`{"ok":true}`))
		case <-r.Context().Done(): // the caller cancelled its call
		}
	}))
	client := pool.NewClient(pool.New(), 10)
	d.env = svc.Env{Client: client, DependencyURL: dep.URL, Replica: "t", Params: params}
	t.Cleanup(func() {
		d.open()
		client.CloseIdleConnections()
		dep.Close()
	})
	return d
}

func (d *slowDep) open() {
	select {
	case <-d.gate:
	default:
		close(d.gate)
	}
}

// waitInFlight polls until the dependency holds n calls.
func (d *slowDep) waitInFlight(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for d.inFlight.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("dependency holds %d calls, want %d", d.inFlight.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type result struct {
	code    int
	retry   string
	body    map[string]any
	err     error
	elapsed time.Duration
}

// get does one GET through srv.
func get(srv *httptest.Server) result {
	start := time.Now()
	resp, err := srv.Client().Get(srv.URL + "/api/item")
	if err != nil {
		return result{err: err, elapsed: time.Since(start)}
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return result{code: resp.StatusCode, retry: resp.Header.Get("Retry-After"), body: body, elapsed: time.Since(start)}
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Client().CloseIdleConnections(); srv.Close() })
	return srv
}

func TestNoDeadlineWaitsForTheDependency(t *testing.T) {
	d := newSlowDep(t, nil)
	srv := serve(t, NoDeadline(d.env))
	done := make(chan result, 1)
	go func() { done <- get(srv) }()
	d.waitInFlight(t, 1)
	select {
	case r := <-done:
		t.Fatalf("answered %d before the dependency did", r.code)
	case <-time.After(300 * time.Millisecond):
	}
	d.open()
	if r := <-done; r.code != http.StatusOK || r.elapsed < 300*time.Millisecond {
		t.Errorf("got %d after %v, want 200 after >= 300ms", r.code, r.elapsed)
	}
}

// WriteTimeout closes nothing at the timeout: the client hears nothing until
// the handler returns, then the connection closes with no answer.
func TestWriteTimeoutClosesWhenHandlerReturns(t *testing.T) {
	const writeTimeout, depDelay = 100 * time.Millisecond, 500 * time.Millisecond
	d := newSlowDep(t, map[string]string{"write_timeout": writeTimeout.String()})
	srv := httptest.NewUnstartedServer(WriteTimeout(d.env))
	Pattern.Servers["write-timeout"](d.env, srv.Config)
	if srv.Config.WriteTimeout != writeTimeout {
		t.Fatalf("WriteTimeout = %v", srv.Config.WriteTimeout)
	}
	srv.Start()
	t.Cleanup(func() { srv.Client().CloseIdleConnections(); srv.Close() })
	time.AfterFunc(depDelay, d.open)
	r := get(srv)
	if r.err == nil {
		t.Fatalf("got %d, want the connection closed with no answer", r.code)
	}
	if r.elapsed < depDelay {
		t.Errorf("connection closed after %v, want >= %v (when the handler returns)", r.elapsed, depDelay)
	}
	t.Logf("client error after %v: %v", r.elapsed, r.err)
}

func TestTimeoutHandlerLeavesInnerRunning(t *testing.T) {
	const timeout = 100 * time.Millisecond
	d := newSlowDep(t, map[string]string{"timeout_handler": timeout.String()})
	srv := serve(t, TimeoutHandler(d.env))
	r := get(srv)
	if r.code != http.StatusServiceUnavailable || r.elapsed < timeout || r.elapsed > time.Second {
		t.Fatalf("got %d after %v, want 503 after ~%v", r.code, r.elapsed, timeout)
	}
	// The client has its 503; the inner handler's dependency call goes on.
	time.Sleep(200 * time.Millisecond)
	if n := d.inFlight.Load(); n != 1 {
		t.Errorf("dependency holds %d calls after the 503, want 1 (inner handler still running)", n)
	}
	d.open()
	d.waitInFlight(t, 0)
}

func TestDeadlineAnswers503AtBudget(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs after the servers' cleanups
	const budget = 100 * time.Millisecond
	d := newSlowDep(t, map[string]string{"budget": budget.String()})
	srv := serve(t, Deadline(d.env))
	r := get(srv)
	if r.code != http.StatusServiceUnavailable || r.retry != "1" || r.body["error"] != "dependency timeout" {
		t.Errorf("got %d Retry-After %q %v, want 503, 1, dependency timeout", r.code, r.retry, r.body)
	}
	if r.elapsed < budget || r.elapsed > time.Second {
		t.Errorf("answered after %v, want ~%v", r.elapsed, budget)
	}
	d.waitInFlight(t, 0) // the call was cancelled, not left running
	d.open()
	if r := get(srv); r.code != http.StatusOK {
		t.Errorf("fast dependency: got %d, want 200", r.code)
	}
}

func TestParamDefaults(t *testing.T) {
	s := &http.Server{}
	WriteTimeoutServer(svc.Env{}, s)
	if s.WriteTimeout != DefaultWriteTimeout || DefaultBudget != 1500*time.Millisecond || DefaultTimeoutHandler != 5*time.Second {
		t.Errorf("defaults: write %v budget %v handler %v", s.WriteTimeout, DefaultBudget, DefaultTimeoutHandler)
	}
	if len(Pattern.Servers) != 1 {
		t.Errorf("server tweaks for %d variants, want only write-timeout", len(Pattern.Servers))
	}
}
