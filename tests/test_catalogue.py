"""Every catalogue scenario, shortened, on the real stack: the buggy build reproduces, the fixed one does not.

unclosed-body has its own, longer test (test_e2e.py). The scenario's own
expectations are sized for its full length; here each scenario runs ~12 s
per variant and the checks are sized for that.

Two runs go at a time (each waits on its load most of the time), as CI and
workshops share a machine: every check here rests on a figure whose ranges
do not meet under that load (scenarios/calibration/).
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from harness.scenario import SCENARIO_DIR
from harness.host.sockets import group_members, listeners
from tests.runs import run_dir_of, shorten, start, wait_for

pytestmark = pytest.mark.e2e


def shortened(name: str, tmp_path, seconds: float = 12.0, variants: list[str] | None = None):
    data = shorten(yaml.safe_load((SCENARIO_DIR / f"{name}.yaml").read_text()), seconds)
    for v in data["variants"].values():
        v["expect"] = []
    if variants:
        data["default_variants"] = variants
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run(name: str, tmp_path, **kw) -> dict:
    proc = start(shortened(name, tmp_path, **kw), tmp_path / "reports")
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    summary = json.loads((run_dir_of(tmp_path / "reports") / "summary.json").read_text())
    assert summary["complete"]
    return summary["variants"]


# name -> settings of its shortened run, in the order the tests below ask for them
PAIRED = {
    "single-upstream": {}, "unbuffered-chan": {}, "orphan-subscriber": {},
    "unread-request-body": {"variants": ["buggy-300k", "fixed"]}, "fd-exhaustion": {"seconds": 14},
    "status-not-counted": {"variants": ["get-500-default", "get-503-listed"]},
    "timeout-mismatch": {"seconds": 16, "variants": ["timeout-handler", "deadline"]},
    "defer-goroutine-panic": {}, "ctx-not-propagated": {"seconds": 14}, "gateway-headers": {},
    "noisy-neighbour": {"seconds": 14},
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every paired run, started two at a time as soon as the module begins: name -> (future summary, folder)."""
    pool = ThreadPoolExecutor(max_workers=2)
    started: dict[str, tuple[Future, object]] = {}
    for name, kw in PAIRED.items():
        tmp = tmp_path_factory.mktemp(name)
        started[name] = (pool.submit(run, name, tmp, **kw), tmp)
    tmp = tmp_path_factory.mktemp("db-pool-leak")
    started["db-pool-leak"] = (pool.submit(db_run, tmp), tmp)
    yield started
    pool.shutdown(wait=True, cancel_futures=True)


def paired(runs, name: str) -> dict:
    return runs[name][0].result(timeout=900)


def test_single_upstream(runs):
    v = paired(runs, "single-upstream")
    hang, down = v["hang"], v["down"]
    assert hang["client"]["status"].get("504", 0) >= 20
    assert down["client"]["status"].get("502", 0) >= 20
    for s in (hang, down):
        assert s["replicas"]["a"]["ejection_episodes"] == 0
        assert s["gateway"]["no_live_upstreams"] == 0


def test_unbuffered_chan(runs):
    v = paired(runs, "unbuffered-chan")
    a = v["buggy"]["replicas"]["a"]
    assert a["goroutine_growth"] >= 50
    assert "unbufferedchan/buggy.go" in a["top_stack"]["own_frame"]
    assert v["buggy"]["client"]["errors_5xx"] == 0 and a["ejection_episodes"] == 0
    assert v["fixed"]["replicas"]["a"]["stacks_grown"] == 0


def test_orphan_subscriber(runs):
    v = paired(runs, "orphan-subscriber")
    a = v["buggy"]["replicas"]["a"]
    assert a["goroutine_growth"] >= 50
    assert "orphansubscriber/sdk/sdk.go" in a["top_stack"]["own_frame"]
    assert v["buggy"]["client"]["errors_5xx"] == 0 and a["ejection_episodes"] == 0
    assert v["fixed"]["replicas"]["a"]["stacks_grown"] == 0


def test_unread_request_body_does_not_leak_but_resets(runs):
    v = paired(runs, "unread-request-body")
    for name in ("buggy-300k", "fixed"):
        a = v[name]["replicas"]["a"]
        assert a["stacks_grown"] == 0, (name, a["stacks"])
        assert a["goroutine_slope"] < 1
        assert v[name]["client"]["requests"] >= 50
    assert v["buggy-300k"]["gateway"]["error_log"].get("reset", 0) >= 1
    assert v["fixed"]["gateway"]["error_log"].get("reset", 0) == 0
    assert v["fixed"]["client"]["errors_5xx"] == 0


def test_fd_exhaustion_says_why_the_curve_went_flat(runs):
    v = paired(runs, "fd-exhaustion")
    a = v["buggy"]["replicas"]["a"]
    assert a["accept_errors"] >= 1 and a["first_accept_error_s"] is not None
    assert v["buggy"]["client"]["status"].get("504", 0) >= 20
    assert v["fixed"]["replicas"]["a"]["accept_errors"] == 0
    assert v["fixed"]["client"]["errors_5xx"] == 0
    html = (run_dir_of(runs["fd-exhaustion"][1] / "reports") / "report.html").read_text()
    assert "could not accept new connections" in html and "stuck, not healthy" in html


def test_status_not_counted(runs):
    v = paired(runs, "status-not-counted")
    assert v["get-500-default"]["client"]["status"].get("500", 0) >= 10
    assert v["get-500-default"]["replicas"]["a"]["ejection_episodes"] == 0
    assert v["get-500-default"]["bypass"]["figure"] >= 0.9
    assert v["get-503-listed"]["client"]["errors_5xx"] == 0
    assert v["get-503-listed"]["replicas"]["a"]["ejection_episodes"] >= 1


def test_timeout_mismatch(runs):
    v = paired(runs, "timeout-mismatch")
    assert v["timeout-handler"]["client"]["status"].get("503", 0) >= 5
    assert v["timeout-handler"]["replicas"]["a"]["ejection_episodes"] == 0
    assert v["deadline"]["client"]["errors_5xx"] == 0
    assert v["deadline"]["replicas"]["a"]["ejection_episodes"] >= 1


def test_defer_goroutine_panic_flaps_and_is_restarted(runs):
    v = paired(runs, "defer-goroutine-panic")
    assert v["buggy"]["replicas"]["a"]["deaths"] >= 1
    assert all(d["process"] == "replica-a" and d["exit"] == 2 for d in v["buggy"]["deaths"])
    assert v["fixed"]["replicas"]["a"]["deaths"] == 0
    assert v["fixed"]["client"]["status"].get("502", 0) >= 1


def test_ctx_not_propagated(runs):
    v = paired(runs, "ctx-not-propagated")
    a = v["buggy"]["replicas"]["a"]
    assert "ctxnotpropagated/buggy.go" in a["top_stack"]["own_frame"]
    assert a["top_stack"]["growth"] >= 5
    fixed = v["fixed"]
    assert fixed["replicas"]["a"]["stacks_grown"] == 0
    assert fixed["client"]["status"].get("504", 0) >= 5
    assert fixed["client"]["slow"] == 0


def test_gateway_headers(runs):
    v = paired(runs, "gateway-headers")
    buggy, passed, fixed = v["buggy"]["client"], v["buggy-host-passed"]["client"], v["fixed"]["client"]
    # nginx's default Host (the upstream's name) fails the host check; its proxy_redirect hides the http:// redirect
    assert buggy["endpoint"]["api-item"]["rejected_rate"] == 1
    assert buggy["wrong_redirects"] == 0 and v["buggy"]["gateway"]["rewritten_redirects"] >= 10
    # with the client's Host passed, every redirect says http://
    assert passed["rejected"] == 0 and passed["redirects"] >= 10 and passed["wrong_redirect_rate"] == 1
    assert passed["redirect_targets"] == {"http://api.example.test": passed["redirects"]}
    # fixed: the gateway's X-Forwarded-* believed, the spoofing client's overwritten by nginx
    assert fixed["rejected"] == 0 and fixed["redirects"] >= 10 and fixed["wrong_redirects"] == 0
    assert fixed["endpoint"]["login-spoofed"]["redirects"] >= 3
    assert all(s["client"]["errors_5xx"] == 0 and s["gateway"]["ejection_episodes"] == 0 for s in v.values())


def db_run(tmp_path) -> tuple[Path, dict]:
    """db-pool-leak's run, and who listened on what while its load ran."""
    reports = tmp_path / "reports"
    proc = start(shortened("db-pool-leak", tmp_path, seconds=16), reports)
    try:
        run_dir, running = wait_for(reports, proc, "load running")
        postgres = running[0]["pids"]["postgres"]
        seen = listeners(group_members({postgres}) | {postgres})
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    return run_dir, seen


def test_db_pool_leak(runs):
    """Unclosed rows hold the whole pool; PostgreSQL listens on 127.0.0.1 only, and its throw-away cluster goes."""
    run_dir, seen = paired(runs, "db-pool-leak")
    stack = json.loads((run_dir / "variants" / "buggy" / "stack.json").read_text())
    assert seen and all(a == stack["database"]["addr"] for addrs in seen.values() for a in addrs), (seen, stack["database"])
    v = json.loads((run_dir / "summary.json").read_text())["variants"]
    a = v["buggy"]["replicas"]["a"]
    assert a["db_in_use_after"] == a["db_max_open"] == 10  # every connection held by forgotten rows
    assert a["db_wait_count"] >= 1 and a["db_wait_s"] == 0  # waits that never end add no duration
    assert "dbpoolleak/buggy.go" in a["top_stack"]["own_frame"] and "DB).conn" in a["top_stack"]["blocking_call"]
    assert v["buggy"]["client"]["slow"] >= 2
    f = v["fixed"]["replicas"]["a"]
    assert f["db_in_use_after"] == 0 and f["db_wait_count"] == 0 and f["stacks_grown"] == 0
    assert v["fixed"]["client"]["slow"] == 0 and v["fixed"]["client"]["errors_5xx"] == 0
    for name in ("buggy", "fixed"):
        folder = json.loads((run_dir / "variants" / name / "stack.json").read_text())["database"]["folder"]
        assert not Path(folder).exists(), f"{name}: the cluster folder {folder} was left behind"


def test_noisy_neighbour(runs):
    v = paired(runs, "noisy-neighbour")
    buggy, fixed = v["buggy"]["client"]["endpoint"], v["fixed"]["client"]["endpoint"]
    # decisive: the main API queues for the shared pool (full runs: 30-85 waiters vs 0); the latency
    # that follows is only ordered here (a short run with other stacks alongside measured 417 vs 209 ms)
    assert v["buggy"]["replicas"]["a"]["pool_waiters_peak"] >= 5
    assert v["fixed"]["replicas"]["a"]["pool_waiters_peak"] <= 2
    assert buggy["api-item"]["p99_ms"] > fixed["api-item"]["p99_ms"]
    assert fixed["api-item"]["errors_5xx"] == 0
    assert fixed["api-report"]["errors_5xx"] >= 1
