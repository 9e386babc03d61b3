package articleclaims

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// The article (§2.1) calls this handler the bug: it drains r.Body with
// io.Copy but never closes it, "so the connection cannot be reused or
// released and the server's goroutines pile up".
func articleHandler(w http.ResponseWriter, r *http.Request) {
	// ❌ 忘记显式关闭请求体,且未设置超时
	io.Copy(io.Discard, r.Body) // body 未 Close → 连接无法复用/释放
}

// The article's fix on its own: Close, no drain.
func closeOnlyHandler(w http.ResponseWriter, r *http.Request) {
	defer r.Body.Close()
}

// Neither read nor closed.
func untouchedHandler(w http.ResponseWriter, r *http.Request) {}

// settle waits until the goroutine count is back to at most limit.
func settle(limit int) int {
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > limit && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return runtime.NumGoroutine()
}

// What frees or keeps a server connection is whether the request body was
// read to its end, not whether the handler called r.Body.Close(): Go's server
// closes the body itself when the handler returns, draining up to 256 KB.
// The article's handler (drained, never closed) keeps one connection for
// every request; Close alone changes nothing against leaving the body
// untouched; and no variant leaves goroutines behind.
func TestRequestBodyCloseChangesNothingDrainingDoes(t *testing.T) {
	const n = 30
	for _, c := range []struct {
		name      string
		h         http.HandlerFunc
		size      int
		wantConns int64 // connections for n requests on one keep-alive client
	}{
		{"article-drain-no-close/300KB", articleHandler, 300 << 10, 1},
		{"article-drain-no-close/1KB", articleHandler, 1 << 10, 1},
		{"close-only/300KB", closeOnlyHandler, 300 << 10, n},
		{"untouched/300KB", untouchedHandler, 300 << 10, n},
		{"close-only/1KB", closeOnlyHandler, 1 << 10, 1},
		{"untouched/1KB", untouchedHandler, 1 << 10, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			var conns atomic.Int64
			s := &http.Server{Handler: c.h, ConnState: func(_ net.Conn, st http.ConnState) {
				if st == http.StateNew {
					conns.Add(1)
				}
			}}
			addr := serve(t, s)
			client := &http.Client{Transport: &http.Transport{}}
			body := bytes.Repeat([]byte("x"), c.size)
			for i := range n {
				resp, err := client.Post("http://"+addr+"/api/item", "application/octet-stream", bytes.NewReader(body))
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("request %d: status %d", i, resp.StatusCode)
				}
			}
			if got := conns.Load(); got != c.wantConns {
				t.Errorf("%d connections for %d requests, want %d", got, n, c.wantConns)
			}
			// Server conn + client read/write loops of the one idle connection, at most.
			if g := settle(base + 4); g > base+4 {
				t.Errorf("goroutines %d -> %d after %d requests", base, g, n)
			}
			client.CloseIdleConnections()
			t.Logf("%s: %d connections for %d requests", c.name, conns.Load(), n)
		})
	}
}
