package defergoroutinepanic

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/deptest"
	"gatewaylab/goservices/internal/svc"
)

// newDep is the test's dependency: healthy, or failing like Toxiproxy's
// reset_peer (the connection dies before any answer).
func newDep(t *testing.T, failing bool) svc.Env {
	t.Helper()
	return deptest.Env(t, 10, func(w http.ResponseWriter, r *http.Request) {
		if failing {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		w.Write([]byte(`{"ok":true}`))
	})
}

func serve(h http.Handler) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/item", nil))
	return rec.Code
}

// The buggy handler must crash a process, so it runs in a child: this test
// binary re-run with BE_CRASHER=1.
func TestBuggyCrashesOnFailedCall(t *testing.T) {
	if os.Getenv("BE_CRASHER") == "1" {
		serve(Buggy(newDep(t, true)))
		time.Sleep(5 * time.Second) // the audit goroutine panics long before
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBuggyCrashesOnFailedCall$")
	cmd.Env = append(os.Environ(), "BE_CRASHER=1")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("child: %v, want exit status 2; output:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "panic") || !strings.Contains(stderr.String(), "audit") {
		t.Errorf("child output lacks the audit panic:\n%s", stderr.String())
	}
	first, _, _ := strings.Cut(stderr.String(), "\n\n")
	t.Logf("child exit %d:\n%s", exit.ExitCode(), first)
}

// With a healthy dependency the bug stays hidden.
func TestBuggyHealthyDependency(t *testing.T) {
	h := Buggy(newDep(t, false))
	for range 20 {
		if code := serve(h); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
}

func TestFixedSurvivesAndDoesNotLeak(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the dependencies close
	for _, failing := range []bool{true, false} {
		h := Fixed(newDep(t, failing))
		want := http.StatusOK
		if failing {
			want = http.StatusBadGateway
		}
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if code := serve(h); code != want {
					t.Errorf("failing=%v: status %d, want %d", failing, code, want)
				}
			})
		}
		wg.Wait()
	}
}
