package leakwatch

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
)

// TestMain runs the tests with GODEBUG=tracebackancestors=5, which Go reads
// only at start-up: creators.go needs it to name standard-library stacks.
func TestMain(m *testing.M) {
	if !strings.Contains(os.Getenv("GODEBUG"), "tracebackancestors=") {
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), "GODEBUG="+strings.Trim(os.Getenv("GODEBUG")+",tracebackancestors=5", ","))
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			if exit, ok := err.(*exec.ExitError); ok {
				os.Exit(exit.ExitCode())
			}
			panic(err)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

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

// pipeReads counts goroutines reading a net.Pipe, blocked or (blocked
// false) on their way out.
func pipeReads(blocked bool) int {
	buf := make([]byte, 1<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "net.(*pipe).read(") && (!blocked || strings.Contains(g, "[select")) {
			n++
		}
	}
	return n
}

func waitPipeReads(t *testing.T, blocked bool, n int) {
	t.Helper()
	for range 2000 {
		if got := pipeReads(blocked); (blocked && got >= n) || (!blocked && got == n) {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("not %d goroutines reading pipes after 2s", n)
}

// embedded wraps a net.Conn the way a counting dialer does: Read is promoted.
type embedded struct{ net.Conn }

func TestPromotedMethodsOfOwnWrappersAreNotOwnCode(t *testing.T) {
	for _, creators := range []bool{false, true} {
		waitPipeReads(t, false, 0) // the last round's readers are gone
		w := New(Options{Module: module, NoCreators: !creators})
		w.Sample()
		var conns []net.Conn
		goLine := 0
		for range 15 { // like an idle pool's readLoops: library code reading through our wrapper
			a, b := net.Pipe()
			conns = append(conns, a, b)
			_, _, goLine, _ = runtime.Caller(0)
			go io.ReadFull(embedded{a}, make([]byte, 1))
		}
		waitPipeReads(t, true, 15) // all 15 on one stack before sampling
		for range 7 {
			w.Sample()
		}
		c := w.Candidates()
		for _, conn := range conns {
			conn.Close()
		}
		// The promoted Read is never the name; the go statement that started
		// the goroutines is, once creators are looked up.
		want := []Stack{}
		if creators {
			want = []Stack{{Top: "net.(*pipe).read", Own: "goservices/leakwatch/leakwatch_test.go:" + strconv.Itoa(goLine+1), CreatedBy: true, Count: 15}}
		}
		if !slices.Equal(c, want) {
			t.Fatalf("creators %v: want %+v, got %+v", creators, want, c)
		}
	}
}

// fetchAndKeep is the leak under test: a response body never closed. It
// returns the line of the call that started the connection.
func fetchAndKeep(c *http.Client, url string) (*http.Response, int, error) {
	_, _, line, _ := runtime.Caller(0)
	resp, err := c.Get(url)
	return resp, line + 1, err
}

// connLoops counts the client connections' readLoops waiting for their body
// to be read (held) and those waiting on the socket (idle).
func connLoops() (held, idle int) {
	buf := make([]byte, 8<<20)
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if !strings.Contains(g, "(*persistConn).readLoop(") {
			continue
		}
		if strings.Contains(g, "(*persistConn).Read(") {
			idle++
		} else if strings.Contains(g, "[select") {
			held++
		}
	}
	return held, idle
}

func waitConns(t *testing.T, held, idle int) {
	t.Helper()
	for range 2000 {
		if h, i := connLoops(); h >= held && i >= idle {
			return
		}
		time.Sleep(time.Millisecond)
	}
	h, i := connLoops()
	t.Fatalf("want %d held and %d idle connections, have %d and %d after 2s", held, idle, h, i)
}

func TestAnUnclosedBodyIsNamedByTheLineThatStartedIt(t *testing.T) {
	if !strings.Contains(os.Getenv("GODEBUG"), "tracebackancestors=") {
		t.Fatal("TestMain should have set GODEBUG=tracebackancestors")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "body") }))
	defer srv.Close()
	tr := &http.Transport{} // the default Transport's settings: no cap on connections per host
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var kept []*http.Response
	defer func() {
		for _, r := range kept {
			r.Body.Close()
		}
	}()
	w := New(Options{Module: module})
	w.Sample()
	at := 0
	for range 4 {
		for range 6 {
			resp, line, err := fetchAndKeep(client, srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			kept, at = append(kept, resp), line
		}
		waitConns(t, len(kept), 0)
		w.Sample()
	}
	var got []Stack
	for _, c := range w.Candidates() {
		if strings.HasPrefix(c.Top, "net/http.") {
			got = append(got, c)
		}
	}
	want := Stack{Top: "net/http.(*persistConn).readLoop", Own: "goservices/leakwatch/leakwatch_test.go:" + strconv.Itoa(at), CreatedBy: true, Count: 24}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("want only %+v among the standard library's stacks (writeLoop is an idle connection's too), got %+v", want, got)
	}
}

func TestAnIdlePoolIsNotALeak(t *testing.T) {
	var arrived sync.WaitGroup
	const conns = 24
	arrived.Add(conns)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		arrived.Done()
		arrived.Wait() // all requests in flight at once: one connection each
		io.WriteString(w, "body")
	}))
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	w := New(Options{Module: module})
	w.Sample()
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := client.Get(srv.URL); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	waitConns(t, 0, conns)
	for range 6 {
		w.Sample()
	}
	if c := w.Candidates(); len(c) != 0 {
		t.Fatalf("an idle pool of %d connections was flagged: %+v", conns, c)
	}
}

func TestParseDump(t *testing.T) {
	text, err := os.ReadFile("../../tests/fixtures/goroutines/ancestors-debug2.txt")
	if err != nil {
		t.Fatal(err)
	}
	var readLoop *dumped
	for _, g := range parseDump(string(text)) {
		if len(g.funcs) > 0 && g.funcs[0] == "net/http.(*persistConn).readLoop" {
			readLoop = &g
			break
		}
	}
	if readLoop == nil {
		t.Fatal("no readLoop goroutine parsed")
	}
	if got := creatorLine(readLoop.creators, "example.com/none"); got != "gt/main.go:16" {
		t.Fatalf("creator of the readLoop: %q, want gt/main.go:16 (main.leak, not main.main; printed at its return site, as this binary has no main.leak to re-read it by)", got)
	}
	served := []frame{{fn: "net/http.(*conn).serve", file: "/x/server.go", line: 1}, {fn: acceptLoop, file: "/x/server.go", line: 2}, {fn: "main.main.func1", file: "/w/main.go", line: 9}}
	if got := creatorLine(served, "example.com/none"); got != "" {
		t.Fatalf("an accepted connection was named by %q", got)
	}
}
