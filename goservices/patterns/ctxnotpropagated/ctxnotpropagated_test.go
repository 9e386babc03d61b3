package ctxnotpropagated

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/svc"
)

// dep is a fake TCP dependency. With reply it answers "OK 1" to each line;
// without, it reads the line and holds the connection: the test's stand-in
// for Toxiproxy's timeout toxic.
type dep struct {
	ln    net.Listener
	reply bool
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newDep(t *testing.T, reply bool) *dep {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &dep{ln: ln, reply: reply}
	d.wg.Go(d.accept)
	t.Cleanup(d.close)
	return d
}

func (d *dep) accept() {
	for {
		c, err := d.ln.Accept()
		if err != nil {
			return
		}
		d.mu.Lock()
		d.conns = append(d.conns, c)
		d.mu.Unlock()
		d.wg.Go(func() {
			r := bufio.NewReader(c)
			for {
				if _, err := r.ReadString('\n'); err != nil {
					return // closed by the client or by closeConns
				}
				if d.reply {
					c.Write([]byte("OK 1\n"))
				}
			}
		})
	}
}

// closeConns hangs up every connection: it unblocks a handler stuck reading.
func (d *dep) closeConns() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		c.Close()
	}
}

func (d *dep) close() {
	d.ln.Close()
	d.closeConns()
	d.wg.Wait()
}

func (d *dep) env(budget string) svc.Env {
	return svc.Env{DependencyTCP: d.ln.Addr().String(), Replica: "t", Params: map[string]string{"budget": budget}}
}

type result struct {
	code    int
	errMsg  string
	elapsed time.Duration
}

func serve(ctx context.Context, h http.Handler) result {
	start := time.Now()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/item", nil))
	var body struct {
		Error string `json:"error"`
	}
	json.Unmarshal(rec.Body.Bytes(), &body)
	return result{rec.Code, body.Error, time.Since(start)}
}

func TestBothAnswerWhenDependencyReplies(t *testing.T) {
	d := newDep(t, true)
	for name, ctor := range Variants {
		h := ctor(d.env("1s"))
		for i := range 3 {
			if res := serve(context.Background(), h); res.code != http.StatusOK {
				t.Errorf("%s request %d: %+v", name, i, res)
			}
		}
	}
}

func TestFixedAnswers504WithinBudget(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	const budget = 100 * time.Millisecond
	d := newDep(t, false)
	h := Fixed(d.env(budget.String()))
	for i := range 5 {
		res := serve(context.Background(), h)
		if res.code != http.StatusGatewayTimeout || res.errMsg != "dependency timeout" {
			t.Errorf("request %d: %+v, want 504 dependency timeout", i, res)
		}
		if res.elapsed < budget || res.elapsed > budget+500*time.Millisecond {
			t.Errorf("request %d took %v, want about %v", i, res.elapsed, budget)
		}
	}
	d.close()
	goleak.VerifyNone(t, ignore)
}

func TestFixedStopsWhenRequestIsCancelled(t *testing.T) {
	d := newDep(t, false)
	h := Fixed(d.env("10s")) // the budget is not what ends this call
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel) // the client (nginx) hangs up
	if res := serve(ctx, h); res.elapsed > time.Second {
		t.Errorf("took %v after the client left, want ~100ms: %+v", res.elapsed, res)
	}
}

func TestBuggyBlocksPastBudget(t *testing.T) {
	const budget = 100 * time.Millisecond
	d := newDep(t, false)
	h := Buggy(d.env(budget.String()))
	done := make(chan result, 1)
	go func() { done <- serve(context.Background(), h) }()
	select {
	case res := <-done:
		t.Fatalf("buggy returned within 3x budget: %+v", res)
	case <-time.After(3 * budget):
	}
	// Only the dependency hanging up ends the read; then it is far too late.
	d.closeConns()
	select {
	case res := <-done:
		if res.code != http.StatusGatewayTimeout || res.elapsed < 3*budget {
			t.Errorf("after hang-up: %+v, want a late 504", res)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("buggy still blocked after the dependency closed its connections")
	}
}
