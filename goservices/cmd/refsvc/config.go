package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"gatewaylab/goservices/internal/loopback"
	"gatewaylab/goservices/internal/svc"
	"gatewaylab/goservices/patterns"
	"gatewaylab/goservices/patterns/ctxnotpropagated"
)

type config struct {
	addr, adminAddr, dependency string
	dependencyTCP               string // raw TCP address, for patterns that need it
	database                    string // PostgreSQL DSN (postgres://user@host:port/db), for patterns with a Setup
	dbMaxOpen                   int    // sql.DB SetMaxOpenConns (and SetMaxIdleConns)
	pattern, variant, name      string
	maxConnsPerHost             int
	clientTimeout               time.Duration
	leakwatchInterval           time.Duration
	instrument                  bool      // false: no pool tracing, per-request metrics or leakwatch (make bench measures their cost)
	params                      paramFlag // -param key=value, checked against the pattern's params
	methods                     []string  // methods /api/item answers; others get 405
	constructor                 svc.Constructor
	server                      func(svc.Env, *http.Server) // the variant's service-port server tweak, or nil
	hooks                       svc.HooksFunc               // the variant's probes and SIGTERM handling, or nil
}

var paramKey = regexp.MustCompile(`^[a-z_]+$`)

// paramFlag collects repeated -param key=value flags.
type paramFlag map[string]string

func (p paramFlag) String() string { return fmt.Sprint(map[string]string(p)) }

func (p paramFlag) Set(s string) error {
	key, value, ok := strings.Cut(s, "=")
	if !ok || !paramKey.MatchString(key) {
		return fmt.Errorf("want key=value with key of [a-z_]+, got %q", s)
	}
	if _, dup := p[key]; dup {
		return fmt.Errorf("%s given twice", key)
	}
	p[key] = value
	return nil
}

// parseConfig parses and validates flags; any error means exit 2.
func parseConfig(args []string, out io.Writer) (config, error) {
	c := config{params: paramFlag{}}
	fs := flag.NewFlagSet("refsvc", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.addr, "addr", "", "service listen address, loopback only (proxied by nginx)")
	fs.StringVar(&c.adminAddr, "admin-addr", "", "admin listen address, loopback only (/metrics, /debug/pprof/, /healthz)")
	fs.StringVar(&c.dependency, "dependency", "", "dependency base URL, e.g. http://127.0.0.1:4567")
	fs.StringVar(&c.dependencyTCP, "dependency-tcp", "", "dependency raw TCP line-protocol address, loopback only, e.g. 127.0.0.1:4568 (pattern ctx-not-propagated)")
	fs.StringVar(&c.database, "database", "", "PostgreSQL DSN, loopback only, e.g. postgres://gatewaylab@127.0.0.1:5433/postgres?sslmode=disable (pattern db-pool-leak)")
	fs.IntVar(&c.dbMaxOpen, "db-max-open", 10, "database/sql pool size: SetMaxOpenConns and SetMaxIdleConns")
	fs.StringVar(&c.pattern, "pattern", "unclosed-body", "bug pattern")
	fs.StringVar(&c.variant, "variant", "", "variant of the pattern, e.g. buggy or fixed")
	fs.IntVar(&c.maxConnsPerHost, "max-conns-per-host", 20, "outbound Transport.MaxConnsPerHost (and MaxIdleConnsPerHost); 0 is Go's default: no cap, 2 idle")
	fs.DurationVar(&c.clientTimeout, "client-timeout", time.Second, "http.Client.Timeout for the client-timeout variant")
	fs.DurationVar(&c.leakwatchInterval, "leakwatch-interval", time.Second, "how often leakwatch samples goroutines for leaks (leakwatch_* metrics); 0 disables")
	fs.BoolVar(&c.instrument, "instrument", true, "pool tracing, per-request metrics and leakwatch; false only to measure what they cost (make bench)")
	fs.StringVar(&c.name, "name", "refsvc", "replica name for logs, answers and metric labels")
	fs.Var(c.params, "param", "pattern parameter key=value, repeatable, e.g. budget=150ms (each pattern lists its own)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	var errs []error
	if err := loopback.CheckAddr(c.addr); err != nil {
		errs = append(errs, fmt.Errorf("-addr: %w", err))
	}
	if err := loopback.CheckAddr(c.adminAddr); err != nil {
		errs = append(errs, fmt.Errorf("-admin-addr: %w", err))
	}
	if c.addr != "" && c.addr == c.adminAddr {
		errs = append(errs, errors.New("-addr and -admin-addr must differ"))
	}
	if err := loopback.CheckURL(c.dependency); err != nil {
		errs = append(errs, fmt.Errorf("-dependency: %w", err))
	}
	if c.dependencyTCP != "" {
		if err := loopback.CheckAddr(c.dependencyTCP); err != nil {
			errs = append(errs, fmt.Errorf("-dependency-tcp: %w", err))
		}
	} else if c.pattern == ctxnotpropagated.Name {
		errs = append(errs, errors.New("-dependency-tcp is required for pattern "+ctxnotpropagated.Name))
	}
	if c.database != "" {
		if err := checkDSN(c.database); err != nil {
			errs = append(errs, fmt.Errorf("-database: %w", err))
		}
	}
	if c.dbMaxOpen < 1 {
		errs = append(errs, errors.New("-db-max-open must be >= 1"))
	}
	if c.maxConnsPerHost < 0 {
		errs = append(errs, errors.New("-max-conns-per-host must be >= 0 (0: Go's default, no cap)"))
	}
	if c.clientTimeout <= 0 {
		errs = append(errs, errors.New("-client-timeout must be > 0"))
	}
	if c.leakwatchInterval < 0 {
		errs = append(errs, errors.New("-leakwatch-interval must be >= 0 (0 disables)"))
	}
	if c.name == "" {
		errs = append(errs, errors.New("-name must not be empty"))
	}
	p, ctor, err := patterns.Lookup(c.pattern, c.variant)
	if err != nil {
		errs = append(errs, err)
	}
	if p.Name != "" {
		if err := p.CheckParams(c.params); err != nil {
			errs = append(errs, err)
		}
		if p.Setup != nil && c.database == "" {
			errs = append(errs, errors.New("-database is required for pattern "+p.Name))
		}
		c.methods = p.RouteMethods()
		c.server = p.Servers[c.variant]
		c.hooks = p.Hooks[c.variant]
	}
	c.constructor = ctor
	return c, errors.Join(errs...)
}

// checkDSN accepts a postgres:// URL whose host is loopback, with a port.
func checkDSN(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("dsn: %v", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("dsn %q: scheme must be postgres", raw)
	}
	return loopback.CheckAddr(u.Host)
}
