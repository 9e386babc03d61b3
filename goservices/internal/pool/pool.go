// Package pool makes the outbound connection pool of an http.Transport
// visible. The Transport has no stats API, so we count from two sides:
// a DialContext that wraps every net.Conn (open/close), and an
// httptrace.ClientTrace per request (waiting, handed out, put back idle).
package pool

import (
	"context"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type connState int

const (
	stateNew   connState = iota // dialed, not yet handed to a request
	stateInUse                  // handed to a request, not returned
	stateIdle                   // sitting in the idle pool
)

type connInfo struct {
	state connState
	owner *reqTrace // request that holds it; guards against late PutIdleConn
}

// Stats tracks every connection dialed through DialContext.
type Stats struct {
	mu      sync.Mutex
	conns   map[*trackedConn]*connInfo
	waiters int
	dials   atomic.Uint64
}

// Snapshot is a point-in-time view of the pool.
type Snapshot struct {
	InUse, Idle, Open, Waiters int
	Dials                      uint64
}

func New() *Stats {
	return &Stats{conns: make(map[*trackedConn]*connInfo)}
}

func (s *Stats) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := Snapshot{Open: len(s.conns), Waiters: s.waiters, Dials: s.dials.Load()}
	for _, ci := range s.conns {
		switch ci.state {
		case stateInUse:
			snap.InUse++
		case stateIdle:
			snap.Idle++
		}
	}
	return snap
}

// Register exposes the gatewaylab_outbound_* metrics on reg.
func (s *Stats) Register(reg prometheus.Registerer) error {
	gauge := func(name, help string, f func(Snapshot) int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return float64(f(s.Snapshot())) })
	}
	cs := []prometheus.Collector{
		gauge("gatewaylab_outbound_conns_in_use", "Outbound connections handed to a request and not yet returned or closed.",
			func(x Snapshot) int { return x.InUse }),
		gauge("gatewaylab_outbound_conns_idle", "Outbound connections idle in the pool.",
			func(x Snapshot) int { return x.Idle }),
		gauge("gatewaylab_outbound_conn_waiters", "Requests waiting for an outbound connection.",
			func(x Snapshot) int { return x.Waiters }),
		gauge("gatewaylab_outbound_conns_open", "Outbound connections dialed and not yet closed.",
			func(x Snapshot) int { return x.Open }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gatewaylab_outbound_dials_total", Help: "Outbound connections dialed."},
			func() float64 { return float64(s.dials.Load()) }),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// DialContext wraps d.DialContext so each connection is tracked until Close.
func (s *Stats) DialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		s.dials.Add(1)
		tc := &trackedConn{Conn: c, stats: s}
		s.mu.Lock()
		s.conns[tc] = &connInfo{state: stateNew}
		s.mu.Unlock()
		return tc, nil
	}
}

type trackedConn struct {
	net.Conn
	stats *Stats
	once  sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.stats.mu.Lock()
		delete(c.stats.conns, c)
		c.stats.mu.Unlock()
	})
	return c.Conn.Close()
}

// reqTrace is the per-request state behind one httptrace.ClientTrace.
type reqTrace struct {
	s       *Stats
	waiting bool
	conn    *trackedConn
}

func (rt *reqTrace) getConn(string) {
	rt.s.mu.Lock()
	defer rt.s.mu.Unlock()
	if !rt.waiting {
		rt.waiting = true
		rt.s.waiters++
	}
}

func (rt *reqTrace) gotConn(info httptrace.GotConnInfo) {
	rt.s.mu.Lock()
	defer rt.s.mu.Unlock()
	rt.stopWaiting()
	tc, ok := info.Conn.(*trackedConn)
	if !ok {
		return
	}
	rt.conn = tc
	if ci := rt.s.conns[tc]; ci != nil {
		ci.state, ci.owner = stateInUse, rt
	}
}

func (rt *reqTrace) putIdleConn(err error) {
	if err != nil {
		return // conn is being closed; trackedConn.Close removes it
	}
	rt.s.mu.Lock()
	defer rt.s.mu.Unlock()
	// The transport may hand the conn to a waiter before this hook runs;
	// only the current owner may mark it idle.
	if ci := rt.s.conns[rt.conn]; ci != nil && ci.owner == rt {
		ci.state, ci.owner = stateIdle, nil
	}
}

// done ends a wait that never got a conn (the attempt errored).
func (rt *reqTrace) done() {
	rt.s.mu.Lock()
	defer rt.s.mu.Unlock()
	rt.stopWaiting()
}

func (rt *reqTrace) stopWaiting() {
	if rt.waiting {
		rt.waiting = false
		rt.s.waiters--
	}
}

// RoundTripper attaches a ClientTrace to every request sent through base.
func (s *Stats) RoundTripper(base http.RoundTripper) http.RoundTripper {
	return &tracingRT{base: base, stats: s}
}

type tracingRT struct {
	base  http.RoundTripper
	stats *Stats
}

func (t *tracingRT) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := &reqTrace{s: t.stats}
	ctx := httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GetConn:     rt.getConn,
		GotConn:     rt.gotConn,
		PutIdleConn: rt.putIdleConn,
	})
	defer rt.done()
	return t.base.RoundTrip(req.WithContext(ctx))
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the Transport.
func (t *tracingRT) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// NewClient returns the per-process outbound client: one Transport whose
// pool is capped at maxConnsPerHost, instrumented by s.
func NewClient(s *Stats, maxConnsPerHost int) *http.Client {
	tr := transport(maxConnsPerHost)
	tr.DialContext = s.DialContext(&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second})
	return &http.Client{Transport: s.RoundTripper(tr)}
}

// PlainClient is NewClient's Transport without the tracing: what the tracing costs is the difference.
func PlainClient(maxConnsPerHost int) *http.Client {
	return &http.Client{Transport: transport(maxConnsPerHost)}
}

func transport(maxConnsPerHost int) *http.Transport {
	return &http.Transport{
		Proxy:               nil, // never route the lab through an env proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxConnsPerHost:     maxConnsPerHost,
		MaxIdleConnsPerHost: maxConnsPerHost,
		IdleConnTimeout:     90 * time.Second,
	}
}
