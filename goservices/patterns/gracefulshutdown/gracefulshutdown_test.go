package gracefulshutdown

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"gatewaylab/goservices/internal/svc"
)

const (
	work       = 300 * time.Millisecond
	drainDelay = 150 * time.Millisecond
)

// replica serves one variant as refsvc would: tracked handler, probes, a
// base context that only the Stop hook cancels.
type replica struct {
	url     string
	srv     *http.Server
	cancel  context.CancelFunc
	tracker *svc.Tracker
	hooks   svc.Hooks
	log     *syncBuffer
}

func start(t *testing.T, variant string) *replica {
	t.Helper()
	env := svc.Env{Replica: "t", Params: map[string]string{"work": work.String(), "drain_delay": drainDelay.String(), "drain_timeout": "2s"}}
	r := &replica{tracker: &svc.Tracker{}, log: &syncBuffer{}}
	r.hooks = Pattern.Hooks[variant](env, r.tracker)
	mux := http.NewServeMux()
	mux.Handle("/api/item", r.tracker.Wrap(Variants[variant](env)))
	ready := r.hooks.Ready
	if ready == nil {
		ready = http.HandlerFunc(svc.ProbeOK)
	}
	mux.Handle("GET /readyz", ready)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var ctx context.Context
	ctx, r.cancel = context.WithCancel(context.Background())
	r.srv = &http.Server{Handler: mux, BaseContext: func(net.Listener) context.Context { return ctx }}
	r.url = "http://" + ln.Addr().String()
	go r.srv.Serve(ln)
	t.Cleanup(func() { r.srv.Close(); r.cancel() })
	return r
}

type answer struct {
	code int
	err  error
}

// post sends one POST on a fresh connection.
func (r *replica) post() answer {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Post(r.url+"/api/item", "application/json", strings.NewReader("{}"))
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return answer{code: resp.StatusCode, err: err}
}

func (r *replica) readyz() int {
	resp, err := http.Get(r.url + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// inFlight starts a POST and waits until its handler runs.
func (r *replica) inFlight(t *testing.T) <-chan answer {
	t.Helper()
	done := make(chan answer, 1)
	go func() { done <- r.post() }()
	deadline := time.Now().Add(3 * time.Second)
	for r.tracker.InFlight() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("request never reached the handler")
		}
		time.Sleep(time.Millisecond)
	}
	return done
}

// stop runs the Stop hook as refsvc does on SIGTERM.
func (r *replica) stop() <-chan error {
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(r.log, nil))
	go func() { done <- r.hooks.Stop(svc.Stopping{Server: r.srv, Cancel: r.cancel, Log: log}) }()
	return done
}

func wait[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(3 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestBuggyCutsInFlight(t *testing.T) {
	r := start(t, "buggy")
	req := r.inFlight(t)
	began := time.Now()
	wait(t, r.stop(), "stop")
	if a := wait(t, req, "in-flight request"); a.err == nil {
		t.Errorf("in-flight request answered %d, want its connection cut", a.code)
	}
	if el := time.Since(began); el >= work {
		t.Errorf("cut after %v, want before the work (%v) was done", el, work)
	}
	if a := r.post(); a.err == nil {
		t.Errorf("new request after stop answered %d, want connection refused", a.code)
	}
	r.log.has(t, "SIGTERM", "exiting")
}

func TestCancelContextAbandonsInFlight(t *testing.T) {
	r := start(t, "cancel-context")
	req := r.inFlight(t)
	began := time.Now()
	stopped := r.stop()
	if a := wait(t, req, "in-flight request"); a.err != nil || a.code != http.StatusServiceUnavailable {
		t.Errorf("in-flight request: %d %v, want 503 (its context cancelled)", a.code, a.err)
	}
	if el := time.Since(began); el >= work {
		t.Errorf("answered after %v, want early (work is %v)", el, work)
	}
	if err := wait(t, stopped, "stop"); err != nil {
		t.Errorf("stop: %v", err)
	}
	if a := r.post(); a.err == nil {
		t.Errorf("new request after stop answered %d, want connection refused", a.code)
	}
	r.log.has(t, "SIGTERM", "exiting")
}

func TestFixedDrains(t *testing.T) {
	r := start(t, "fixed")
	if code := r.readyz(); code != http.StatusOK {
		t.Fatalf("readyz before SIGTERM: %d", code)
	}
	req := r.inFlight(t)
	began := time.Now()
	stopped := r.stop()
	deadline := time.Now().Add(drainDelay / 2)
	for r.readyz() != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("readyz did not turn 503 at SIGTERM")
		}
		time.Sleep(time.Millisecond)
	}
	// The gateway has not noticed yet: a new request is still served.
	if a := r.post(); a.err != nil || a.code != http.StatusOK {
		t.Errorf("request during the drain: %d %v, want 200", a.code, a.err)
	}
	if a := wait(t, req, "in-flight request"); a.err != nil || a.code != http.StatusOK {
		t.Errorf("in-flight request: %d %v, want 200 (finished, not cancelled)", a.code, a.err)
	}
	if err := wait(t, stopped, "stop"); err != nil {
		t.Errorf("stop: %v", err)
	}
	// work > drain_delay: Shutdown had to wait for the in-flight requests.
	if el := time.Since(began); el < work {
		t.Errorf("stopped after %v, want >= work (%v)", el, work)
	}
	if a := r.post(); a.err == nil {
		t.Errorf("new request after stop answered %d, want connection refused", a.code)
	}
	r.log.has(t, "SIGTERM: readiness off", "drained, exiting")
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) has(t *testing.T, lines ...string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range lines {
		if !strings.Contains(b.buf.String(), l) {
			t.Errorf("log lacks %q:\n%s", l, b.buf.String())
		}
	}
}
