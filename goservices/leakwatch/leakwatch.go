// Package leakwatch samples the goroutine profile of its own process and
// flags stacks whose goroutine count keeps growing: candidate leaks.
//
//	w := leakwatch.New(leakwatch.Options{Module: "example.com/mysvc"})
//	if err := w.Register(prometheus.DefaultRegisterer); err != nil { ... }
//	go w.Run(ctx) // returns when ctx is cancelled
//
// A stack is a candidate when it holds more than Floor goroutines, (unless
// AllStacks) one of its frames is your own code or your code started it
// (standard-library goroutines such as a leaked connection's readLoop; this
// needs GODEBUG=tracebackancestors=5, see creators.go), and it is either growing
// (its count grew in at least Growths of the last Window samples) or stuck
// (it gained more than Floor goroutines since it was first seen and lost none
// over the last Window samples: a leak that stopped growing is still a leak). Each sample is one
// runtime.GoroutineProfile call plus a map update; stacks are symbolized
// only when they first become candidates, so a sample stays cheap.
//
// Stacks are told apart by their innermost 32 frames (runtime.StackRecord).
//
// The package has no dependency on the rest of gatewaylab: copy it freely.
package leakwatch

import (
	"cmp"
	"context"
	"math/bits"
	"path"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Watcher. Zero fields take the defaults.
type Options struct {
	Interval  time.Duration // between samples; default 1s
	Module    string        // prefix of your own code, e.g. "gatewaylab/goservices"; package main always counts
	Window    int           // samples looked back; default 5, at most 32
	Growths   int           // growths within Window that make a candidate; default 3, at most Window
	Floor     int           // a candidate holds more than Floor goroutines; default 10
	MaxStacks int           // candidates exported with top/own labels; default 5
	// AllStacks also flags stacks with no frame of your own code. Off by
	// default: a connection pool filling up (net/http's readLoop/writeLoop)
	// grows like a leak for a while and is not one.
	AllStacks bool
	// NoCreators skips naming a stack with no own frame by the own line that
	// started it. The lookup reads one full dump per new such stack and
	// needs GODEBUG=tracebackancestors=5 in the process's environment.
	NoCreators bool
}

// Stack is one candidate leak, as of the last sample.
type Stack struct {
	Top string // innermost function outside Go's parking machinery (runtime, netpoll)
	Own string // innermost frame in Module or package main (own RoundTrip/ServeHTTP wrappers skipped if a deeper one exists), as file:line from the module's folder on; "" if none
	// CreatedBy: the stack has no own frame and Own is the line that started
	// it (through its creators; see creators.go).
	CreatedBy bool
	Count     int // goroutines with this stack
}

// Watcher samples and remembers per-stack growth. Its methods are safe for
// concurrent use.
type Watcher struct {
	opts Options

	mu           sync.Mutex
	records      []runtime.StackRecord
	counts       map[[32]uintptr]int
	stacks       map[[32]uintptr]*stackState
	candidates   []Stack
	samples      uint64
	lastSeconds  float64
	firstFlagged time.Time

	descStacks, descGoroutines, descStack, descSamples, descSeconds, descFirst *prometheus.Desc
}

type stackState struct {
	count    int
	history  uint32 // bit i set: the count grew i samples ago
	base     int    // fewest goroutines seen; 0 when the stack appeared after the first sample
	kept     int    // samples in a row without a decrease
	top, own string // filled when the stack is first a candidate
	named    bool
	created  bool // own is the line that started this standard-library stack
	traced   bool // its creators were looked up (once: a full dump is costly)
}

// New returns a Watcher; call Run to start sampling.
func New(opts Options) *Watcher {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Window <= 0 {
		opts.Window = 5
	}
	opts.Window = min(opts.Window, 32) // history is a uint32
	if opts.Growths <= 0 {
		opts.Growths = 3
	}
	opts.Growths = min(opts.Growths, opts.Window)
	if opts.Floor <= 0 {
		opts.Floor = 10
	}
	if opts.MaxStacks <= 0 {
		opts.MaxStacks = 5
	}
	return &Watcher{
		opts:   opts,
		counts: make(map[[32]uintptr]int),
		stacks: make(map[[32]uintptr]*stackState),
		descStacks: prometheus.NewDesc("leakwatch_candidate_stacks",
			"Stacks whose goroutine count grew in enough recent samples to be candidate leaks.", nil, nil),
		descGoroutines: prometheus.NewDesc("leakwatch_candidate_goroutines",
			"Goroutines in candidate-leak stacks.", nil, nil),
		descStack: prometheus.NewDesc("leakwatch_stack_goroutines",
			"Goroutines in the largest candidate-leak stacks, by blocking function (top) and first own frame (own).",
			[]string{"top", "own"}, nil),
		descSamples: prometheus.NewDesc("leakwatch_samples_total",
			"Goroutine profiles taken.", nil, nil),
		descSeconds: prometheus.NewDesc("leakwatch_sample_seconds",
			"Duration of the last sample.", nil, nil),
		descFirst: prometheus.NewDesc("leakwatch_first_flagged_timestamp_seconds",
			"Unix time a candidate leak first appeared; 0 if never.", nil, nil),
	}
}

// Register adds the leakwatch_* metrics to reg.
func (w *Watcher) Register(reg prometheus.Registerer) error {
	return reg.Register(w)
}

// Run samples now and then every Interval until ctx is cancelled.
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.opts.Interval)
	defer t.Stop()
	for {
		w.Sample()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sample takes one goroutine profile and updates the candidates. Run calls
// it; tests and custom loops may call it directly.
func (w *Watcher) Sample() {
	w.mu.Lock()
	defer w.mu.Unlock()
	start := time.Now()
	recs := w.profile()
	if recs == nil {
		return // goroutines kept multiplying faster than we could size the buffer
	}
	clear(w.counts)
	for i := range recs {
		w.counts[recs[i].Stack0]++
	}
	for key := range w.stacks {
		if w.counts[key] == 0 {
			delete(w.stacks, key) // gone stacks forget their history; keeps memory bounded
		}
	}
	mask := uint32(1)<<w.opts.Window - 1 // Window 32: the shift gives 0, so all ones
	w.candidates = w.candidates[:0]
	untraced := map[[32]uintptr][]string{} // candidates with no own frame, creators not looked up yet
	for key, n := range w.counts {
		st := w.stacks[key]
		if st == nil {
			st = &stackState{}
			if w.samples == 0 {
				st.base = n // already there when watching began: not our growth to judge
			}
			w.stacks[key] = st
		}
		st.history = (st.history << 1) & mask
		if n > st.count {
			st.history |= 1
		}
		if n < st.count {
			st.kept = 0
		} else {
			st.kept++
		}
		st.base = min(st.base, n)
		st.count = n
		growing := bits.OnesCount32(st.history) >= w.opts.Growths
		stuck := n-st.base > w.opts.Floor && st.kept >= w.opts.Window
		if n <= w.opts.Floor || !(growing || stuck) {
			continue
		}
		if !st.named {
			st.top, st.own = name(key, w.opts.Module)
			st.named = true
		}
		if st.own == "" && !st.traced && !w.opts.NoCreators {
			if funcs := funcsOf(key); attributable(funcs) {
				untraced[key] = funcs
				continue
			}
			st.traced = true // an idle connection: never named, and not symbolized again each sample
		}
		if st.own == "" && !w.opts.AllStacks {
			continue
		}
		w.candidates = append(w.candidates, Stack{Top: st.top, Own: st.own, CreatedBy: st.created, Count: n})
	}
	if len(untraced) > 0 {
		found := creators(untraced, w.opts.Module)
		for key := range untraced {
			st := w.stacks[key]
			st.traced = true
			st.own, st.created = found[key], found[key] != ""
			if st.own != "" || w.opts.AllStacks {
				w.candidates = append(w.candidates, Stack{Top: st.top, Own: st.own, CreatedBy: st.created, Count: st.count})
			}
		}
	}
	slices.SortFunc(w.candidates, func(a, b Stack) int {
		return cmp.Or(b.Count-a.Count, strings.Compare(a.Top, b.Top), strings.Compare(a.Own, b.Own))
	})
	if len(w.candidates) > 0 && w.firstFlagged.IsZero() {
		w.firstFlagged = start
	}
	w.samples++
	w.lastSeconds = time.Since(start).Seconds()
}

// profile fills w.records; nil if the goroutine count outran the buffer
// on every try.
func (w *Watcher) profile() []runtime.StackRecord {
	n := runtime.NumGoroutine()
	for range 4 {
		if want := n + n/4 + 16; cap(w.records) < want {
			w.records = make([]runtime.StackRecord, want)
		}
		w.records = w.records[:cap(w.records)]
		got, ok := runtime.GoroutineProfile(w.records)
		if ok {
			return w.records[:got]
		}
		n = got
	}
	return nil
}

// Candidates returns the candidate leaks of the last sample, largest first.
func (w *Watcher) Candidates() []Stack {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.candidates)
}

// Describe implements prometheus.Collector.
func (w *Watcher) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{w.descStacks, w.descGoroutines, w.descStack, w.descSamples, w.descSeconds, w.descFirst} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (w *Watcher) Collect(ch chan<- prometheus.Metric) {
	w.mu.Lock()
	defer w.mu.Unlock()
	total := 0
	// Two stacks may share top and own (they differ deeper down): sum them,
	// since one label set may be exported only once.
	type labels struct{ top, own string }
	byLabels := map[labels]int{}
	var order []labels
	for _, c := range w.candidates {
		total += c.Count
		l := labels{c.Top, c.Own}
		if _, seen := byLabels[l]; !seen {
			order = append(order, l)
		}
		byLabels[l] += c.Count
	}
	slices.SortStableFunc(order, func(a, b labels) int { return byLabels[b] - byLabels[a] })
	for _, l := range order[:min(len(order), w.opts.MaxStacks)] {
		ch <- prometheus.MustNewConstMetric(w.descStack, prometheus.GaugeValue, float64(byLabels[l]), l.top, l.own)
	}
	first := 0.0
	if !w.firstFlagged.IsZero() {
		first = float64(w.firstFlagged.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(w.descStacks, prometheus.GaugeValue, float64(len(w.candidates)))
	ch <- prometheus.MustNewConstMetric(w.descGoroutines, prometheus.GaugeValue, float64(total))
	ch <- prometheus.MustNewConstMetric(w.descSamples, prometheus.CounterValue, float64(w.samples))
	ch <- prometheus.MustNewConstMetric(w.descSeconds, prometheus.GaugeValue, w.lastSeconds)
	ch <- prometheus.MustNewConstMetric(w.descFirst, prometheus.GaugeValue, first)
}

// name symbolizes a stack: the innermost function that is not parking
// machinery, and the innermost frame of the caller's own code.
func name(key [32]uintptr, module string) (top, own string) {
	pcs := key[:]
	if i := slices.Index(pcs, 0); i >= 0 {
		pcs = pcs[:i]
	}
	frames := runtime.CallersFrames(pcs)
	first, wrapper := "", ""
	for {
		f, more := frames.Next()
		if first == "" {
			first = f.Function
		}
		if top == "" && !parking(f.Function) {
			top = f.Function
		}
		// Methods promoted from an embedded type (e.g. a net.Conn wrapper's Read)
		// appear as <autogenerated> frames: they are the library's code, not ours.
		if own == "" && isOwn(f.Function, module) && f.File != "<autogenerated>" {
			at := shortFile(f.File, module) + ":" + strconv.Itoa(f.Line)
			// Own middleware (a RoundTripper or Handler wrapper) only
			// forwards the call: look for the own code that made it.
			if passthrough(f.Function) {
				wrapper = cmp.Or(wrapper, at)
			} else {
				own = at
			}
		}
		if !more || (top != "" && own != "") {
			break
		}
	}
	return cmp.Or(top, first), cmp.Or(own, wrapper) // top: a runtime-only goroutine is named by its first frame
}

func passthrough(fn string) bool {
	return strings.HasSuffix(fn, ".RoundTrip") || strings.HasSuffix(fn, ".ServeHTTP")
}

// parking reports whether fn is where Go parks a goroutine rather than what
// the goroutine waits on: package runtime, runtime hooks linked into other
// packages (internal/poll.runtime_pollWait, sync.runtime_Semacquire), and
// the netpoller's wait helpers, so a socket read shows as (*FD).Read.
func parking(fn string) bool {
	pkg := pkgOf(fn)
	return pkg == "runtime" || strings.HasPrefix(pkg, "internal/runtime/") ||
		strings.Contains(fn, ".runtime_") || strings.HasPrefix(fn, "internal/poll.(*pollDesc).")
}

func isOwn(fn, module string) bool {
	if strings.HasPrefix(fn, "main.") {
		return true
	}
	return module != "" && (strings.HasPrefix(fn, module+"/") || strings.HasPrefix(fn, module+"."))
}

// pkgOf returns the import path of a function name like
// "net/http.(*Transport).getConn".
func pkgOf(fn string) string {
	slash := strings.LastIndex(fn, "/") + 1
	if dot := strings.Index(fn[slash:], "."); dot >= 0 {
		return fn[:slash+dot]
	}
	return fn
}

// shortFile cuts a source path to start at the module's last element
// ("/work/main/goservices/x/y.go" -> "goservices/x/y.go"), or to the last
// two elements when the module's folder is not in the path.
func shortFile(file, module string) string {
	if module != "" {
		if i := strings.Index(file, "/"+path.Base(module)+"/"); i >= 0 {
			return file[i+1:]
		}
	}
	return path.Join(path.Base(path.Dir(file)), path.Base(file))
}
