"""The gateway plug-ins: configs the real HAProxy and Caddy accept, settings they refuse, and their records
read into the same per-attempt tables and ejection episodes (log lines in the shapes each one writes)."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pytest

from harness import scenario as sc
from harness.analysis import gateways as views
from harness.analysis.gateways import caddy as caddy_view, haproxy as haproxy_view
from harness.cli import matrix
from harness.errors import ScenarioError
from harness.scenario import Gateway
from harness.stack import gateways
from harness.stack.gateways import caddy, haproxy

MEMBERS = {"a": "127.0.0.1:1001", "b": "127.0.0.1:1002"}
AMAP = {"127.0.0.1:1001": "a", "127.0.0.1:1002": "b", "a": "a", "b": "b"}


@pytest.mark.parametrize("gw", [
    Gateway(kind="haproxy"),
    Gateway(kind="haproxy", proxy_next_upstream=["error", "timeout", "http_500", "non_idempotent"], max_fails=1),
    Gateway(kind="haproxy", proxy_next_upstream=["off"], max_fails=0, haproxy={"check": "http", "on_error": "fail-check"}),
])
def test_haproxy_accepts_the_rendered_config(tmp_path, gw):
    conf = tmp_path / "haproxy.cfg"
    conf.write_text(haproxy.render(gw, 18080, MEMBERS, "127.0.0.1:18081"))
    done = subprocess.run([str(haproxy.binary()), "-c", "-f", str(conf)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    text = conf.read_text()
    assert "bind 127.0.0.1:18080" in text
    if gw.max_fails:
        assert f"observe layer7 error-limit {gw.max_fails} on-error {gw.haproxy.on_error}" in text
    else:
        assert "observe" not in text
    assert ("disable-l7-retry" in text) == ("non_idempotent" not in gw.proxy_next_upstream and "off" not in gw.proxy_next_upstream)


@pytest.mark.parametrize("gw", [
    Gateway(kind="caddy"),
    Gateway(kind="caddy", proxy_next_upstream=["error", "timeout", "http_500", "http_503"], caddy={"unhealthy_latency_ms": 800}),
    Gateway(kind="caddy", proxy_next_upstream=["off"], max_fails=0),
])
def test_caddy_accepts_the_rendered_config(tmp_path, gw):
    conf = tmp_path / "caddy.json"
    conf.write_text(json.dumps(caddy.config(gw, 18090, 18099, MEMBERS, tmp_path)))
    done = subprocess.run([str(caddy.binary()), "validate", "--config", str(conf)], capture_output=True, text=True,
                          timeout=60, env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    server = caddy.config(gw, 18090, 18099, MEMBERS, tmp_path)["apps"]["http"]["servers"]["gw"]
    assert server["listen"] == ["127.0.0.1:18090"]
    proxy = server["routes"][1]["handle"][0]
    assert proxy["load_balancing"]["selection_policy"] == {"policy": "round_robin"}
    assert ("health_checks" in proxy) == (gw.max_fails > 0)


@pytest.mark.parametrize("gw, needle", [
    (Gateway(kind="haproxy", proxy_next_upstream=["error", "http_429"]), "http_429"),
    (Gateway(kind="haproxy", send_timeout_s=9), "send_timeout_s"),
    (Gateway(kind="caddy", proxy_next_upstream=["error"]), "error and timeout together"),
    (Gateway(kind="caddy", public_host="shop.example"), "gateway.public_host"),
    (Gateway(kind="haproxy", upstream_keepalive=16), "gateway.upstream_keepalive"),
    (Gateway(kind="caddy", upstream_keepalive_timeout_s=5), "gateway.upstream_keepalive"),
])
def test_what_a_gateway_cannot_express_is_refused_with_a_sentence(gw, needle):
    reasons = gateways.plugin(gw.kind).refusals(gw)
    assert reasons and needle in " ".join(reasons)


def test_a_refused_variant_stops_the_run_before_anything_starts():
    s = sc.on_gateway(sc.load("gateway-headers"), "caddy")
    with pytest.raises(ScenarioError, match="gateway.public_host|gateway.forwarded"):
        gateways.check(s, list(s.variants))


def test_the_docker_backend_refuses_another_gateway():
    with pytest.raises(ScenarioError, match="docker backend runs nginx only"):
        sc.on_gateway(sc.load("oom-kill"), "haproxy")


def test_expect_on_replaces_the_expectations_behind_that_gateway():
    s = sc.load(str(sc.SCENARIO_DIR.parent / "tests" / "scenarios" / "e2e-short.yaml"))
    nginx = [e.metric for e in s.resolve("buggy").variants["buggy"].expect]
    behind = [e.metric for e in sc.on_gateway(s, "haproxy").resolve("buggy").variants["buggy"].expect]
    assert "replicas.a.ejection_episodes" in nginx and "bypass.figure" in behind and nginx != behind
    assert sc.on_gateway(s, "caddy").resolve("buggy").variants["buggy"].expect == s.resolve("buggy").variants["buggy"].expect



def test_leak_on_replaces_the_leak_kind_behind_that_gateway_only():
    s = sc.load("timeout-mismatch")
    assert s.resolve("deadline").variants["deadline"].leak == "none"
    assert sc.on_gateway(s, "haproxy").resolve("deadline").variants["deadline"].leak == "pile-up"
    assert sc.on_gateway(s, "caddy").resolve("deadline").variants["deadline"].leak == "none"

HAPROXY_LOG = """\
[NOTICE]   (7) : New worker (8) forked
2026-12-03T10:00:01.000000+00:00 {"end_ms":1796292001000,"rid":"r1","method":"GET","uri":"/api/item","status":200,"ta_ms":1003,"tr_ms":2,"tc_ms":0,"tw_ms":1001,"server":"b","retries":"+1","term":"----"}
2026-12-03T10:00:02.000000+00:00 {"end_ms":1796292002000,"rid":"r2","method":"GET","uri":"/api/item","status":504,"ta_ms":1000,"tr_ms":-1,"tc_ms":0,"tw_ms":0,"server":"a","retries":"0","term":"sH--"}
2026-12-03T10:00:03.000000+00:00 {"end_ms":1796292003000,"rid":"r3","method":"POST","uri":"/api/item","status":500,"ta_ms":3,"tr_ms":3,"tc_ms":0,"tw_ms":0,"server":"a","retries":"0","term":"----"}
2026-12-03T10:00:03.500000+00:00 {"end_ms":1796292003500,"rid":"r4","method":"GET","uri":"/api/item","status":501,"ta_ms":3,"tr_ms":3,"tc_ms":0,"tw_ms":0,"server":"a","retries":"0","term":"----"}
2026-12-03T10:00:04.000000+00:00 Server app/a is DOWN, reason: Health analyze, info: "Detected 3 consecutive errors, last one was: L7RSP: Invalid response", check duration: 0ms. 1 active and 0 backup servers left.
[WARNING]  (8) : Server app/a is DOWN, reason: Health analyze, info: "Detected 3 consecutive errors, last one was: L7RSP: Invalid response"
2026-12-03T10:00:05.000000+00:00 {"end_ms":1796292005000,"rid":"r5","method":"GET","uri":"/api/item","status":503,"ta_ms":0,"tr_ms":-1,"tc_ms":-1,"tw_ms":0,"server":"<NOSRV>","retries":"0","term":"SC--"}
2026-12-03T10:00:06.000000+00:00 {"end_ms":1796292006000,"rid":"","method":"GET","uri":"/__gatewaylab/health","status":200,"ta_ms":0,"tr_ms":-1,"tc_ms":-1,"tw_ms":0,"server":"<NOSRV>","retries":"0","term":"LR--"}
2026-12-03T10:00:14.000000+00:00 Server app/a is UP, reason: Layer4 check passed, check duration: 0ms. 2 active and 0 backup servers online.
"""


def test_haproxy_log_to_attempts_and_episodes(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "haproxy.log").write_text(HAPROXY_LOG)
    v = haproxy_view.read(tmp_path, AMAP, Gateway(kind="haproxy", max_fails=3))
    assert list(v.access["rid"]) == ["r1", "r2", "r3", "r4", "r5"]  # the harness's health checks left out
    att = v.attempts
    assert list(att["replica"]) == ["?", "b", "a", "a", "a", "(none)"]
    assert list(att["kind"]) == ["retried", "ok", "timeout", "http_500", "http_501", "no_live_upstreams"]
    # a retried failure is not counted (measured), 501 is not an error to layer7 observing, a POST 500 is
    assert list(att["counted"]) == [False, False, True, True, False, False]
    assert list(v.episodes[["replica", "lines"]].itertuples(index=False, name=None)) == [("a", 1)]
    assert v.episodes["end"].iloc[0] - v.episodes["start"].iloc[0] == pytest.approx(10)
    assert {"disabled", "up", "timeout"} <= set(v.errors["kind"])


def _trip(ts, rid, upstream, **extra):
    return json.dumps({"level": "debug", "ts": ts, "logger": "http.handlers.reverse_proxy", "msg": "upstream roundtrip",
                       "upstream": upstream, "request": {"method": "GET", "uri": "/api/item", "headers": {"X-Request-Id": [rid]}},
                       **extra})


def _handled(ts, rid, status, uri="/api/item"):
    return json.dumps({"level": "info", "ts": ts, "logger": "http.log.access.log0", "msg": "handled request",
                       "request": {"method": "GET", "uri": uri, "headers": {"X-Request-Id": [rid]}}, "status": status,
                       "duration": 0.1})


def test_caddy_log_to_attempts_and_episodes(tmp_path):
    a, b = "127.0.0.1:1001", "127.0.0.1:1002"
    lines = [
        _trip(100.0, "r1", a, duration=1.0, error="net/http: timeout awaiting response headers"),
        _trip(100.1, "r1", b, duration=0.05, status=200), _handled(100.1, "r1", 200),
        _trip(101.0, "r2", a, duration=0.01, status=500), _trip(101.1, "r2", b, duration=0.01, status=200),
        _handled(101.1, "r2", 200),
        _trip(102.0, "r3", a, duration=0.9, status=200), _handled(102.0, "r3", 200),
        _handled(103.0, "r4", 503), _handled(103.5, "", 200, uri="/__gatewaylab/health"),
    ]
    (tmp_path / "caddy").mkdir()
    (tmp_path / "caddy" / "caddy.log").write_text("\n".join(lines) + "\n")
    gw = Gateway(kind="caddy", max_fails=3, fail_timeout_s=4, proxy_next_upstream=["error", "timeout", "http_500"],
                 caddy={"unhealthy_latency_ms": 800})
    v = caddy_view.read(tmp_path, AMAP, gw)
    assert list(v.access["rid"]) == ["r1", "r2", "r3", "r4"]
    att = v.attempts
    assert list(att["kind"]) == ["timeout", "ok", "http_500", "ok", "slow", "no_live_upstreams"]
    assert list(att["counted"]) == [True, False, True, False, True, False]
    # three failures of a at 100, 101, 102, each remembered 4 s: out from 102 until the first is forgotten at 104
    assert list(v.episodes[["replica", "start", "end", "lines"]].itertuples(index=False, name=None)) == [("a", 102.0, 104.0, 3)]


def test_a_sliding_window_episode_lasts_while_max_fails_are_remembered():
    eps = views.held_out([(0.0, "a"), (1.0, "a"), (5.0, "a"), (6.0, "a")], max_fails=2, window_s=3)
    assert list(eps[["start", "end"]].itertuples(index=False, name=None)) == [(1.0, 3.0), (6.0, 8.0)]
    assert views.held_out([(0.0, "a")], max_fails=2, window_s=3).empty


def test_episodes_are_checked_against_the_gateways_own_view(tmp_path):
    eps = pd.DataFrame([{"replica": "a", "start": 10.0, "end": 20.0, "lines": 3}])
    rows = [{"t": 5.0, "member": "127.0.0.1:1001", "fails": 0}, {"t": 15.0, "member": "127.0.0.1:1001", "fails": 3},
            {"t": 25.0, "member": "127.0.0.1:1001", "fails": 1}, {"t": 15.0, "member": "127.0.0.1:1002", "fails": 3}]
    (tmp_path / "gateway.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    got = views.agreement(tmp_path, eps, AMAP, Gateway(kind="caddy", max_fails=3))
    assert got == {"state_samples": 4, "state_agreement": 0.75, "state_out_samples": 2}  # b's out moment is not an episode
    assert views.agreement(tmp_path, eps, AMAP, Gateway())["state_agreement"] is None  # nginx has no API to poll


def test_the_matrix_plans_every_gateway_view_scenario_and_tables_the_cells():
    planned = matrix.plan("caddy", all_variants=False)
    assert [s.name for s, _, _ in planned] == list(matrix.MATRIX)
    assert all(s.gateway.kind == "caddy" for s, _, _ in planned)
    rows = [{"scenario": "x", "variant": "buggy", "gateway": k, "verdict": "pass", "errors": {"504": 3}, "ejections": 1,
             "bypass": 0.25, "says": "ejected", "report": None} for k in ("nginx", "caddy")]
    rows += matrix.refused_rows(planned[0][0], "haproxy", {"buggy": "gateway.x: no such thing."})
    md = matrix.markdown(rows)
    assert md.splitlines()[0] == "| scenario/variant | nginx | haproxy | caddy |"  # only the gateways that ran
    assert "PASS | 5xx/no answer 3 | ejections 1 | bypass 25% | ejected" in md and "not expressible: gateway.x" in md


def test_run_refuses_a_variant_its_gateway_cannot_express_before_anything_starts(tmp_path):
    import sys
    from tests.runs import ROOT

    done = subprocess.run([sys.executable, "-m", "harness", "run", "unclosed-body", "--gateway", "haproxy",
                           "--variant", "client-timeout-latency", "--reports", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "variant client-timeout-latency: gateway.caddy.unhealthy_latency_ms" in done.stderr
    assert not (tmp_path / "runs").exists()  # nothing started, no folder


RECORDED = sc.SCENARIO_DIR.parent / "tests" / "fixtures" / "runs"


@pytest.mark.parametrize("kind, ejected", [("haproxy", False), ("caddy", True), ("traefik", True)])
def test_a_recorded_run_behind_each_gateway_reads_back_from_its_folder_alone(tmp_path, kind, ejected):
    """tests/fixtures/runs/e2e-short-<kind>: the buggy variant of `gatewaylab run tests/scenarios/e2e-short.yaml
    --gateway <kind>` (goroutine dumps' full texts left out; for traefik also toxiproxy.log, emptied)."""
    import shutil
    from harness.analysis.summary import summarize
    from harness.report import build

    run_dir = tmp_path / "run"
    shutil.copytree(RECORDED / f"e2e-short-{kind}", run_dir)
    summary, data = summarize(run_dir)
    v = summary["variants"]["buggy"]
    assert summary["stack"].startswith(f"local processes behind {kind} (") and v["gateway"]["kind"] == kind
    assert v["crosscheck"]["missing_in_access_log"] == 0 and v["crosscheck"]["matched"] == v["client"]["requests"]
    assert (v["replicas"]["a"]["ejection_episodes"] >= 1) == ejected
    assert v["gateway"]["state_samples"] > 0 and v["gateway"]["state_agreement"] >= 0.9
    assert (v["gateway"]["state_out_samples"] > 0) == ejected
    assert v["bypass"]["figure"] >= 0.9 if not ejected else v["bypass"]["figure"] <= 0.1
    build.write(run_dir)
    assert f"behind {kind}" in (run_dir / "summary.md").read_text()
