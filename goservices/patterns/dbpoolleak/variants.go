// Package dbpoolleak is the "db-pool-leak" scenario: a handler that queries
// PostgreSQL through database/sql and reads only the first row. Rows that are
// never closed keep their connection out of the pool; with a small pool
// (SetMaxOpenConns) every later query waits for a connection.
package dbpoolleak

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"time"

	"gatewaylab/goservices/internal/svc"
)

// Name is the -pattern value for this scenario.
const Name = "db-pool-leak"

// DefaultBudget is -param budget: the deadline of one query, below the
// gateway's proxy_read_timeout.
const DefaultBudget = 500 * time.Millisecond

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"buggy":         Buggy,
	"close-only":    CloseOnly,
	"deadline-only": DeadlineOnly,
	"fixed":         Fixed,
}

// Pattern is this scenario as refsvc registers it: GET /api/item, one
// duration param, and the schema it needs (refsvc requires -database).
var Pattern = svc.Pattern{
	Name:     Name,
	Variants: Variants,
	Params:   map[string]any{"budget": DefaultBudget},
	Setup:    Setup,
}

// featured lists the catalogue by rank; the handlers want only its first row.
const featured = `SELECT id, name FROM items ORDER BY rank`

// Setup creates and fills the items table; it may run more than once.
func Setup(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `
CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, name text NOT NULL, rank int NOT NULL);
INSERT INTO items SELECT i, 'item ' || i, i FROM generate_series(1, 200) AS i ON CONFLICT DO NOTHING`)
	return err
}

type item struct {
	ID   int
	Name string
}

func budget(env svc.Env) time.Duration {
	d, err := env.Duration("budget", DefaultBudget)
	if err != nil {
		panic(err) // refsvc checks params at start-up
	}
	return d
}

// fail answers 503 + Retry-After when the query's deadline passed (an honest
// "not now" the gateway can retry elsewhere), 502 for any other error.
func fail(w http.ResponseWriter, ctx context.Context, err error) {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		svc.Unavailable(w, errors.New("database timeout"))
		return
	}
	svc.Fail(w, err)
}

func notFound(w http.ResponseWriter) {
	svc.Error(w, http.StatusNotFound, errors.New("no item"))
}
