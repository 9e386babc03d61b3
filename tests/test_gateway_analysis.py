"""nginx's counting rules and episode merging, on log lines of the shapes nginx writes."""

import pandas as pd
import pytest

from harness.analysis.gateways import nginx as gateway
from harness.analysis.gateway import bypass, crosscheck
from harness.analysis.replica import slope
from harness.scenario import Gateway

AMAP = {"127.0.0.1:1001": "a", "127.0.0.1:1002": "b"}
DEFAULT = Gateway()
WITH_500 = Gateway(proxy_next_upstream=["error", "timeout", "http_500"])
WITH_500_POST = Gateway(proxy_next_upstream=["error", "timeout", "http_500", "non_idempotent"])


@pytest.mark.parametrize(
    "addr, status, header, method, gw, expected",
    [
        ("127.0.0.1:1001", 504, None, "GET", DEFAULT, ("timeout", True)),
        ("127.0.0.1:1001", 504, None, "POST", DEFAULT, ("timeout", True)),  # timeouts count even for POST
        ("127.0.0.1:1001", 502, None, "GET", DEFAULT, ("error", True)),     # refused / reset / premature close
        ("127.0.0.1:1001", 500, 0.01, "GET", DEFAULT, ("http_500", False)),  # not listed: never counted
        ("127.0.0.1:1001", 500, 0.01, "GET", WITH_500, ("http_500", True)),
        ("127.0.0.1:1001", 500, 0.01, "POST", WITH_500, ("http_500", False)),  # needs non_idempotent
        ("127.0.0.1:1001", 500, 0.01, "POST", WITH_500_POST, ("http_500", True)),
        ("127.0.0.1:1001", 502, 0.01, "GET", DEFAULT, ("http_502", False)),  # the service's own 502
        ("127.0.0.1:1001", 404, 0.01, "GET", Gateway(proxy_next_upstream=["error", "http_404"]), ("http_404", False)),
        ("127.0.0.1:1001", 200, 1.9, "GET", DEFAULT, ("ok", False)),  # slow but under the timeout
        ("app", 502, None, "GET", DEFAULT, ("no_live_upstreams", False)),
    ],
)
def test_attempt_kind(addr, status, header, method, gw, expected):
    assert gateway.attempt_kind(addr, status, header, method, gw) == expected


def access(rows):
    return pd.DataFrame(rows).assign(end=lambda d: d["msec"].astype(float), status=lambda d: d["status"].astype(int),
                                     request_time=lambda d: d["request_time"].astype(float))


def test_attempts_split_per_try_and_map_replicas():
    df = access([
        {"msec": "100.0", "rid": "r1", "method": "GET", "status": "200", "request_time": "2.05",
         "upstream_addr": "127.0.0.1:1001, 127.0.0.1:1002", "upstream_status": "504, 200",
         "upstream_response_time": "2.000, 0.050", "upstream_header_time": "-, 0.049"},
        {"msec": "101.0", "rid": "r2", "method": "GET", "status": "502", "request_time": "0.001",
         "upstream_addr": "app", "upstream_status": "502", "upstream_response_time": "0.000", "upstream_header_time": "-"},
    ])
    att = gateway.attempts(df, AMAP, DEFAULT)
    assert list(att["replica"]) == ["a", "b", "(none)"]
    assert list(att["kind"]) == ["timeout", "ok", "no_live_upstreams"]
    assert list(att["counted"]) == [True, False, False]
    assert list(att["last"]) == [False, True, True]
    assert att["end"].iloc[0] == pytest.approx(97.95 + 2.0)


ERRLOG = """\
2026/11/27 10:00:05 [error] 11#11: *3 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /api/item HTTP/1.1", upstream: "http://127.0.0.1:1001/api/item", host: "x"
2026/11/27 10:00:05 [warn] 11#11: *3 upstream server temporarily disabled while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /api/item HTTP/1.1", upstream: "http://127.0.0.1:1001/api/item", host: "x"
2026/11/27 10:00:06 [warn] 11#11: *4 upstream server temporarily disabled while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /api/item HTTP/1.1", upstream: "http://127.0.0.1:1001/api/item", host: "x"
2026/11/27 10:00:18 [warn] 11#11: *9 upstream server temporarily disabled while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /api/item HTTP/1.1", upstream: "http://127.0.0.1:1001/api/item", host: "x"
2026/11/27 10:00:20 [error] 11#11: *12 no live upstreams while connecting to upstream, client: 127.0.0.1, server: , request: "GET /api/item HTTP/1.1", upstream: "http://app/api/item", host: "x"
2026/11/27 10:00:40 [error] 11#11: *15 upstream sent too big header while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /api/item HTTP/1.1", upstream: "http://127.0.0.1:1001/api/item", host: "x"
2026/11/27 10:00:41 [error] 11#11: *16 upstream prematurely closed connection while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /api/item HTTP/1.1", upstream: "http://127.0.0.1:1001/api/item", host: "x"
"""


def test_error_log_and_episodes(tmp_path):
    (tmp_path / "nginx").mkdir()
    (tmp_path / "nginx" / "error.log").write_text(ERRLOG)
    errors = gateway.error_log(tmp_path)
    assert list(errors["kind"]) == ["timeout", "disabled", "disabled", "disabled", "no_live_upstreams", "too_big_header",
                                    "premature_close"]
    assert errors["t"].iloc[0] == pytest.approx(pd.Timestamp("2026-11-27 10:00:05", tz="UTC").timestamp())
    eps = gateway.episodes(errors, AMAP, fail_timeout_s=10)
    # 05 and 06 are one episode (06 falls inside 05+10); 18 is after 06+10 closed: a failed trial, a new episode.
    assert len(eps) == 2
    assert list(eps["lines"]) == [2, 1]
    assert eps["end"].iloc[0] - eps["start"].iloc[0] == pytest.approx(11)
    assert set(eps["replica"]) == {"a"}


def test_bypass_counts_what_nginx_did_not_see():
    req = pd.DataFrame({"rid": ["slow-ok", "timeout", "nolive", "fine", "unseen"], "status": [200, 504, 502, 200, 0],
                        "ms": [1500.0, 2000.0, 1.0, 50.0, 3.0]})
    att = pd.DataFrame({"rid": ["slow-ok", "timeout", "nolive", "fine"], "counted": [False, True, False, False],
                        "kind": ["ok", "timeout", "no_live_upstreams", "ok"]})
    b = bypass(req, att, slow_ms=1000)
    assert b == {"bad_requests": 4, "noticed": 1, "no_live": 1, "bypassed": 1, "unseen": 1, "figure": 0.25}


def test_crosscheck_reports_mismatches():
    req = pd.DataFrame({"rid": ["a", "b", "c"], "status": [200, 200, 0]})
    acc = pd.DataFrame({"rid": ["a", "z"], "status": [200, 499]})
    c = crosscheck(req, acc)
    assert c["matched"] == 1
    assert c["missing_in_access_log"] == 1
    assert c["connection_errors_not_logged"] == 1
    assert c["unexpected_in_access_log"] == 1
    assert c["unexpected_statuses"] == {"499": 1}


def test_slope():
    t = pd.Series([0.0, 1.0, 2.0, 3.0])
    assert slope(t, pd.Series([5, 45, 85, 125])) == pytest.approx(40)
    assert slope(t, pd.Series([7, 7, 7, 7])) == pytest.approx(0)
    assert slope(pd.Series([1.0]), pd.Series([3])) == 0.0
