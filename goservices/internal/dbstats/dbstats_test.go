package dbstats

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/pgtest"
)

func TestRegisterExportsStats(t *testing.T) {
	dsn := pgtest.Start(t)
	ignore := goleak.IgnoreCurrent()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(2)
	db.SetMaxIdleConns(2)
	reg := prometheus.NewRegistry()
	if err := Register(reg, db); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(context.Background(), "SELECT generate_series(1, 10)")
	if err != nil {
		t.Fatal(err)
	}
	want := `
# HELP gatewaylab_db_conns_in_use Database connections held by a query, a Rows or a Tx.
# TYPE gatewaylab_db_conns_in_use gauge
gatewaylab_db_conns_in_use 1
# HELP gatewaylab_db_conns_max_open SetMaxOpenConns of the pool (0: unlimited).
# TYPE gatewaylab_db_conns_max_open gauge
gatewaylab_db_conns_max_open 2
# HELP gatewaylab_db_conns_open Database connections open, in use or idle.
# TYPE gatewaylab_db_conns_open gauge
gatewaylab_db_conns_open 1
# HELP gatewaylab_db_wait_count_total Times a query had to wait for a connection because the pool was at its limit.
# TYPE gatewaylab_db_wait_count_total counter
gatewaylab_db_wait_count_total 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gatewaylab_db_conns_in_use",
		"gatewaylab_db_conns_max_open", "gatewaylab_db_conns_open", "gatewaylab_db_wait_count_total"); err != nil {
		t.Error(err)
	}
	rows.Close()
	if n := testutil.CollectAndCount(reg); n != 7 {
		t.Errorf("%d metrics, want 7", n)
	}
	db.Close()
	goleak.VerifyNone(t, ignore)
}
