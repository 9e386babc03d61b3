package keepaliverace

import (
	"bufio"
	"net"
	"net/http"
	"testing"
	"time"

	"gatewaylab/goservices/internal/svc"
)

// serve starts a real server on loopback with the variant's server tweak.
func serve(t *testing.T, variant string, params map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })}
	Pattern.Servers[variant](svc.Env{Params: params}, s)
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String()
}

// secondRequestAfter sends a request, waits idle on the same connection, and tells whether a second
// request on it is answered: what the gateway does with a cached keep-alive connection.
func secondRequestAfter(t *testing.T, addr string, idle time.Duration) bool {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	ask := func() error {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			return err
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}
	if err := ask(); err != nil {
		t.Fatalf("first request: %v", err)
	}
	time.Sleep(idle)
	return ask() == nil
}

func TestShortIdleClosesAnIdleConnection(t *testing.T) {
	addr := serve(t, "short-idle", map[string]string{"idle_timeout": "30ms"})
	if secondRequestAfter(t, addr, 200*time.Millisecond) {
		t.Error("a connection idle 200 ms was still served with IdleTimeout 30 ms")
	}
	if !secondRequestAfter(t, addr, 0) {
		t.Error("a connection reused at once was not served")
	}
}

// The article's advice: ReadTimeout alone also closes idle connections (Go falls back to it).
func TestReadTimeoutAloneIsAnIdleTimeout(t *testing.T) {
	addr := serve(t, "read-timeout", map[string]string{"read_timeout": "30ms"})
	if secondRequestAfter(t, addr, 200*time.Millisecond) {
		t.Error("a connection idle 200 ms was still served with ReadTimeout 30 ms and no IdleTimeout")
	}
}

func TestLongIdleKeepsTheConnection(t *testing.T) {
	addr := serve(t, "long-idle", nil)
	if !secondRequestAfter(t, addr, 200*time.Millisecond) {
		t.Error("a connection idle 200 ms was closed with IdleTimeout 75 s")
	}
}
