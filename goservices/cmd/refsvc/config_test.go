package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"gatewaylab/goservices/internal/svc"
)

func args(extra ...string) []string {
	base := []string{"-addr", "127.0.0.1:8081", "-admin-addr", "127.0.0.1:9081",
		"-dependency", "http://127.0.0.1:4567", "-variant", "buggy"}
	return append(base, extra...)
}

func TestParseConfigOK(t *testing.T) {
	c, err := parseConfig(args("-name", "a", "-max-conns-per-host", "7", "-client-timeout", "250ms"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.constructor == nil || c.name != "a" || c.maxConnsPerHost != 7 || c.clientTimeout != 250*time.Millisecond || c.pattern != "unclosed-body" {
		t.Fatalf("bad config %+v", c)
	}
}

func TestParseConfigParamsAndMethods(t *testing.T) {
	c, err := parseConfig(args("-pattern", "unbuffered-chan", "-param", "budget=0s"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.params["budget"] != "0s" || len(c.methods) != 1 || c.methods[0] != "GET" {
		t.Fatalf("params %v methods %v", c.params, c.methods)
	}
	c, err = parseConfig(args("-pattern", "unread-request-body"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.params) != 0 || len(c.methods) != 1 || c.methods[0] != "POST" {
		t.Fatalf("params %v methods %v", c.params, c.methods)
	}
	for _, p := range []string{"orphan-subscriber", "unclosed-body"} {
		if c, err := parseConfig(args("-pattern", p, "-variant", "fixed"), io.Discard); err != nil || c.methods[0] != "GET" {
			t.Errorf("%s: methods %v, err %v", p, c.methods, err)
		}
	}
}

func TestParseConfigDependencyTCP(t *testing.T) {
	c, err := parseConfig(args("-pattern", "ctx-not-propagated", "-dependency-tcp", "127.0.0.1:4568", "-param", "budget=200ms"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.dependencyTCP != "127.0.0.1:4568" || c.params["budget"] != "200ms" {
		t.Fatalf("bad config %+v", c)
	}
}

func TestParseConfigRejects(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"public addr":        {args("-addr", "0.0.0.0:8081"), "-addr"},
		"empty host addr":    {args("-addr", ":8081"), "-addr"},
		"public admin":       {args("-admin-addr", "192.168.1.5:9081"), "-admin-addr"},
		"remote dependency":  {args("-dependency", "http://10.0.0.1:4567"), "-dependency"},
		"unknown variant":    {args("-variant", "nope"), "known: buggy, client-timeout, fixed, request-context"},
		"unknown pattern":    {args("-pattern", "nope"), "known: circuit-breaker, ctx-not-propagated, db-pool-leak, defer-goroutine-panic, gateway-headers, graceful-shutdown, header-limits, keepalive-race, liveness-lies, memory-leak, noisy-neighbour, orphan-subscriber, status-not-counted, timeout-mismatch, unbuffered-chan, unclosed-body, unread-request-body"},
		"param no equals":    {args("-param", "budget"), "-param"},
		"param bad key":      {args("-param", "Budget=1s"), "[a-z_]+"},
		"param duplicate":    {args("-pattern", "unbuffered-chan", "-param", "budget=1s", "-param", "budget=2s"), "budget given twice"},
		"param bad value":    {args("-pattern", "unbuffered-chan", "-param", "budget=soon"), `-param budget="soon"`},
		"param negative":     {args("-pattern", "unbuffered-chan", "-param", "budget=-1s"), `-param budget="-1s"`},
		"param unknown":      {args("-pattern", "unbuffered-chan", "-param", "timeout=1s"), "(known: budget)"},
		"param none known":   {args("-param", "budget=1s"), "(known: none)"},
		"negative conns":     {args("-max-conns-per-host", "-1"), "max-conns-per-host"},
		"negative leakwatch": {args("-leakwatch-interval", "-1s"), "leakwatch-interval"},
		"same addrs":         {args("-admin-addr", "127.0.0.1:8081"), "must differ"},
		"missing addr":       {[]string{"-variant", "fixed"}, "-addr"},
		"tcp pattern no tcp": {args("-pattern", "ctx-not-propagated"), "-dependency-tcp is required for pattern ctx-not-propagated"},
		"remote tcp":         {args("-pattern", "ctx-not-propagated", "-dependency-tcp", "10.0.0.1:4568"), "-dependency-tcp"},
		"db pattern no dsn":  {args("-pattern", "db-pool-leak"), "-database is required for pattern db-pool-leak"},
		"remote database":    {args("-pattern", "db-pool-leak", "-database", "postgres://u@10.0.0.1:5432/db"), "-database"},
		"database not pg":    {args("-database", "mysql://u@127.0.0.1:3306/db"), "scheme must be postgres"},
		"zero db conns":      {args("-db-max-open", "0"), "-db-max-open"},
	}
	for name, tc := range cases {
		_, err := parseConfig(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, tc.want)
		}
	}
}

func TestParseConfigServerTweak(t *testing.T) {
	c, err := parseConfig(args("-pattern", "timeout-mismatch", "-variant", "write-timeout", "-param", "write_timeout=3s"), io.Discard)
	if err != nil || c.server == nil {
		t.Fatalf("write-timeout: server tweak %v, err %v", c.server != nil, err)
	}
	s := &http.Server{}
	c.server(svc.Env{Params: c.params}, s)
	if s.WriteTimeout != 3*time.Second {
		t.Errorf("WriteTimeout = %v, want 3s", s.WriteTimeout)
	}
	if c, err := parseConfig(args("-pattern", "timeout-mismatch", "-variant", "deadline"), io.Discard); err != nil || c.server != nil {
		t.Errorf("deadline: server tweak %v, want none; err %v", c.server != nil, err)
	}
}

func TestParseConfigHooks(t *testing.T) {
	c, err := parseConfig(args("-pattern", "graceful-shutdown", "-variant", "fixed", "-param", "drain_delay=1s"), io.Discard)
	if err != nil || c.hooks == nil {
		t.Fatalf("graceful-shutdown fixed: hooks %v, err %v", c.hooks != nil, err)
	}
	if c.methods[0] != "GET" || c.methods[1] != "POST" {
		t.Errorf("methods %v, want [GET POST]", c.methods)
	}
	for _, v := range []string{"buggy", "fixed"} {
		if c, err := parseConfig(args("-pattern", "liveness-lies", "-variant", v), io.Discard); err != nil || c.hooks != nil {
			t.Errorf("liveness-lies %s: hooks %v, want none; err %v", v, c.hooks != nil, err)
		}
	}
	if c, err := parseConfig(args(), io.Discard); err != nil || c.hooks != nil {
		t.Errorf("unclosed-body: hooks %v, want none; err %v", c.hooks != nil, err)
	}
}
