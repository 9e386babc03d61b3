package articleclaims

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// listen opens a TCP listener on 127.0.0.1 (never another interface).
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// serve runs s on a fresh loopback listener and returns its address.
func serve(t *testing.T, s *http.Server) string {
	t.Helper()
	ln := listen(t)
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String()
}

// silentPeer accepts one connection and keeps it open without ever writing:
// a live peer that never answers (a dependency holding its reply). It
// returns the client's end, dialed with d.
func silentPeer(t *testing.T, d *net.Dialer) *net.TCPConn {
	t.Helper()
	ln := listen(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case p, ok := <-accepted:
		if !ok {
			t.Fatal("accept failed")
		}
		t.Cleanup(func() { p.Close() })
	case <-time.After(2 * time.Second):
		t.Fatal("peer did not accept")
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}
