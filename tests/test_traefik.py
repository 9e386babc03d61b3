"""The Traefik plug-in without the binary: the config it renders, what it refuses, its gauge, and its logs
(lines in the shapes Traefik v3.6.12 writes) read into attempts and episodes."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from harness.analysis.gateways import traefik as view
from harness.scenario import Gateway
from harness.stack.gateways import traefik

MEMBERS = {"a": "127.0.0.1:1001", "b": "127.0.0.1:1002"}
AMAP = {"127.0.0.1:1001": "a", "127.0.0.1:1002": "b", "a": "a", "b": "b"}


def test_every_listener_is_on_loopback_and_nothing_calls_home(tmp_path):
    s = traefik.static(18080, 18081, tmp_path)
    assert {e["address"] for e in s["entryPoints"].values()} == {"127.0.0.1:18080", "127.0.0.1:18081"}
    assert s["global"] == {"checkNewVersion": False, "sendAnonymousUsage": False}
    assert s["api"]["dashboard"] is False and s["metrics"]["prometheus"]["entryPoint"] == "traefik"
    assert s["accessLog"]["fields"]["headers"]["names"] == {"X-Request-Id": "keep"}


@pytest.mark.parametrize("gw, attempts, passive", [
    (Gateway(kind="traefik"), 2, {"maxFailedAttempts": 3, "failureWindow": "10s"}),
    (Gateway(kind="traefik", proxy_next_upstream=["timeout", "http_500"], max_fails=1, fail_timeout_s=4), 1,
     {"maxFailedAttempts": 1, "failureWindow": "4s"}),
    (Gateway(kind="traefik", proxy_next_upstream=["error"], next_upstream_tries=5, max_fails=0), 5, None),
    (Gateway(kind="traefik", proxy_next_upstream=["off"]), 1, {"maxFailedAttempts": 3, "failureWindow": "10s"}),
])
def test_the_dynamic_config_maps_the_scenarios_gateway_settings(gw, attempts, passive):
    http = traefik.dynamic(gw, MEMBERS)["http"]
    lb = http["services"]["app"]["loadBalancer"]
    assert [s["url"] for s in lb["servers"]] == ["http://127.0.0.1:1001", "http://127.0.0.1:1002"]
    assert lb.get("passiveHealthCheck") == passive
    assert (http.get("middlewares", {}).get("retry", {}).get("retry", {}).get("attempts", 1)) == attempts
    assert ("middlewares" in http["routers"]["app"]) == (attempts > 1)
    transport = http["serversTransports"]["members"]
    assert transport["maxIdleConnsPerHost"] == -1
    assert transport["forwardingTimeouts"] == {"dialTimeout": f"{round(gw.connect_timeout_s * 1000)}ms",
                                               "responseHeaderTimeout": f"{round(gw.read_timeout_s * 1000)}ms"}


def test_a_group_of_one_gets_no_retry():
    assert traefik.retry_attempts(Gateway(kind="traefik"), 1) == 1


@pytest.mark.parametrize("gw, needle", [
    (Gateway(kind="traefik", send_timeout_s=9), "send_timeout_s"),
    (Gateway(kind="traefik", caddy={"unhealthy_latency_ms": 300}), "latency"),
    (Gateway(kind="traefik", next_upstream_timeout_s=3), "next_upstream_timeout_s"),
    (Gateway(kind="traefik", proxy_next_upstream=["timeout"], next_upstream_tries=2), "next_upstream_tries"),
    (Gateway(kind="traefik", upstream_keepalive=8), "upstream_keepalive"),
    (Gateway(kind="traefik", public_host="shop.example"), "public_host"),
])
def test_what_traefik_cannot_express_is_refused_with_a_sentence(gw, needle):
    reasons = traefik.refusals(gw)
    assert reasons and needle in " ".join(reasons)
    assert traefik.refusals(Gateway(kind="traefik")) == []


def test_the_gauge_is_read_per_server():
    text = ('# TYPE traefik_service_server_up gauge\n'
            'traefik_service_server_up{service="app@file",url="http://127.0.0.1:1001"} 0\n'
            'traefik_service_server_up{service="app@file",url="http://127.0.0.1:1002"} 1\n'
            'traefik_service_requests_total{code="200",method="GET",protocol="http",service="app@file"} 12\n')
    rows = traefik.parse_gauge(text)
    assert rows == [{"member": "127.0.0.1:1001", "up": 0}, {"member": "127.0.0.1:1002", "up": 1}]
    assert [view.out(r, Gateway(kind="traefik")) for r in rows] == [True, False]


T0 = 1796488200.0


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat().replace("+00:00", "Z")


def _access(t, took, rid, server, origin, downstream, path="/api/item"):
    return json.dumps({"DownstreamStatus": downstream, "Duration": int(took * 1e9), "OriginDuration": int(took * 1e9),
                       "OriginStatus": origin, "RequestMethod": "GET", "RequestPath": path, "RetryAttempts": 0,
                       "ServiceURL": f"http://{server}" if server else None, "StartUTC": _stamp(t),
                       "request_X-Request-Id": rid, "time": _stamp(int(t + took))})


def _debug(t, message, error=None):
    line = {"level": "debug", "time": _stamp(int(t)), "message": message}
    return json.dumps({**line, "error": error} if error else line)


def test_traefik_logs_to_attempts_and_episodes(tmp_path):
    a, b = MEMBERS["a"], MEMBERS["b"]
    access = [
        _access(T0 + 0.0, 1.0, "r1", a, 504, 504),          # Traefik's own timeout (its error line below)
        _access(T0 + 0.2, 0.01, "r2", a, 504, 504),         # the server's own 504: no error line
        _access(T0 + 1.5, 0.3, "r3", a, 499, 499),          # the client left: a success to the check
        _access(T0 + 2.0, 1.0, "r4", a, 504, 504),
        _access(T0 + 2.1, 1.0, "r5", a, 504, 504),
        _access(T0 + 3.2, 1.0, "r6", a, 504, 504),          # the third in a row since r3: a is out
        _access(T0 + 5.1, 0.2, "r7", b, 200, 200),          # a's dial refused, retried on b
        _access(T0 + 6.0, 0.0, "r8", None, 0, 503),         # nothing left to try
        _access(T0 + 6.5, 0.0, "", None, 0, 200, path="/__gatewaylab/health"),
    ]
    debug = [
        _debug(T0 + 1.0, "504 Gateway Timeout", "net/http: timeout awaiting response headers"),
        _debug(T0 + 1.8, "499 Client Closed Request", "context canceled"),
        _debug(T0 + 3.0, "504 Gateway Timeout", "net/http: timeout awaiting response headers"),
        _debug(T0 + 3.1, "504 Gateway Timeout", "net/http: timeout awaiting response headers"),
        _debug(T0 + 4.2, "504 Gateway Timeout", "net/http: timeout awaiting response headers"),
        _debug(T0 + 4.2, f"Setting status of http://{a} to DOWN"),
        _debug(T0 + 5.1, "502 Bad Gateway", f"dial tcp {a}: connect: connection refused"),
        _debug(T0 + 5.1, "New attempt 2 for request: /api/item"),
        _debug(T0 + 14.2, f"Setting status of http://{a} to UP"),
    ]
    (tmp_path / "traefik").mkdir()
    (tmp_path / "traefik" / "access.log").write_text("\n".join(access) + "\n")
    (tmp_path / "traefik" / "traefik.log").write_text("\n".join(debug) + "\n")
    v = view.read(tmp_path, AMAP, Gateway(kind="traefik", max_fails=3, fail_timeout_s=10))
    assert list(v.access["rid"]) == ["r2", "r1", "r3", "r4", "r5", "r6", "r7", "r8"]  # in the order they ended
    att = v.attempts
    assert list(att["kind"]) == ["http_504", "timeout", "client_closed", "timeout", "timeout", "timeout",
                                 "refused", "ok", "no_live_upstreams"]
    assert list(att["counted"]) == [True, True, False, True, True, True, True, False, False]
    assert list(att["replica"]) == ["a", "a", "a", "a", "a", "a", "a", "b", "(none)"]
    assert list(att[att["rid"] == "r7"]["n"]) == [0, 1]  # the retried dial, given to r7 (inferred)
    # out from r6's end (the third consecutive failure, 4.2 s) for failureWindow, as the UP line says
    assert list(v.episodes[["replica", "start", "end"]].itertuples(index=False, name=None)) == [
        ("a", pytest.approx(T0 + 4.2), pytest.approx(T0 + 14.2))]
    assert {"disabled", "up", "timeout", "refused"} <= set(v.errors["kind"])


def test_a_down_line_without_an_up_line_lasts_to_the_logs_end(tmp_path):
    debug = [_debug(T0, "Setting status of http://127.0.0.1:1001 to DOWN"), _debug(T0 + 3, "something else")]
    (tmp_path / "traefik").mkdir()
    (tmp_path / "traefik" / "traefik.log").write_text("\n".join(debug) + "\n")
    v = view.read(tmp_path, AMAP, Gateway(kind="traefik"))
    assert list(v.episodes[["replica", "start", "end"]].itertuples(index=False, name=None)) == [("a", T0, T0 + 3)]
    assert v.access.empty and v.log_read


def test_without_the_binary_the_fix_is_named(monkeypatch, tmp_path):
    from harness.errors import ToolMissing

    monkeypatch.setattr(traefik, "ROOT", tmp_path)
    with pytest.raises(ToolMissing, match="make traefik"):
        traefik.binary()


def test_make_traefik_is_not_part_of_setup_or_test():
    make = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    setup = next(line for line in make.splitlines() if line.startswith("setup:"))
    assert "traefik" not in setup
    assert "scripts/ensure-traefik" in make
