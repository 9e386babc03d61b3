package articleclaims

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"
)

// keepAlive reads the socket's TCP keep-alive settings as the kernel holds
// them: idle and interval in seconds, and the probe count.
func keepAlive(t *testing.T, c *net.TCPConn) (idle, intvl, cnt int) {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	raw.Control(func(fd uintptr) {
		get := func(opt int) int {
			v, err := syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, opt)
			errs = append(errs, err)
			return v
		}
		idle, intvl, cnt = get(syscall.TCP_KEEPIDLE), get(syscall.TCP_KEEPINTVL), get(syscall.TCP_KEEPCNT)
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return idle, intvl, cnt
}

// The article (§2.2): without a deadline conn.Read blocks "until the peer's
// FIN or the TCP keepalive timeout". Keep-alive only finds a dead peer: the
// kernel of a live peer answers every probe, so a Read from a peer that is
// alive but never writes (a dependency holding its reply) stays blocked past
// several probe intervals, with the shortest keep-alive Linux takes (it counts
// in whole seconds: 100 ms becomes 1 s). Only the read deadline ends it.
func TestKeepAliveDoesNotUnblockReadFromSilentPeer(t *testing.T) {
	t.Parallel()
	d := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: 100 * time.Millisecond, Interval: 100 * time.Millisecond, Count: 2,
	}}
	c := silentPeer(t, d)
	idle, intvl, cnt := keepAlive(t, c)
	if idle != 1 || intvl != 1 || cnt != 2 {
		t.Fatalf("kernel keep-alive idle %ds interval %ds count %d, want 1 1 2", idle, intvl, cnt)
	}
	// Two probes go out (at 1 s and 2 s) and are answered; a dead peer would
	// be given up after idle + count x interval = 3 s.
	const wait = 2500 * time.Millisecond
	start := time.Now()
	c.SetReadDeadline(start.Add(wait))
	n, err := c.Read(make([]byte, 1))
	elapsed := time.Since(start)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read returned %d bytes, err %v after %v; want the deadline, not a reset", n, err, elapsed)
	}
	if elapsed < wait-50*time.Millisecond {
		t.Errorf("Read ended after %v, before the %v deadline", elapsed, wait)
	}

	// Go's default for a dialed connection: 15 s idle, 15 s interval, 9
	// probes - a dead peer is found after 2.5 minutes, a live one never.
	def := silentPeer(t, &net.Dialer{})
	if idle, intvl, cnt := keepAlive(t, def); idle != 15 || intvl != 15 || cnt != 9 {
		t.Errorf("default dialer keep-alive %d/%d/%d, want 15/15/9", idle, intvl, cnt)
	}
}

// The article (§2.2) lists "select { case <-ctx.Done(): close(conn) }" as
// the wrong way, saying Read "still blocks" without a deadline. Closing the
// connection from another goroutine ends a blocked Read at once with
// net.ErrClosed.
func TestClosingConnOnContextDoneUnblocksRead(t *testing.T) {
	c := silentPeer(t, &net.Dialer{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	start := time.Now()
	_, err := c.Read(make([]byte, 1)) // no deadline set
	elapsed := time.Since(start)
	if !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read: %v after %v, want net.ErrClosed", err, elapsed)
	}
	if elapsed < 90*time.Millisecond || elapsed > time.Second {
		t.Errorf("Read ended after %v, want ~100ms (when the context was done)", elapsed)
	}
}

// The article (§2.2): SetReadDeadline takes an absolute point in time, not a
// duration. It does: a deadline already past fails the Read at once even with
// data waiting, and clearing it reads the data.
func TestReadDeadlineIsAnAbsoluteInstant(t *testing.T) {
	ln := listen(t)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		p, err := ln.Accept()
		if err != nil {
			return
		}
		p.Write([]byte("x"))
		<-done // keep it open while the test reads
		p.Close()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(buf); err != nil || buf[0] != 'x' {
		t.Fatalf("first read: %q %v", buf, err)
	}
	// A second byte never comes; a deadline in the past fails at once.
	c.SetReadDeadline(time.Now().Add(-time.Millisecond))
	start := time.Now()
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) > 100*time.Millisecond {
		t.Errorf("read past the deadline: %v after %v, want os.ErrDeadlineExceeded at once", err, time.Since(start))
	}
}

// The article (§2.2): a read blocked without a deadline shows in
// /debug/pprof/goroutine?debug=2 as "syscall.Syscall in IO wait". The state
// is [IO wait], but the goroutine is parked in Go's netpoller
// (internal/poll.runtime_pollWait); no syscall.Syscall frame is in its stack.
func TestBlockedReadIsIOWaitInThePollerNotASyscall(t *testing.T) {
	c := silentPeer(t, &net.Dialer{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Read(make([]byte, 1))
	}()
	find := func() (block string) {
		var buf bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&buf, 2)
		for _, b := range strings.Split(buf.String(), "\n\n") {
			if strings.Contains(b, "TestBlockedReadIsIOWaitInThePollerNotASyscall.func") && strings.Contains(b, "net.(*conn).Read") {
				return b
			}
		}
		return ""
	}
	var block string
	deadline := time.Now().Add(2 * time.Second)
	for block = find(); block == "" && time.Now().Before(deadline); block = find() {
		time.Sleep(10 * time.Millisecond)
	}
	if block != "" {
		// It has reached Read; let it settle (its first read attempt is a
		// real, non-blocking syscall that finds nothing), then look again.
		time.Sleep(100 * time.Millisecond)
		block = find()
	}
	c.Close()
	<-done
	if block == "" {
		t.Fatal("the blocked reader was not in the goroutine dump")
	}
	header, _, _ := strings.Cut(block, "\n")
	if !strings.Contains(header, "[IO wait") {
		t.Errorf("state %q, want IO wait", header)
	}
	if !strings.Contains(block, "internal/poll.runtime_pollWait") || strings.Contains(block, "syscall.Syscall") {
		t.Errorf("stack:\n%s\nwant internal/poll.runtime_pollWait and no syscall.Syscall", block)
	}
	t.Logf("blocked reader:\n%s", block)
}
