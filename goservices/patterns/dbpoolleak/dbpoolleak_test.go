package dbpoolleak

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/pgtest"
	"gatewaylab/goservices/internal/svc"
)

const pool = 3

// open: a pool of `pool` connections to a fresh PostgreSQL, set up for the pattern.
func open(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", pgtest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(pool)
	db.SetMaxIdleConns(pool)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Setup(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := Setup(ctx, db); err != nil { // may run more than once (a replica restarted)
		t.Fatal(err)
	}
	return db
}

func env(db *sql.DB, budget string) svc.Env {
	return svc.Env{DB: db, Replica: "t", Params: map[string]string{"budget": budget}}
}

// inUseSettled: connections in use once asynchronous closes had a second to happen.
func inUseSettled(db *sql.DB) int {
	deadline := time.Now().Add(time.Second)
	for db.Stats().InUse != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return db.Stats().InUse
}

type result struct {
	code    int
	errMsg  string
	elapsed time.Duration
}

func serve(h http.Handler) result {
	start := time.Now()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/item", nil))
	var body struct {
		Error string `json:"error"`
	}
	json.Unmarshal(rec.Body.Bytes(), &body)
	return result{rec.Code, body.Error, time.Since(start)}
}

// stall holds an exclusive lock on items from another session: every query
// on the table waits until release is called - a database that stopped answering.
func stall(t *testing.T, db *sql.DB) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "LOCK TABLE items IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback(); conn.Close() }) }
	t.Cleanup(release)
	return release
}

func TestEveryVariantAnswers(t *testing.T) {
	db := open(t)
	defer db.Close()
	for name, ctor := range Variants {
		if name == "buggy" {
			continue // it would keep a connection per request: TestBuggyExhaustsThePool
		}
		h := ctor(env(db, "2s"))
		for i := range 2 * pool {
			if res := serve(h); res.code != http.StatusOK {
				t.Errorf("%s request %d: %+v", name, i, res)
			}
		}
		if n := inUseSettled(db); n != 0 {
			t.Errorf("%s: %d connections still in use after its requests", name, n)
		}
	}
}

func TestBuggyExhaustsThePool(t *testing.T) {
	db := open(t)
	h := Buggy(env(db, "2s"))
	for i := range pool {
		if res := serve(h); res.code != http.StatusOK {
			t.Fatalf("request %d: %+v", i, res)
		}
	}
	if s := db.Stats(); s.InUse != pool || s.Idle != 0 {
		t.Fatalf("after %d answered requests: in use %d, idle %d; want every connection held by unclosed rows", pool, s.InUse, s.Idle)
	}
	done := make(chan result, 1)
	go func() { done <- serve(h) }()
	select {
	case res := <-done:
		t.Fatalf("request %d was served from an exhausted pool: %+v", pool, res)
	case <-time.After(500 * time.Millisecond):
	}
	s := db.Stats()
	if s.WaitCount != 1 || s.WaitDuration != 0 {
		t.Errorf("wait count %d, wait duration %v; want 1 and 0 (a wait that never ends is never added)", s.WaitCount, s.WaitDuration)
	}
	db.Close() // the only thing that ends the wait
	select {
	case res := <-done:
		if res.code != http.StatusBadGateway {
			t.Errorf("after Close: %+v, want 502", res)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("still waiting for a connection after db.Close")
	}
}

func TestDeadlineOnlyMasksTheLeak(t *testing.T) {
	db := open(t)
	defer db.Close()
	h := DeadlineOnly(env(db, "2s"))
	for i := range 5 * pool {
		if res := serve(h); res.code != http.StatusOK {
			t.Fatalf("request %d: %+v", i, res)
		}
	}
	// The rows were never closed by the handler, yet no connection is held:
	// cancelling the query's context closed them (from database/sql's own
	// goroutine, a moment after the handler returned).
	if n, waits := inUseSettled(db), db.Stats().WaitCount; n != 0 || waits != 0 {
		t.Errorf("in use %d, wait count %d; want 0 and 0", n, waits)
	}
}

func TestCloseOnlyHoldsConnectionsWhileTheDatabaseStalls(t *testing.T) {
	db := open(t)
	defer db.Close()
	h := CloseOnly(env(db, "200ms"))
	release := stall(t, db) // takes one of the pool's connections
	done := make(chan result, pool)
	for range pool - 1 {
		go func() { done <- serve(h) }()
	}
	select {
	case res := <-done:
		t.Fatalf("answered while the database stalled: %+v", res)
	case <-time.After(time.Second): // 5x the budget the fixed build would keep
	}
	if s := db.Stats(); s.InUse != pool {
		t.Errorf("in use %d, want %d: every connection waits on the database", s.InUse, pool)
	}
	release()
	for range pool - 1 {
		if res := <-done; res.code != http.StatusOK || res.elapsed < time.Second {
			t.Errorf("after the stall: %+v, want a late 200", res)
		}
	}
}

func TestFixedKeepsThePoolAndItsDeadline(t *testing.T) {
	db := open(t)
	ignore := goleak.IgnoreCurrent()
	h := Fixed(env(db, "200ms"))
	var wg sync.WaitGroup
	codes := make(chan int, 10*pool)
	for range 10 * pool {
		wg.Go(func() { codes <- serve(h).code })
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("concurrent request: %d", c)
		}
	}
	release := stall(t, db)
	for i := range 3 {
		res := serve(h)
		if res.code != http.StatusServiceUnavailable || res.errMsg != "database timeout" {
			t.Errorf("stalled request %d: %+v, want 503 database timeout", i, res)
		}
		if res.elapsed > time.Second {
			t.Errorf("stalled request %d took %v, want about the 200ms budget", i, res.elapsed)
		}
	}
	release()
	if res := serve(h); res.code != http.StatusOK {
		t.Errorf("after the stall: %+v", res)
	}
	if s := db.Stats(); s.InUse != 0 {
		t.Errorf("%d connections in use after the requests", s.InUse)
	}
	db.Close()
	goleak.VerifyNone(t, ignore)
}
