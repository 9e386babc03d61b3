"""Every catalogue scenario, shortened, on the real stack: the buggy build reproduces, the fixed one does not.

unclosed-body has its own, longer test (test_e2e.py). The scenario's own
expectations are sized for its full length; here each scenario runs ~12 s
per variant and the checks are sized for that.
"""

from __future__ import annotations

import json

import pytest
import yaml

from harness.scenario import SCENARIO_DIR
from tests.runs import run_dir_of, shorten, start

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
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0, out
    summary = json.loads((run_dir_of(tmp_path / "reports") / "summary.json").read_text())
    assert summary["complete"]
    return summary["variants"]


def test_single_upstream(tmp_path):
    v = run("single-upstream", tmp_path)
    hang, down = v["hang"], v["down"]
    assert hang["client"]["status"].get("504", 0) >= 20
    assert down["client"]["status"].get("502", 0) >= 20
    for s in (hang, down):
        assert s["replicas"]["a"]["ejection_episodes"] == 0
        assert s["gateway"]["no_live_upstreams"] == 0


def test_unbuffered_chan(tmp_path):
    v = run("unbuffered-chan", tmp_path)
    a = v["buggy"]["replicas"]["a"]
    assert a["goroutine_growth"] >= 50
    assert "unbufferedchan/buggy.go" in a["top_stack"]["own_frame"]
    assert v["buggy"]["client"]["errors_5xx"] == 0 and a["ejection_episodes"] == 0
    assert v["fixed"]["replicas"]["a"]["stacks_grown"] == 0


def test_orphan_subscriber(tmp_path):
    v = run("orphan-subscriber", tmp_path)
    a = v["buggy"]["replicas"]["a"]
    assert a["goroutine_growth"] >= 50
    assert "orphansubscriber/sdk/sdk.go" in a["top_stack"]["own_frame"]
    assert v["buggy"]["client"]["errors_5xx"] == 0 and a["ejection_episodes"] == 0
    assert v["fixed"]["replicas"]["a"]["stacks_grown"] == 0


def test_unread_request_body_does_not_leak_but_resets(tmp_path):
    v = run("unread-request-body", tmp_path, variants=["buggy-300k", "fixed"])
    for name in ("buggy-300k", "fixed"):
        a = v[name]["replicas"]["a"]
        assert a["stacks_grown"] == 0, (name, a["stacks"])
        assert a["goroutine_slope"] < 1
        assert v[name]["client"]["requests"] >= 50
    assert v["buggy-300k"]["gateway"]["error_log"].get("reset", 0) >= 1
    assert v["fixed"]["gateway"]["error_log"].get("reset", 0) == 0
    assert v["fixed"]["client"]["errors_5xx"] == 0


def test_fd_exhaustion_says_why_the_curve_went_flat(tmp_path):
    v = run("fd-exhaustion", tmp_path, seconds=14)
    a = v["buggy"]["replicas"]["a"]
    assert a["accept_errors"] >= 1 and a["first_accept_error_s"] is not None
    assert v["buggy"]["client"]["status"].get("504", 0) >= 20
    assert v["fixed"]["replicas"]["a"]["accept_errors"] == 0
    assert v["fixed"]["client"]["errors_5xx"] == 0
    html = (run_dir_of(tmp_path / "reports") / "report.html").read_text()
    assert "could not accept new connections" in html and "stuck, not healthy" in html


def test_status_not_counted(tmp_path):
    v = run("status-not-counted", tmp_path, variants=["get-500-default", "get-503-listed"])
    assert v["get-500-default"]["client"]["status"].get("500", 0) >= 10
    assert v["get-500-default"]["replicas"]["a"]["ejection_episodes"] == 0
    assert v["get-500-default"]["bypass"]["figure"] >= 0.9
    assert v["get-503-listed"]["client"]["errors_5xx"] == 0
    assert v["get-503-listed"]["replicas"]["a"]["ejection_episodes"] >= 1


def test_timeout_mismatch(tmp_path):
    v = run("timeout-mismatch", tmp_path, seconds=16, variants=["timeout-handler", "deadline"])
    assert v["timeout-handler"]["client"]["status"].get("503", 0) >= 5
    assert v["timeout-handler"]["replicas"]["a"]["ejection_episodes"] == 0
    assert v["deadline"]["client"]["errors_5xx"] == 0
    assert v["deadline"]["replicas"]["a"]["ejection_episodes"] >= 1


def test_defer_goroutine_panic_flaps_and_is_restarted(tmp_path):
    v = run("defer-goroutine-panic", tmp_path)
    assert v["buggy"]["replicas"]["a"]["deaths"] >= 1
    assert all(d["process"] == "replica-a" and d["exit"] == 2 for d in v["buggy"]["deaths"])
    assert v["fixed"]["replicas"]["a"]["deaths"] == 0
    assert v["fixed"]["client"]["status"].get("502", 0) >= 1


def test_ctx_not_propagated(tmp_path):
    v = run("ctx-not-propagated", tmp_path, seconds=14)
    a = v["buggy"]["replicas"]["a"]
    assert "ctxnotpropagated/buggy.go" in a["top_stack"]["own_frame"]
    assert a["top_stack"]["growth"] >= 5
    fixed = v["fixed"]
    assert fixed["replicas"]["a"]["stacks_grown"] == 0
    assert fixed["client"]["status"].get("504", 0) >= 5
    assert fixed["client"]["slow"] == 0


def test_noisy_neighbour(tmp_path):
    v = run("noisy-neighbour", tmp_path, seconds=14)
    buggy, fixed = v["buggy"]["client"]["endpoint"], v["fixed"]["client"]["endpoint"]
    assert buggy["api-item"]["p99_ms"] > 2 * fixed["api-item"]["p99_ms"]
    assert fixed["api-item"]["errors_5xx"] == 0
    assert fixed["api-report"]["errors_5xx"] >= 1


def test_gateway_headers(tmp_path):
    v = run("gateway-headers", tmp_path)
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


def test_db_pool_leak(tmp_path):
    """Unclosed rows hold the whole pool; PostgreSQL listens on 127.0.0.1 only, and its throw-away cluster goes."""
    from pathlib import Path

    from harness.host.sockets import group_members, listeners
    from tests.runs import wait_for

    reports = tmp_path / "reports"
    proc = start(shortened("db-pool-leak", tmp_path, seconds=16), reports)
    try:
        run_dir, running = wait_for(reports, proc, "load running")
        postgres = running[0]["pids"]["postgres"]
        seen = listeners(group_members({postgres}) | {postgres})
        out, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
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
