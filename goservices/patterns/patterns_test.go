package patterns

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestLookup(t *testing.T) {
	for pattern, variants := range map[string][]string{
		"unclosed-body":         {"buggy", "fixed", "client-timeout", "request-context"},
		"unbuffered-chan":       {"buggy", "fixed", "receive-fixed", "receive-hang"},
		"orphan-subscriber":     {"buggy", "close-leaks", "fixed", "one-client", "wrapped"},
		"unread-request-body":   {"buggy", "fixed"},
		"status-not-counted":    {"answer-500", "answer-502", "answer-200-error", "answer-503"},
		"timeout-mismatch":      {"no-deadline", "write-timeout", "timeout-handler", "deadline"},
		"defer-goroutine-panic": {"buggy", "fixed"},
		"ctx-not-propagated":    {"buggy", "fixed"},
		"noisy-neighbour":       {"buggy", "fixed"},
		"db-pool-leak":          {"buggy", "close-only", "deadline-only", "fixed"},
		"gateway-headers":       {"buggy", "fixed"},
		"memory-leak":           {"buggy", "fixed"},
		"liveness-lies":         {"buggy", "readiness", "liveness", "deep-liveness", "fixed"},
		"graceful-shutdown":     {"buggy", "cancel-context", "fixed"},
		"keepalive-race":        {"short-idle", "read-timeout", "long-idle"},
		"circuit-breaker":       {"breaker", "no-breaker"},
		"header-limits":         {"max-header-8k", "default-limit", "big-response-header"},
	} {
		for _, v := range variants {
			p, c, err := Lookup(pattern, v)
			if err != nil || c == nil || p.Name != pattern {
				t.Errorf("Lookup(%s, %s): %v", pattern, v, err)
			}
		}
		if p, _, _ := Lookup(pattern, variants[0]); len(p.Variants) != len(variants) {
			t.Errorf("%s has variants %v, want %v", pattern, keys(p.Variants), variants)
		}
	}
	_, _, err := Lookup("unclosed-body", "nope")
	if err == nil || !strings.Contains(err.Error(), "buggy, client-timeout, fixed, request-context") {
		t.Errorf("unknown variant error = %v", err)
	}
	_, _, err = Lookup("nope", "buggy")
	if err == nil || !strings.Contains(err.Error(), "circuit-breaker, ctx-not-propagated, db-pool-leak, defer-goroutine-panic, gateway-headers, graceful-shutdown, header-limits, keepalive-race, liveness-lies, memory-leak, noisy-neighbour, orphan-subscriber, status-not-counted, timeout-mismatch, unbuffered-chan, unclosed-body, unread-request-body") {
		t.Errorf("unknown pattern error = %v", err)
	}
}

func TestRegistryShape(t *testing.T) {
	for name, p := range registry {
		if p.Name != name {
			t.Errorf("registry key %q holds pattern %q", name, p.Name)
		}
		for _, m := range p.RouteMethods() {
			if m != http.MethodGet && m != http.MethodPost {
				t.Errorf("%s: unexpected method %q", name, m)
			}
		}
		// CheckParams understands only these default types.
		for key, def := range p.Params {
			switch def.(type) {
			case time.Duration, int:
			default:
				t.Errorf("%s: param %s has default of type %T", name, key, def)
			}
		}
		for v := range p.Servers {
			if p.Variants[v] == nil {
				t.Errorf("%s: server tweak for unknown variant %q", name, v)
			}
		}
		for v := range p.Hooks {
			if p.Variants[v] == nil {
				t.Errorf("%s: hooks for unknown variant %q", name, v)
			}
		}
	}
	if m := registry["unread-request-body"].RouteMethods(); len(m) != 1 || m[0] != "POST" {
		t.Errorf("unread-request-body methods = %v, want [POST]", m)
	}
	if m := registry["status-not-counted"].RouteMethods(); len(m) != 2 || m[0] != "GET" || m[1] != "POST" {
		t.Errorf("status-not-counted methods = %v, want [GET POST]", m)
	}
	if m := registry["unbuffered-chan"].RouteMethods(); len(m) != 1 || m[0] != "GET" {
		t.Errorf("unbuffered-chan methods = %v, want [GET]", m)
	}
	if p := registry["unclosed-body"].RoutePaths(); len(p) != 1 || p[0] != "/api/item" {
		t.Errorf("unclosed-body paths = %v, want [/api/item]", p)
	}
	if p := registry["noisy-neighbour"].RoutePaths(); len(p) != 2 || p[0] != "/api/item" || p[1] != "/api/report" {
		t.Errorf("noisy-neighbour paths = %v, want [/api/item /api/report]", p)
	}
}
