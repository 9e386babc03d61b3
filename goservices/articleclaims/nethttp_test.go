package articleclaims

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The article (chapter 1): "Go's net/http default timeout is 30 s". There is
// no such default: every timeout of a zero-value http.Server, of
// http.DefaultClient and of http.DefaultTransport's response wait is 0
// (none), and a handler slower than a timeout would be is not cut off.
// The control proves the test can tell: the same handler under a
// WriteTimeout loses its answer.
func TestNetHTTPHasNoDefaultTimeout(t *testing.T) {
	var s http.Server
	for name, d := range map[string]time.Duration{
		"Server.ReadTimeout":                     s.ReadTimeout,
		"Server.ReadHeaderTimeout":               s.ReadHeaderTimeout,
		"Server.WriteTimeout":                    s.WriteTimeout,
		"Server.IdleTimeout":                     s.IdleTimeout,
		"DefaultClient.Timeout":                  http.DefaultClient.Timeout,
		"DefaultTransport.ResponseHeaderTimeout": http.DefaultTransport.(*http.Transport).ResponseHeaderTimeout,
	} {
		if d != 0 {
			t.Errorf("%s = %v, want 0 (no timeout)", name, d)
		}
	}

	const slow = 600 * time.Millisecond // stands for "longer than any default"
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(slow) // a slow dependency
		io.WriteString(w, "late but whole")
	})
	ask := func(s *http.Server) (string, time.Duration, error) {
		addr := serve(t, s)
		client := &http.Client{} // zero value, like http.DefaultClient
		defer client.CloseIdleConnections()
		start := time.Now()
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			return "", time.Since(start), err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return fmt.Sprintf("%d %s", resp.StatusCode, b), time.Since(start), err
	}
	type result struct {
		got     string
		elapsed time.Duration
		err     error
	}
	zero, control := make(chan result, 1), make(chan result, 1)
	go func() {
		got, el, err := ask(&http.Server{Handler: handler})
		zero <- result{got, el, err}
	}()
	go func() {
		got, el, err := ask(&http.Server{Handler: handler, WriteTimeout: slow / 3})
		control <- result{got, el, err}
	}()
	z, c := <-zero, <-control
	if z.err != nil || z.got != "200 late but whole" || z.elapsed < slow {
		t.Errorf("zero-value server: %q %v after %v, want the whole answer after >= %v", z.got, z.err, z.elapsed, slow)
	}
	if c.err == nil {
		t.Errorf("control (WriteTimeout %v): got %q, want the answer lost", slow/3, c.got)
	}
	t.Logf("zero-value server answered after %v; with WriteTimeout: %v", z.elapsed, c.err)
}

// The article (chapter 1): a POST forwarded with Content-Length: 0 blocks the
// handler's read of r.Body (because http.MaxBytesReader is not configured).
// It does not: io.ReadAll returns at once with 0 bytes, on a keep-alive
// connection the client leaves open as a gateway does. The control: a body
// that is declared but never sent does block, so the test can tell.
func TestPostWithContentLengthZeroDoesNotBlock(t *testing.T) {
	type read struct {
		n       int
		err     error
		elapsed time.Duration
		noBody  bool
	}
	reads := make(chan read, 2)
	addr := serve(t, &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		b, err := io.ReadAll(r.Body) // no http.MaxBytesReader
		reads <- read{len(b), err, time.Since(start), r.Body == http.NoBody}
		io.WriteString(w, "ok")
	})})

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	// What nginx sends upstream for an empty POST (HTTP/1.1 keep-alive to the upstream).
	io.WriteString(conn, "POST /api/item HTTP/1.1\r\nHost: app\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a Content-Length: 0 POST: %v", err)
	}
	resp.Body.Close()
	r := <-reads
	if resp.StatusCode != http.StatusOK || r.n != 0 || r.err != nil || r.elapsed > 200*time.Millisecond {
		t.Errorf("status %d; ReadAll read %d bytes, err %v, in %v; want 200, 0 bytes, nil, at once", resp.StatusCode, r.n, r.err, r.elapsed)
	}
	t.Logf("Content-Length: 0: ReadAll returned %d bytes in %v (r.Body == http.NoBody: %v)", r.n, r.elapsed, r.noBody)

	// Control: Content-Length: 5 with 2 bytes sent - that read does wait.
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	io.WriteString(c2, "POST /api/item HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\n\r\nab")
	select {
	case r := <-reads:
		t.Fatalf("a body declared but not sent did not block: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
	c2.Close() // the client goes away: the read ends with an error
	select {
	case r := <-reads:
		if r.err == nil {
			t.Errorf("truncated body read without error: %+v", r)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("read still blocked after the client closed")
	}
}

// The article (chapter 1): without a ProxyHeaders middleware "r.URL.Scheme is
// always http". On a server r.URL is the request target as sent ("/path"):
// its Scheme is empty, not "http", and r.TLS is nil behind a TLS-terminating
// gateway; the public scheme is only in X-Forwarded-Proto, if the gateway
// sets it.
func TestServerRequestURLSchemeIsEmpty(t *testing.T) {
	type seen struct {
		scheme, host, xfp string
		tls               bool
	}
	got := make(chan seen, 1)
	addr := serve(t, &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.URL.Scheme, r.URL.Host, r.Header.Get("X-Forwarded-Proto"), r.TLS != nil}
	})})
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/health", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	client := &http.Client{}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s := <-got
	if s.scheme != "" || s.host != "" || s.tls || s.xfp != "https" {
		t.Errorf("r.URL.Scheme %q Host %q, r.TLS set %v, X-Forwarded-Proto %q; want \"\", \"\", false, https", s.scheme, s.host, s.tls, s.xfp)
	}
	if strings.EqualFold(s.scheme, "http") {
		t.Error("r.URL.Scheme is http, as the article says")
	}
}
