package articleclaims

import (
	"context"
	"errors"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// articleWithCancelAtExit is the article's §4.2 code as printed.
const articleWithCancelAtExit = `package p

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func WithCancelAtExit(parent context.Context) (ctx context.Context, cancel context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	exitOnce.Do(func() {
		sigChan := make(chan os.Signal, 1)
		signal.Notify(sigChan, syscall.SIGTERM, syscall.SIGINT)
		go func() {
			<-sigChan
			cancel() // 进程退出时统一取消所有派生ctx
		}()
	})
	return ctx, func() { cancel() }
}
`

// exitOnce and WithCancelAtExit: the article's code, fixed only as far as
// compiling takes. As printed, "ctx, cancel :=" declares nothing new (both
// are the named results) and exitOnce is never declared. Fixed here by
// dropping the results' names (so := declares locals, as the body intends)
// and declaring exitOnce; nothing else is changed.
var exitOnce sync.Once

func WithCancelAtExit(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	exitOnce.Do(func() {
		sigChan := make(chan os.Signal, 1)
		signal.Notify(sigChan, syscall.SIGTERM, syscall.SIGINT)
		go func() {
			<-sigChan
			cancel() // 进程退出时统一取消所有派生ctx
		}()
	})
	return ctx, func() { cancel() }
}

// The other one-token fix: keep the named results and turn := into =. Then
// "return ctx, func() { cancel() }" assigns that closure to the named result
// cancel, which the closure itself - and the signal goroutine - call: the
// returned cancel, and the exit path, recurse until the stack overflows.
var exitOnceAssign sync.Once

func withCancelAtExitAssign(parent context.Context) (ctx context.Context, cancel context.CancelFunc) {
	ctx, cancel = context.WithCancel(parent)
	exitOnceAssign.Do(func() {
		sigChan := make(chan os.Signal, 1)
		signal.Notify(sigChan, syscall.SIGTERM, syscall.SIGINT)
		go func() {
			<-sigChan
			cancel() // 进程退出时统一取消所有派生ctx
		}()
	})
	return ctx, func() { cancel() }
}

// The article's WithCancelAtExit "cancels every derived context at process
// exit". As printed it does not compile. Fixed to compile, the signal
// goroutine is started once (sync.Once) and captures the cancel of the first
// call only: at SIGTERM the first context is cancelled, every later one never.
func TestWithCancelAtExitDoesNotCompileAndWiresOnlyTheFirstCancel(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "article.go", articleWithCancelAtExit, 0)
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil), Error: func(err error) { errs = append(errs, err.Error()) }}
	conf.Check("p", fset, []*ast.File{f}, nil)
	all := strings.Join(errs, "\n")
	if !strings.Contains(all, "no new variables on left side of :=") || !strings.Contains(all, "undefined: exitOnce") {
		t.Errorf("type errors of the article's code:\n%s\nwant \"no new variables on left side of :=\" and \"undefined: exitOnce\"", all)
	}
	t.Logf("the article's code as printed:\n%s", all)

	exitOnce = sync.Once{} // test-only: so that -count=N starts from a fresh process state
	t.Cleanup(func() { signal.Reset(syscall.SIGTERM, syscall.SIGINT) })
	first, cancelFirst := WithCancelAtExit(context.Background())
	defer cancelFirst()
	second, cancelSecond := WithCancelAtExit(context.Background())
	defer cancelSecond()

	// The process is told to exit (the signal is caught: the test binary lives on).
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-first.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("SIGTERM did not cancel the first context")
	}
	select {
	case <-second.Done():
		t.Fatal("SIGTERM cancelled the second context too")
	case <-time.After(200 * time.Millisecond):
	}
	if second.Err() != nil {
		t.Errorf("second context: %v, want still live", second.Err())
	}
	cancelSecond() // only its own cancel ends it
	if second.Err() == nil {
		t.Error("the returned cancel did not cancel the second context")
	}
}

// Fixed the other way (:= to =), the article's code compiles and its returned
// cancel calls itself forever: the process dies of a stack overflow. It runs
// in a child (this test binary again) with a small stack limit.
func TestWithCancelAtExitFixedByAssignmentRecursesForever(t *testing.T) {
	if os.Getenv("ARTICLECLAIMS_CHILD") == "assign" {
		debug.SetMaxStack(1 << 20)
		_, cancel := withCancelAtExitAssign(context.Background())
		cancel()
		os.Exit(0) // not reached
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWithCancelAtExitFixedByAssignmentRecursesForever$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ARTICLECLAIMS_CHILD=assign")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "stack overflow") ||
		!strings.Contains(string(out), "withCancelAtExitAssign.func2") {
		head, _, _ := strings.Cut(string(out), "\n\n")
		t.Fatalf("child: %v; want exit status 2 and a stack overflow in the returned cancel; output:\n%s", err, head)
	}
	first, _, _ := strings.Cut(string(out), "\n\n")
	t.Logf("child exit %d: %s", exit.ExitCode(), first)
}

// leakReports stands for Gomega's failure handler in the article's helper.
var leakReports []string

// ExpectNoGoroutineLeak is the article's §4.3 Ginkgo helper with
// Expect(after).To(Equal(before), ...) written as a plain comparison that
// records a failure: no Ginkgo or Gomega dependency, the same logic.
func ExpectNoGoroutineLeak() {
	before := runtime.NumGoroutine()
	defer func() {
		after := runtime.NumGoroutine()
		if after != before {
			leakReports = append(leakReports, "goroutine leak detected")
		}
	}()
}

// The article's helper runs its deferred check when the helper itself
// returns - before the test body has run - so it compares a count with
// itself and passes while the body leaks goroutines.
func TestGinkgoGoroutineAssertionIsANoOp(t *testing.T) {
	leakReports = nil
	before := runtime.NumGoroutine()

	ExpectNoGoroutineLeak() // "called first in the It block", as the article says
	const leaked = 10
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range leaked {
		wg.Go(func() { <-release }) // blocked for good, as far as the test body knows
	}
	grown := runtime.NumGoroutine() - before

	close(release) // the test's own cleanup
	wg.Wait()
	if grown < leaked {
		t.Fatalf("goroutines grew by %d, want >= %d", grown, leaked)
	}
	if len(leakReports) != 0 {
		t.Errorf("the article's assertion reported %v; it should have been a no-op", leakReports)
	}
	t.Logf("body leaked %d goroutines; the article's assertion reported nothing", grown)
}

var recovered atomic.Int64

// safeDeferWithRecover is the article's §2.5 "production-grade" template,
// verbatim but for log.Printf, replaced by a counter.
func safeDeferWithRecover() {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer func() {
		go func() {
			defer func() {
				if r := recover(); r != nil {
					recovered.Add(1) // log.Printf("recovered in goroutine: %v", r)
				}
			}()
			wg.Add(1)
			defer wg.Done()
			panic("safe goroutine panic")
		}()
	}()
}

// The same with wg.Add(1) before the go statement.
func addBeforeGo() {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer func() {
		wg.Add(1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					recovered.Add(1)
				}
			}()
			defer wg.Done()
			panic("safe goroutine panic")
		}()
	}()
}

// The article's template calls wg.Add(1) inside the goroutine: wg.Wait()
// usually runs first, sees a zero counter and returns before the goroutine
// has even started - the function does not wait for what it started. The
// recover itself works (no crash, every panic recovered). Control: with Add
// before go, Wait always waits.
func TestWaitGroupAddInsideGoroutineDoesNotWait(t *testing.T) {
	const runs = 200
	early := func(f func()) (n int) {
		for range runs {
			before := recovered.Load()
			f()
			if recovered.Load() == before {
				n++ // returned before its goroutine finished
			}
			deadline := time.Now().Add(2 * time.Second)
			for recovered.Load() == before {
				if time.Now().After(deadline) {
					t.Fatal("the goroutine's panic was never recovered")
				}
				runtime.Gosched()
			}
		}
		return n
	}
	article, fixed := early(safeDeferWithRecover), early(addBeforeGo)
	if article == 0 {
		t.Errorf("the article's template waited for its goroutine in all %d runs", runs)
	}
	if fixed != 0 {
		t.Errorf("Add before go returned early in %d of %d runs", fixed, runs)
	}
	t.Logf("returned before its goroutine finished: article %d of %d, Add-before-go %d of %d", article, runs, fixed, runs)
}
