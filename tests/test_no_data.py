"""Missing data never passes: an expectation on a metric without a value fails, saying what was missing."""

from __future__ import annotations

from harness.analysis.expect import check, lookup
from harness.analysis.client import client
from harness.scenario import Expectation
import pandas as pd


def expect(metric: str, op: str = "==", value: float = 0.0) -> Expectation:
    return Expectation(metric=metric, op=op, value=value)


def summary(requests: int = 100, samples: int = 50, scrape_errors: int = 0, attempts: int = 100) -> dict:
    return {
        "client": {"requests": requests, "status": {"200": requests} if requests else {}, "errors_5xx": 0 if requests else None},
        "replicas": {"a": {"samples": samples, "scrape_errors": scrape_errors, "attempts": attempts, "failed_by_kind": {},
                           "pool_waiters_peak": None, "goroutines_left": 3 if samples else None, "stacks_grown": None,
                           "leakwatch_flags": None}},
        "gateway": {"error_log": {}, "error_log_read": True},
    }


def test_a_metric_the_replica_does_not_export_fails_as_no_data():
    (row,) = check([expect("replicas.a.pool_waiters_peak", "<=", 2)], summary())
    assert not row["holds"] and row["actual"] is None
    assert "exported no value for pool_waiters_peak" in row["no_data"]


def test_a_zero_check_on_a_replica_without_samples_fails_naming_the_failed_scrapes():
    (row,) = check([expect("replicas.a.goroutines_left", "<=", 50)], summary(samples=0, scrape_errors=55))
    assert not row["holds"]
    assert "no /metrics sample" in row["no_data"] and "55 scrapes failed" in row["no_data"]


def test_counts_are_zero_only_where_someone_looked():
    seen = summary()
    assert lookup(seen, "client.status.502") == 0          # requests were recorded: no 502 is zero 502s
    assert lookup(seen, "replicas.a.failed_by_kind.timeout") == 0
    assert lookup(seen, "gateway.error_log.upstream_timed_out") == 0
    nothing = summary(requests=0, attempts=0)
    nothing["gateway"]["error_log_read"] = False
    for m in ("client.status.502", "client.errors_5xx", "replicas.a.failed_by_kind.timeout", "gateway.error_log.upstream_timed_out"):
        (row,) = check([expect(m)], nothing)
        assert not row["holds"] and row["actual"] is None and row["no_data"], (m, row)


def test_no_request_at_all_gives_no_client_figure():
    empty = pd.DataFrame(columns=["start", "end", "status", "ms", "rid", "endpoint", "location"])
    c = client(empty, slow_ms=300)
    assert c["requests"] == 0 and c["errors_5xx"] is None and c["slow"] is None and c["rate_5xx"] is None
    (row,) = check([expect("client.slow")], {"client": c, "replicas": {}, "gateway": {}})
    assert not row["holds"] and "no client request" in row["no_data"]


def test_stack_checks_without_dumps_fail_as_no_data():
    (row,) = check([expect("replicas.a.stacks_grown")], summary())
    assert not row["holds"] and "no goroutine dumps" in row["no_data"]
