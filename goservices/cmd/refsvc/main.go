// Command refsvc is a reference service replica: /api/item (GET unless the
// pattern declares other methods or extra paths) runs the chosen
// pattern/variant, calling the dependency through one shared http.Client.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"gatewaylab/goservices/internal/dbstats"
	"gatewaylab/goservices/internal/metrics"
	"gatewaylab/goservices/internal/pool"
	"gatewaylab/goservices/internal/svc"
	"gatewaylab/goservices/leakwatch"
	"gatewaylab/goservices/lifecycle"
	"gatewaylab/goservices/patterns"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "-list" { // the pattern registry as JSON, for the harness
		if err := json.NewEncoder(os.Stdout).Encode(patterns.List()); err != nil {
			os.Exit(1)
		}
		return
	}
	cfg, err := parseConfig(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		os.Stderr.WriteString("refsvc: " + err.Error() + "\n")
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("replica", cfg.name)
	if err := run(cfg, log); err != nil {
		log.Error("fatal", "err", err)
		os.Exit(1)
	}
}

// newClient is the outbound client: pool-traced, or (-instrument=false) the same Transport untraced.
func newClient(stats *pool.Stats, cfg config) *http.Client {
	if cfg.instrument {
		return pool.NewClient(stats, cfg.maxConnsPerHost)
	}
	return pool.PlainClient(cfg.maxConnsPerHost)
}

func run(cfg config, log *slog.Logger) error {
	reg := prometheus.DefaultRegisterer // has go_* and process_* collectors
	stats := pool.New()
	if err := stats.Register(reg); err != nil {
		return err
	}
	if err := metrics.RegisterBuildInfo(reg, cfg.pattern, cfg.variant, cfg.name); err != nil {
		return err
	}
	var watch *leakwatch.Watcher
	if cfg.leakwatchInterval > 0 && cfg.instrument {
		watch = leakwatch.New(leakwatch.Options{Interval: cfg.leakwatchInterval, Module: "gatewaylab/goservices"})
		if err := watch.Register(reg); err != nil {
			return err
		}
	}
	env := svc.Env{
		Client:        newClient(stats, cfg),
		DependencyURL: cfg.dependency,
		DependencyTCP: cfg.dependencyTCP,
		Replica:       cfg.name,
		ClientTimeout: cfg.clientTimeout,
		Params:        cfg.params,
	}
	p, _, _ := patterns.Lookup(cfg.pattern, cfg.variant) // already checked by parseConfig
	if p.Setup != nil {
		db, err := openDB(cfg, p.Setup)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := dbstats.Register(reg, db); err != nil {
			return err
		}
		env.DB = db
	}
	var tracker svc.Tracker
	var hooks svc.Hooks
	if cfg.hooks != nil {
		hooks = cfg.hooks(env, &tracker)
	}
	var service http.Handler = serviceMux(cfg.methods, tracker.Wrap(cfg.constructor(env)), p.RoutePaths()...)
	if cfg.instrument {
		instrumented, err := metrics.Instrument(reg, service)
		if err != nil {
			return err
		}
		service = instrumented
	}
	service = withProbes(service, hooks)

	// pprof only on the admin mux; the service port never exposes it.
	admin := http.NewServeMux()
	admin.Handle("/metrics", promhttp.Handler())
	admin.HandleFunc("/healthz", healthz)
	admin.HandleFunc("/debug/pprof/", pprof.Index)
	admin.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	admin.HandleFunc("/debug/pprof/profile", pprof.Profile)
	admin.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	admin.HandleFunc("/debug/pprof/trace", pprof.Trace)

	servers := []*http.Server{
		{Addr: cfg.addr, Handler: service, ReadHeaderTimeout: 5 * time.Second},
		{Addr: cfg.adminAddr, Handler: admin, ReadHeaderTimeout: 5 * time.Second},
	}
	if cfg.server != nil {
		cfg.server(env, servers[0]) // service port only: admin keeps its own settings
	}
	// Listen before serving so a busy port fails fast with a clear error.
	var lns []net.Listener
	for _, s := range servers {
		ln, err := net.Listen("tcp", s.Addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return err
		}
		lns = append(lns, ln)
	}
	// One root context, cancelled on SIGTERM/SIGINT, for handlers and background work.
	life := lifecycle.New(context.Background(), log)
	ctx := life.Context()
	for _, s := range servers {
		s.BaseContext = func(net.Listener) context.Context { return ctx }
	}
	// A Stop hook decides itself when in-flight requests see cancellation.
	cancelService := context.CancelFunc(func() {})
	if hooks.Stop != nil {
		var sctx context.Context
		sctx, cancelService = context.WithCancel(context.Background())
		defer cancelService()
		servers[0].BaseContext = func(net.Listener) context.Context { return sctx }
	}
	if watch != nil {
		life.Go(watch.Run)
	}
	errc := make(chan error, len(servers))
	for i, s := range servers {
		go func() { errc <- s.Serve(lns[i]) }()
	}
	log.Info("listening", "addr", cfg.addr, "admin", cfg.adminAddr, "pattern", cfg.pattern,
		"variant", cfg.variant, "params", cfg.params, "methods", cfg.methods, "paths", p.RoutePaths(), "dependency", cfg.dependency, "max_conns_per_host", cfg.maxConnsPerHost)

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case serveErr = <-errc:
	}
	if hooks.Stop != nil && serveErr == nil {
		if err := hooks.Stop(svc.Stopping{Server: servers[0], Cancel: cancelService, Log: log}); err != nil {
			log.Warn("service port stop", "err", err)
		}
		servers = servers[1:] // the admin port stops as usual
	}
	// The buggy variant leaves handlers blocked forever: give Shutdown a
	// short deadline, then Close and exit anyway.
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			log.Warn("shutdown deadline passed, closing", "addr", s.Addr, "err", err)
			s.Close()
		}
	}
	if err := life.Shutdown(time.Second); err != nil {
		log.Warn("background work did not stop", "err", err)
	}
	return serveErr
}

// openDB opens the process's one database pool (cfg.dbMaxOpen connections,
// as many kept idle) and runs the pattern's setup; a database that does not
// answer within 10 s stops refsvc at start-up.
func openDB(cfg config, setup func(context.Context, *sql.DB) error) (*sql.DB, error) {
	db, err := sql.Open("pgx", cfg.database)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(cfg.dbMaxOpen)
	db.SetMaxIdleConns(cfg.dbMaxOpen)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := setup(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("database setup: %w", err)
	}
	return db, nil
}

// serviceMux routes each path (default /api/item) to h for the pattern's
// methods only: others get 405.
func serviceMux(methods []string, h http.Handler, paths ...string) *http.ServeMux {
	if len(paths) == 0 {
		paths = []string{"/api/item"}
	}
	mux := http.NewServeMux()
	for _, path := range paths {
		for _, m := range methods {
			mux.Handle(m+" "+path, h)
		}
	}
	mux.HandleFunc("GET /healthz", healthz)
	return mux
}

// withProbes answers GET /livez and /readyz with the variant's probes (200
// "ok" by default), outside the service metrics and the in-flight tracker;
// every other request goes to service.
func withProbes(service http.Handler, h svc.Hooks) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/", service)
	for path, probe := range map[string]http.Handler{"GET /livez": h.Live, "GET /readyz": h.Ready} {
		if probe == nil {
			probe = http.HandlerFunc(svc.ProbeOK)
		}
		mux.Handle(path, probe)
	}
	return mux
}

func healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok\n"))
}
