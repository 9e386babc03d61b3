// Package dbstats exports a database/sql pool's DB.Stats() as Prometheus
// metrics, read at each scrape: the database counterpart of internal/pool.
package dbstats

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
)

type collector struct {
	db                             *sql.DB
	maxOpen, open, inUse, idle     *prometheus.Desc
	waitCount, waitSeconds, closed *prometheus.Desc
}

func desc(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }

// Register exposes the gatewaylab_db_* metrics of db on reg.
func Register(reg prometheus.Registerer, db *sql.DB) error {
	return reg.Register(&collector{
		db:      db,
		maxOpen: desc("gatewaylab_db_conns_max_open", "SetMaxOpenConns of the pool (0: unlimited)."),
		open:    desc("gatewaylab_db_conns_open", "Database connections open, in use or idle."),
		inUse:   desc("gatewaylab_db_conns_in_use", "Database connections held by a query, a Rows or a Tx."),
		idle:    desc("gatewaylab_db_conns_idle", "Database connections idle in the pool."),
		waitCount: desc("gatewaylab_db_wait_count_total",
			"Times a query had to wait for a connection because the pool was at its limit."),
		waitSeconds: desc("gatewaylab_db_wait_duration_seconds_total",
			"Time spent waiting for a connection, added only when a wait ends: waits still going are not in it."),
		closed: desc("gatewaylab_db_conns_closed_total",
			"Connections the pool closed for its idle or lifetime limits."),
	})
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxOpen, c.open, c.inUse, c.idle, c.waitCount, c.waitSeconds, c.closed} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.db.Stats()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.maxOpen, float64(s.MaxOpenConnections))
	gauge(c.open, float64(s.OpenConnections))
	gauge(c.inUse, float64(s.InUse))
	gauge(c.idle, float64(s.Idle))
	counter(c.waitCount, float64(s.WaitCount))
	counter(c.waitSeconds, s.WaitDuration.Seconds())
	counter(c.closed, float64(s.MaxIdleClosed+s.MaxIdleTimeClosed+s.MaxLifetimeClosed))
}
