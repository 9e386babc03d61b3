package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain doubles as refsvc: with REFSVC_ARGS set, the test binary runs
// main, so tests can send a real SIGTERM to a real process.
func TestMain(m *testing.M) {
	if a := os.Getenv("REFSVC_ARGS"); a != "" {
		os.Args = append([]string{"refsvc"}, strings.Fields(a)...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type proc struct {
	cmd            *exec.Cmd
	service, admin string
	log            *lockedBuffer
}

func startRefsvc(t *testing.T, extra ...string) *proc {
	t.Helper()
	p := &proc{service: "http://" + freeAddr(t), admin: "http://" + freeAddr(t), log: &lockedBuffer{}}
	args := append([]string{"-addr", strings.TrimPrefix(p.service, "http://"), "-admin-addr", strings.TrimPrefix(p.admin, "http://"),
		"-dependency", "http://127.0.0.1:1", "-leakwatch-interval", "0", "-name", "t"}, extra...)
	p.cmd = exec.Command(os.Args[0])
	p.cmd.Env = append(os.Environ(), "REFSVC_ARGS="+strings.Join(args, " "))
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	p.until(t, "admin /healthz 200", func() bool { return status(p.admin+"/healthz", "GET") == 200 })
	return p
}

func (p *proc) until(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; log:\n%s", what, p.log.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// status is the answer's code, or 0 when the request failed.
func status(url, method string) int {
	req, _ := http.NewRequest(method, url, nil)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if _, err := new(bytes.Buffer).ReadFrom(resp.Body); err != nil {
		return 0
	}
	return resp.StatusCode
}

// inFlight starts a POST /api/item and waits until refsvc counts it.
func (p *proc) inFlight(t *testing.T) <-chan int {
	t.Helper()
	done := make(chan int, 1)
	go func() { done <- status(p.service+"/api/item", "POST") }()
	p.until(t, "a request in flight", func() bool {
		resp, err := http.Get(p.admin + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return strings.Contains(b.String(), "\ngatewaylab_inflight_requests 1\n")
	})
	return done
}

func TestSIGTERMPerVariant(t *testing.T) {
	for _, tc := range []struct {
		variant  string
		inFlight int // the in-flight POST's status; 0: connection cut
		log      string
	}{
		{"buggy", 0, "closed, exiting"},
		{"cancel-context", 503, "shut down, exiting"},
		{"fixed", 200, "drained, exiting"},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			p := startRefsvc(t, "-pattern", "graceful-shutdown", "-variant", tc.variant, "-param", "work=300ms", "-param", "drain_delay=100ms")
			for _, probe := range []string{"/livez", "/readyz"} {
				if code := status(p.service+probe, "GET"); code != 200 {
					t.Errorf("%s before SIGTERM: %d", probe, code)
				}
			}
			req := p.inFlight(t)
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if tc.variant == "fixed" {
				p.until(t, "/readyz 503", func() bool { return status(p.service+"/readyz", "GET") == 503 })
			}
			select {
			case code := <-req:
				if code != tc.inFlight {
					t.Errorf("in-flight POST: %d, want %d", code, tc.inFlight)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("in-flight POST never ended")
			}
			exited := make(chan error, 1)
			go func() { exited <- p.cmd.Wait() }()
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("refsvc exit: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("refsvc did not exit")
			}
			for _, line := range []string{"shutting down", "SIGTERM", tc.log} {
				if !strings.Contains(p.log.String(), line) {
					t.Errorf("log lacks %q:\n%s", line, p.log.String())
				}
			}
		})
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
