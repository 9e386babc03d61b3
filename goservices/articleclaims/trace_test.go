package articleclaims

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The article (§3.3) rebuilds a timeline with
//
//	GODEBUG=schedtrace=1000ms go run main.go 2> sched.log &
//	go tool trace -http=localhost:8081 trace.out &
//
// and reads "SCHED, BLOCK" events from sched.log as anchors. schedtrace takes
// a number of milliseconds: "1000ms" is not one, so Go ignores it and
// sched.log stays empty; "1000" prints one "SCHED" summary line per interval
// (counts of Ps, threads, run queues: no per-goroutine BLOCK events). And
// neither writes a trace.out for go tool trace: that file comes only from
// runtime/trace.Start, go test -trace or /debug/pprof/trace.
func TestSchedtraceWithMsSuffixPrintsNothing(t *testing.T) {
	if os.Getenv("ARTICLECLAIMS_CHILD") == "sched" {
		time.Sleep(300 * time.Millisecond) // the "service", running a while
		return
	}
	type result struct {
		stderr string
		files  []string
		err    error
	}
	run := func(godebug string) (r result) {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestSchedtraceWithMsSuffixPrintsNothing$", "-test.count=1")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "ARTICLECLAIMS_CHILD=sched", "GODEBUG="+godebug)
		var errBuf bytes.Buffer
		cmd.Stderr = &errBuf
		r.err = cmd.Run()
		r.stderr = errBuf.String()
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			r.files = append(r.files, e.Name())
		}
		return r
	}
	withMs, plain := make(chan result, 1), make(chan result, 1)
	go func() { withMs <- run("schedtrace=1000ms") }()
	go func() { plain <- run("schedtrace=1000") }()
	ms, num := <-withMs, <-plain
	for _, r := range []result{ms, num} {
		if r.err != nil {
			t.Fatalf("child: %v\n%s", r.err, r.stderr)
		}
	}
	if n := strings.Count(ms.stderr, "SCHED "); n != 0 {
		t.Errorf("schedtrace=1000ms printed %d SCHED lines, want 0 (not a number: ignored)", n)
	}
	if n := strings.Count(num.stderr, "SCHED "); n < 1 {
		t.Errorf("schedtrace=1000 printed no SCHED line; stderr:\n%s", num.stderr)
	}
	if strings.Contains(num.stderr, "BLOCK") {
		t.Errorf("schedtrace printed BLOCK events:\n%s", num.stderr)
	}
	if len(ms.files)+len(num.files) != 0 {
		t.Errorf("files written: %v %v, want none (no trace.out)", ms.files, num.files)
	}
	first, _, _ := strings.Cut(num.stderr, "\n")
	t.Logf("schedtrace=1000: %q", first)
}
