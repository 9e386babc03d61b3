package leakwatch

import (
	"bytes"
	"context"
	"io"
	"net"
	"reflect"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const module = "gatewaylab/goservices"

// The planted leaks: goroutines parked until the test releases them.
func parkOnChan(release <-chan struct{}) { <-release }

// parkOnWaitGroup goes through an own RoundTrip-like wrapper, which the
// own label skips in favour of this caller.
func parkOnWaitGroup(release *sync.WaitGroup) { relay{}.RoundTrip(release) }

type relay struct{}

func (relay) RoundTrip(release *sync.WaitGroup) { release.Wait() }

// leak starts per goroutines in each of batches rounds and samples after
// each round once they are parked in fn. The test releases them; cleanup
// waits for them to end.
func leak(t *testing.T, w *Watcher, batches, per int, fn string, start func(done func())) {
	t.Helper()
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	base := parked(fn) // goroutines an earlier call left parked in fn
	for b := 1; b <= batches; b++ {
		for range per {
			wg.Add(1)
			start(wg.Done)
		}
		waitParked(t, fn, base+b*per)
		w.Sample()
	}
}

// parked counts the goroutines blocked inside fn.
func parked(fn string) int { return inside(fn, true) }

// present counts the goroutines with fn on their stack, blocked or not: a
// released goroutine is runnable for a while and still profiles as parked.
func present(fn string) int { return inside(fn, false) }

func inside(fn string, blockedOnly bool) int {
	buf := make([]byte, 1<<20)
	dump := string(buf[:runtime.Stack(buf, true)])
	got := 0
	for _, g := range strings.Split(dump, "\n\n") {
		if !strings.Contains(g, "leakwatch."+fn+"(") {
			continue
		}
		if !blockedOnly || strings.Contains(g, "[chan receive") || strings.Contains(g, "[sync.WaitGroup.Wait") {
			got++
		}
	}
	return got
}

// waitParked waits until n goroutines are blocked inside fn, so that every
// sample sees them on the same stack.
func waitParked(t *testing.T, fn string, n int) {
	t.Helper()
	for range 2000 {
		if parked(fn) >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("fewer than %d goroutines parked in %s after 2s", n, fn)
}

func TestGrowingStackIsFlaggedThenForgiven(t *testing.T) {
	w := New(Options{Module: module})
	release := make(chan struct{})
	defer close(release)
	start := func(done func()) { go func() { defer done(); parkOnChan(release) }() } // one stack for both calls
	leak(t, w, 2, 6, "parkOnChan", start)
	if c := w.Candidates(); len(c) != 0 {
		t.Fatalf("flagged after 2 growths (12 goroutines): %+v", c)
	}
	leak(t, w, 1, 6, "parkOnChan", start)
	c := w.Candidates()
	if len(c) != 1 {
		t.Fatalf("want 1 candidate after 3 growths, got %+v", c)
	}
	if c[0].Top != module+"/leakwatch.parkOnChan" || !strings.HasPrefix(c[0].Own, "goservices/leakwatch/leakwatch_test.go:") || c[0].Count != 18 {
		t.Fatalf("wrong candidate %+v", c[0])
	}
	// Growth stops, the goroutines stay: stuck, still a leak.
	for range 5 {
		w.Sample()
	}
	if c := w.Candidates(); len(c) != 1 {
		t.Fatalf("stuck goroutines no longer flagged after 5 flat samples: %+v", c)
	}
}

func TestAJumpThatStaysIsFlaggedOnceItHasStayed(t *testing.T) {
	w := New(Options{Module: module})
	w.Sample() // watching begins before the leak
	release := make(chan struct{})
	defer close(release)
	leak(t, w, 1, 15, "parkOnChan", func(done func()) { go func() { defer done(); parkOnChan(release) }() })
	for range 3 {
		w.Sample()
	}
	if c := w.Candidates(); len(c) != 0 {
		t.Fatalf("flagged after 4 samples: %+v", c)
	}
	w.Sample()
	if c := w.Candidates(); len(c) != 1 || c[0].Count != 15 {
		t.Fatalf("a jump of 15 kept for 5 samples is not flagged: %+v", c)
	}
}

func TestGoroutinesThatComeAndGoAreNotStuck(t *testing.T) {
	w := New(Options{Module: module})
	w.Sample()
	var batches []chan struct{}
	add := func() {
		r := make(chan struct{})
		batches = append(batches, r)
		leak(t, w, 1, 12, "parkOnChan", func(done func()) { go func() { defer done(); parkOnChan(r) }() })
	}
	add()
	for range 5 { // the level swings between 12 and 24 goroutines
		add()
		close(batches[0])
		batches = batches[1:]
		for present("parkOnChan") > 12*len(batches) {
			time.Sleep(time.Millisecond)
		}
		w.Sample()
	}
	for _, r := range batches {
		close(r)
	}
	if c := w.Candidates(); len(c) != 0 {
		t.Fatalf("a stack that keeps losing goroutines was flagged: %+v", c)
	}
}

func TestTopIsTheBlockingCallNotTheRuntime(t *testing.T) {
	w := New(Options{Module: module})
	var release sync.WaitGroup
	release.Add(1)
	defer release.Done()
	leak(t, w, 3, 6, "parkOnWaitGroup", func(done func()) { go func() { defer done(); parkOnWaitGroup(&release) }() })
	pc := reflect.ValueOf(parkOnWaitGroup).Pointer()
	_, line := runtime.FuncForPC(pc).FileLine(pc)
	want := Stack{Top: "sync.(*WaitGroup).Wait", Own: "goservices/leakwatch/leakwatch_test.go:" + strconv.Itoa(line), Count: 18}
	if c := w.Candidates(); len(c) != 1 || c[0] != want {
		t.Fatalf("want %+v, got %+v", want, c)
	}
}

func TestSteadyWorkloadIsNotFlagged(t *testing.T) {
	w := New(Options{Module: module})
	release := make(chan struct{})
	defer close(release)
	leak(t, w, 1, 40, "parkOnChan", func(done func()) { go func() { defer done(); parkOnChan(release) }() })
	for range 8 {
		// Short-lived workers come and go between samples.
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() { defer wg.Done(); time.Sleep(time.Millisecond) }()
		}
		wg.Wait()
		w.Sample()
	}
	if c := w.Candidates(); len(c) != 0 {
		t.Fatalf("steady workload flagged: %+v", c)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	w := New(Options{Module: module})
	if err := w.Register(reg); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release)
	leak(t, w, 3, 6, "parkOnChan", func(done func()) { go func() { defer done(); parkOnChan(release) }() })

	got := gather(t, reg)
	if v := got["leakwatch_candidate_stacks"][0].GetGauge().GetValue(); v != 1 {
		t.Errorf("candidate_stacks = %v", v)
	}
	if v := got["leakwatch_candidate_goroutines"][0].GetGauge().GetValue(); v != 18 {
		t.Errorf("candidate_goroutines = %v", v)
	}
	if v := got["leakwatch_samples_total"][0].GetCounter().GetValue(); v != 3 {
		t.Errorf("samples_total = %v", v)
	}
	if v := got["leakwatch_first_flagged_timestamp_seconds"][0].GetGauge().GetValue(); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("first_flagged = %v", v)
	}
	stacks := got["leakwatch_stack_goroutines"]
	if len(stacks) != 1 || stacks[0].GetGauge().GetValue() != 18 {
		t.Fatalf("stack_goroutines = %v", stacks)
	}
	labels := map[string]string{}
	for _, l := range stacks[0].GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	if labels["top"] != module+"/leakwatch.parkOnChan" || !strings.HasPrefix(labels["own"], "goservices/leakwatch/leakwatch_test.go:") {
		t.Errorf("labels = %v", labels)
	}
}

func TestMetricsBeforeAnyCandidate(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := New(Options{}).Register(reg); err != nil {
		t.Fatal(err)
	}
	got := gather(t, reg)
	if v := got["leakwatch_first_flagged_timestamp_seconds"][0].GetGauge().GetValue(); v != 0 {
		t.Errorf("first_flagged = %v, want 0", v)
	}
	if len(got["leakwatch_stack_goroutines"]) != 0 {
		t.Errorf("stack_goroutines exported with no candidate")
	}
}

func TestRunStopsWithContext(t *testing.T) {
	defer goleak.VerifyNone(t)
	w := New(Options{Interval: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	time.Sleep(30 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	w.mu.Lock()
	n := w.samples
	w.mu.Unlock()
	if n < 2 {
		t.Fatalf("only %d samples in 30ms at a 5ms interval", n)
	}
}

func TestParkingAndShortFile(t *testing.T) {
	for fn, want := range map[string]bool{
		"runtime.gopark":                      true,
		"runtime.chanrecv1":                   true,
		"internal/runtime/maps.(*Map).Get":    true,
		"internal/poll.runtime_pollWait":      true,
		"sync.runtime_SemacquireWaitGroup":    true,
		"internal/poll.(*pollDesc).waitRead":  true,
		"internal/poll.(*FD).Read":            false,
		"net/http.(*Transport).getConn":       false,
		"gatewaylab/goservices/x.runtimeish":  false,
		"example.com/runtime.Handler.ServeIt": false,
	} {
		if parking(fn) != want {
			t.Errorf("parking(%q) = %v", fn, !want)
		}
	}
	if got := shortFile("/work/main/goservices/patterns/unclosedbody/buggy.go", module); got != "goservices/patterns/unclosedbody/buggy.go" {
		t.Errorf("shortFile = %q", got)
	}
	if got := shortFile("/src/other/pkg/f.go", module); got != "pkg/f.go" {
		t.Errorf("shortFile = %q", got)
	}
}

func gather(t *testing.T, reg *prometheus.Registry) map[string][]*dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]*dto.Metric{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf.GetMetric()
	}
	return out
}

// Three distinct parked stacks for the benchmark.
func benchA(c <-chan struct{}) { <-c }
func benchB(c <-chan struct{}) { <-c }
func benchC(c <-chan struct{}) { <-c }

func parkThousand(b *testing.B) func() {
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 1000 {
		f := []func(<-chan struct{}){benchA, benchB, benchC}[i%3]
		wg.Add(1)
		go func() { defer wg.Done(); f(release) }()
	}
	time.Sleep(50 * time.Millisecond) // let them park
	return func() { close(release); wg.Wait() }
}

// BenchmarkSample: one sample with ~1000 goroutines parked in 3 stacks.
func BenchmarkSample(b *testing.B) {
	defer parkThousand(b)()
	w := New(Options{Module: module})
	w.Sample() // first sample allocates the buffers and state
	b.ReportAllocs()
	for b.Loop() {
		w.Sample()
	}
}

// BenchmarkPprofDebug1Text is the alternative we did not pick: the text
// profile that pprof writes, before any parsing.
func BenchmarkPprofDebug1Text(b *testing.B) {
	defer parkThousand(b)()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStacksOutsideOwnCodeAreIgnoredUnlessAsked(t *testing.T) {
	for _, all := range []bool{false, true} {
		w := New(Options{Module: "example.com/other", AllStacks: all})
		release := make(chan struct{})
		leak(t, w, 3, 6, "parkOnChan", func(done func()) { go func() { defer done(); parkOnChan(release) }() })
		got := len(w.Candidates())
		close(release)
		if want := map[bool]int{false: 0, true: 1}[all]; got != want {
			t.Fatalf("AllStacks=%v: %d candidates, want %d", all, got, want)
		}
	}
}

// embedded wraps a net.Conn the way a counting dialer does: Read is promoted.
type embedded struct{ net.Conn }

func TestPromotedMethodsOfOwnWrappersAreNotOwnCode(t *testing.T) {
	w := New(Options{Module: module})
	w.Sample()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 15 { // like an idle pool's readLoops: library code reading through our wrapper
		a, b := net.Pipe()
		conns = append(conns, a, b)
		go io.ReadFull(embedded{a}, make([]byte, 1))
	}
	for range 7 {
		time.Sleep(5 * time.Millisecond)
		w.Sample()
	}
	if c := w.Candidates(); len(c) != 0 {
		t.Fatalf("library goroutines reading through an embedded wrapper were flagged: %+v", c)
	}
}
