package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func startTCP(t *testing.T) (addr string, shutdown func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveTCP(ctx, ln) }()
	var once sync.Once
	shutdown = func() { // idempotent: a test may shut down early
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serveTCP: %v", err)
				}
			case <-time.After(3 * time.Second):
				t.Fatal("serveTCP did not return after cancel")
			}
		})
	}
	return ln.Addr().String(), shutdown
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(3 * time.Second)) // a test bug must not hang
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func exchange(t *testing.T, c net.Conn, r *bufio.Reader, send string) string {
	t.Helper()
	if _, err := io.WriteString(c, send); err != nil {
		t.Fatal(err)
	}
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("send %q: %v", send, err)
	}
	return line
}

func TestTCPLineProtocol(t *testing.T) {
	defer goleak.VerifyNone(t)
	addr, shutdown := startTCP(t)
	defer shutdown()

	// Keep-alive: several lines on one connection, one counter for all.
	a, ra := dial(t, addr)
	for _, want := range []string{"OK 1\n", "OK 2\n"} {
		if got := exchange(t, a, ra, "GET item\n"); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	b, rb := dial(t, addr)
	if got := exchange(t, b, rb, "GET other thing\n"); got != "OK 3\n" {
		t.Errorf("second conn: got %q, want OK 3", got)
	}

	// Malformed line: ERR, then the server closes.
	if got := exchange(t, b, rb, "PUT item\n"); got != "ERR\n" {
		t.Errorf("malformed: got %q, want ERR", got)
	}
	if _, err := rb.ReadByte(); err != io.EOF {
		t.Errorf("after ERR: read err %v, want EOF", err)
	}
	// a is still open and idle: shutdown must close it, not wait for it.
	shutdown()
	if _, err := ra.ReadByte(); err != io.EOF {
		t.Errorf("after shutdown: read err %v, want EOF", err)
	}
}

func TestTCPLongLineIsMalformed(t *testing.T) {
	addr, shutdown := startTCP(t)
	defer shutdown()
	c, r := dial(t, addr)
	io.WriteString(c, "GET "+string(make([]byte, 5000))+"\n")
	// The server answers ERR and closes with our bytes unread, so the kernel
	// may reset the connection before we read ERR: require only that it ends.
	got, err := r.ReadString('\n')
	if got != "ERR\n" && (err == nil || errors.Is(err, os.ErrDeadlineExceeded)) {
		t.Errorf("got %q, %v; want ERR or a closed connection", got, err)
	}
}
