package unreadrequestbody

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/svc"
)

// post sends n POSTs with a size-byte body through one keep-alive client.
func post(t *testing.T, srv *httptest.Server, n, size int) {
	t.Helper()
	body := bytes.Repeat([]byte("x"), size)
	for i := range n {
		resp, err := srv.Client().Post(srv.URL+"/api/item", "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body) // else the client drops the conn
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
}

// settled waits for closed connections' goroutines to end, then counts.
func settled(limit int) int {
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > limit && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return runtime.NumGoroutine()
}

// The finding: neither variant's goroutine count grows with the number of
// requests. What differs is past 256 KB of unread body: the server closes
// the connection instead of draining it, so the client dials per request.
func TestGoroutinesFlat(t *testing.T) {
	for _, tc := range []struct {
		variant   string
		h         svc.Constructor
		size      int
		wantConns int // connections used by the measured 200 requests
	}{
		{"buggy", Buggy, 1 << 10, 0},
		{"buggy", Buggy, 300 << 10, 200},
		{"fixed", Fixed, 1 << 10, 0},
		{"fixed", Fixed, 300 << 10, 0},
	} {
		t.Run(fmt.Sprintf("%s/%dKB", tc.variant, tc.size>>10), func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			base := runtime.NumGoroutine()
			var conns atomic.Int64
			srv := httptest.NewUnstartedServer(tc.h(svc.Env{Replica: "t"}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			post(t, srv, 20, tc.size) // warm up: the keep-alive conn exists
			g1 := settled(base + 4)   // listener, server conn, client read/write loops
			c1 := conns.Load()
			post(t, srv, 200, tc.size)
			g2 := settled(g1)
			t.Logf("goroutines %d -> %d after 200 more requests; %d new connections", g1, g2, conns.Load()-c1)
			if g2 > g1+2 {
				t.Errorf("goroutines grew %d -> %d with the request count", g1, g2)
			}
			if got := conns.Load() - c1; got != int64(tc.wantConns) {
				t.Errorf("%d new connections, want %d", got, tc.wantConns)
			}
			srv.Client().CloseIdleConnections()
			srv.Close()
			goleak.VerifyNone(t, ignore)
		})
	}
}

func TestPostOnly(t *testing.T) {
	if len(Pattern.Methods) != 1 || Pattern.Methods[0] != http.MethodPost {
		t.Errorf("methods = %v, want [POST]", Pattern.Methods)
	}
}
