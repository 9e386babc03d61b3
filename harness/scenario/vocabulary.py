"""The scenario language's words: patterns, limits, operators and every metric name an expectation may use.

Defined once here; the model, expectations, compare, report and catalogue read them from here.
"""

from __future__ import annotations

import re

# What goservices/cmd/refsvc can run: pattern -> its variants.
PATTERNS: dict[str, tuple[str, ...]] = {
    "unclosed-body": ("buggy", "fixed", "client-timeout", "request-context"),
    "unbuffered-chan": ("buggy", "fixed", "receive-hang", "receive-fixed"),
    "orphan-subscriber": ("buggy", "fixed", "close-leaks", "wrapped", "one-client"),
    "unread-request-body": ("buggy", "fixed"),
    "status-not-counted": ("answer-500", "answer-502", "answer-200-error", "answer-503"),
    "timeout-mismatch": ("no-deadline", "write-timeout", "timeout-handler", "deadline"),
    "defer-goroutine-panic": ("buggy", "fixed"),
    "ctx-not-propagated": ("buggy", "fixed"),
    "noisy-neighbour": ("buggy", "fixed"),
    # Your own service (gatewaylab run --service FILE, compare --*-service FILE) on the replicas under test.
    "own-service": ("own",),
    "db-pool-leak": ("buggy", "close-only", "deadline-only", "fixed"),
    "gateway-headers": ("buggy", "fixed"),
    "memory-leak": ("buggy", "fixed"),
    "liveness-lies": ("buggy", "readiness", "liveness", "deep-liveness", "fixed"),
    "graceful-shutdown": ("buggy", "cancel-context", "fixed"),
    "keepalive-race": ("short-idle", "read-timeout", "long-idle"),
    "header-limits": ("max-header-8k", "default-limit", "big-response-header"),
    "circuit-breaker": ("no-breaker", "breaker"),
}

# Patterns that query a database: their scenario needs a `database:` section.
DATABASE_PATTERNS = {"db-pool-leak"}

NAME = r"^[a-z][a-z0-9-]{0,39}$"
NEXT_UPSTREAM = (
    "error", "timeout", "invalid_header", "http_500", "http_502", "http_503",
    "http_504", "http_403", "http_404", "http_429", "non_idempotent", "off",
)
TOXIC_ATTRIBUTES = {
    "latency": {"latency", "jitter"},
    "bandwidth": {"rate"},
    "slow_close": {"delay"},
    "timeout": {"timeout"},
    "reset_peer": {"timeout"},
    "slicer": {"average_size", "size_variation", "delay"},
    "limit_data": {"bytes"},
    "down": set(),
}
# Hard caps: every load is bounded in time and rate.
MAX_DURATION_S = 1800
MAX_RATE = 2000
MAX_USERS = 500
MAX_WORKERS = 16
MAX_INFLIGHT = 20_000


OPS = {">": float.__gt__, ">=": float.__ge__, "<": float.__lt__, "<=": float.__le__, "==": float.__eq__}
TEXT_OPS = {"contains": lambda actual, value: value in actual}

REPLICA_METRICS = (
    "goroutine_slope", "goroutine_trend", "goroutine_growth", "goroutines_start", "goroutines_peak", "inflight_peak", "pool_in_use_peak",
    "goroutines_after", "goroutines_left", "fds_start", "fds_after", "fds_left", "leakwatch_flags", "runtime_leaks",
    "runtime_leak_frame", "leak_signals",
    "pool_waiters_peak", "open_fds_peak", "rss_peak_mb", "attempts", "failed_attempts",
    "ejection_episodes", "down_s", "served", "p50_ms", "p99_ms", "stacks_grown", "leak_flagged_s",
    "first_symptom_s", "recovered_s", "top_stack.growth", "top_stack.blocking_call", "top_stack.own_frame",
    "deaths", "accept_errors", "first_accept_error_s", "scrape_errors",
    "db_in_use_peak", "db_in_use_after", "db_open_peak", "db_max_open", "db_wait_count", "db_wait_s",
    # the container backend (containers.jsonl, cgroups.jsonl); None with the local backend
    "oom_kills", "first_oom_s", "restarts", "first_restart_s", "liveness_failures", "liveness_kills", "unready_s",
    "crashloop_delay_max_s", "cg_mem_peak_mb", "cg_mem_limit_mb", "throttled_periods", "throttled_share",
    "throttled_s", "cpu_s",
)
CLIENT_METRICS = (
    "requests", "rps", "errors_5xx", "rate_5xx", "conn_errors", "slow", "slow_share",
    "p50_ms", "p90_ms", "p99_ms", "max_ms",
    "redirects", "wrong_redirects", "wrong_redirect_rate", "rejected", "rejected_rate",
)
GATEWAY_METRICS = ("retried_requests", "no_live_upstreams", "failed_attempts", "attempts_per_request", "ejection_episodes", "rewritten_redirects", "state_agreement")
BYPASS_METRICS = ("figure", "bad_requests", "bypassed", "noticed", "no_live")
CROSSCHECK_METRICS = ("missing_in_access_log", "unexpected_in_access_log")
# The load as sent against its schedule (late: started more than LATE_MS after it; dropped: never started).
LOAD_METRICS = ("scheduled", "sent", "sent_share", "late_starts", "dropped_starts", "max_late_ms")


# What `gatewaylab compare` judges; thresholds are the smallest difference worth a verdict.
COMPARE_KINDS = ("goroutine_slope", "pool_waiters_peak", "rate_5xx", "p99_ms", "ejection_episodes", "bypass")


def metric_known(path: str, replicas: list[str]) -> bool:
    parts = path.split(".")
    match parts:
        case ["client", "status", code]:
            return bool(re.fullmatch(r"[0-9]{1,3}", code))
        case ["client", "endpoint", key, m]:
            return bool(re.fullmatch(r"[A-Za-z0-9._~-]{1,60}", key)) and m in CLIENT_METRICS
        case ["client", m]:
            return m in CLIENT_METRICS
        case ["replicas", r, "failed_by_kind", kind]:
            return r in replicas and bool(re.fullmatch(r"[a-z_0-9]{1,30}", kind))
        case ["replicas", r, *m]:
            return r in replicas and ".".join(m) in REPLICA_METRICS
        case ["gateway", "error_log", kind]:
            return bool(re.fullmatch(r"[a-z_]{1,30}", kind))
        case ["gateway", m]:
            return m in GATEWAY_METRICS
        case ["bypass", m]:
            return m in BYPASS_METRICS
        case ["crosscheck", m]:
            return m in CROSSCHECK_METRICS
        case ["load", m]:
            return m in LOAD_METRICS
    return False
