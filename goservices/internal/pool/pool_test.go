package pool

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func depServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 2048))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// waitFor polls because the transport returns conns to the pool asynchronously.
func waitFor(t *testing.T, s *Stats, what string, ok func(Snapshot) bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		snap := s.Snapshot()
		if ok(snap) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; snapshot %+v", what, snap)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClosedBodiesReturnToIdle(t *testing.T) {
	srv := depServer(t)
	s := New()
	c := NewClient(s, 5)
	defer c.CloseIdleConnections()
	for range 30 {
		resp := get(t, c, srv.URL)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	waitFor(t, s, "in_use==0 idle>0", func(x Snapshot) bool { return x.InUse == 0 && x.Idle > 0 })
	snap := s.Snapshot()
	if snap.Waiters != 0 || snap.Dials == 0 || snap.Open != snap.Idle {
		t.Fatalf("unexpected snapshot %+v", snap)
	}
	c.CloseIdleConnections()
	waitFor(t, s, "all closed", func(x Snapshot) bool { return x.Open == 0 && x.Idle == 0 })
}

func TestOpenBodiesStayInUse(t *testing.T) {
	srv := depServer(t)
	s := New()
	c := NewClient(s, 10)
	const n = 7
	var bodies []io.Closer
	for range n {
		bodies = append(bodies, get(t, c, srv.URL).Body)
	}
	snap := s.Snapshot()
	if snap.InUse != n || snap.Idle != 0 || snap.Open != n || snap.Dials != n {
		t.Fatalf("want %d in use, got %+v", n, snap)
	}
	for _, b := range bodies {
		b.Close()
	}
	waitFor(t, s, "in_use==0", func(x Snapshot) bool { return x.InUse == 0 })
}

func TestWaiterCountedAndReleasedOnError(t *testing.T) {
	srv := depServer(t)
	s := New()
	c := NewClient(s, 1)
	held := get(t, c, srv.URL) // takes the only conn
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		_, err := c.Do(req)
		errc <- err
	}()
	waitFor(t, s, "one waiter", func(x Snapshot) bool { return x.Waiters == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if w := s.Snapshot().Waiters; w != 0 {
		t.Fatalf("waiters = %d after cancel, want 0", w)
	}
	held.Body.Close()
}
