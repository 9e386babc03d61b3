"""End to end: real nginx, Toxiproxy, Go replicas and Locust, a short run, assertions on the analysed numbers."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from harness.host.sockets import alive, group_members, listeners
from tests.runs import ROOT, SCENARIOS, journal, start, wait_for

SCENARIO = SCENARIOS / "e2e-short.yaml"
pytestmark = pytest.mark.e2e


def wait_for_load(reports, proc, count=1):
    return wait_for(reports, proc, "load running", count)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    proc = start(SCENARIO, reports)
    seen: dict[str, dict[int, list[str]]] = {}
    try:
        for n in (1, 2):
            run_dir, running = wait_for_load(reports, proc, n)
            time.sleep(3)  # well into the load: every component is up and serving
            pids = set(running[-1]["pids"].values())
            seen[running[-1]["variant"]] = listeners(group_members(pids))
        out, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out, run_dir, seen, [j["pids"] for j in journal(run_dir) if j["step"] == "load running"]


def test_run_passes_its_expectations_and_writes_the_report(full_run):
    code, out, run_dir, _, _ = full_run
    assert code == 0, out
    assert (run_dir / "report.html").stat().st_size > 20_000  # the timeline image is embedded
    assert "Report:" in out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] and summary["verdict"] == "pass"


def test_buggy_leaks_and_is_ejected_fixed_stays_flat(full_run):
    run_dir = full_run[2]
    s = json.loads((run_dir / "summary.json").read_text())["variants"]
    buggy, fixed = s["buggy"]["replicas"], s["fixed"]["replicas"]
    assert buggy["a"]["pool_in_use_peak"] == 20
    assert buggy["a"]["pool_waiters_peak"] >= 1
    assert buggy["a"]["goroutines_peak"] > fixed["a"]["goroutines_peak"] + 20
    assert buggy["a"]["failed_by_kind"].get("timeout", 0) >= 3
    assert buggy["a"]["ejection_episodes"] >= 1 and buggy["b"]["ejection_episodes"] == 0
    assert s["buggy"]["gateway"]["retried_requests"] >= 3
    assert fixed["a"]["pool_waiters_peak"] <= 2 and fixed["a"]["ejection_episodes"] == 0  # <= 2: a request dialing
    assert s["fixed"]["client"]["errors_5xx"] == 0
    assert s["fixed"]["client"]["requests"] > 200


def test_the_report_points_at_the_leaking_line(full_run):
    run_dir = full_run[2]
    s = json.loads((run_dir / "summary.json").read_text())["variants"]
    top = s["buggy"]["replicas"]["a"]["top_stack"]
    assert top["blocking_call"] == "net/http.(*Transport).getConn"
    assert top["own_frame"].startswith("goservices/patterns/unclosedbody/buggy.go:")
    assert s["buggy"]["replicas"]["a"]["leak_flagged_s"] is not None
    assert s["fixed"]["replicas"]["a"]["stacks_grown"] == 0
    assert s["fixed"]["replicas"]["a"]["leak_flagged_s"] is None
    assert "Where it leaks" in (run_dir / "report.html").read_text()


def test_episodes_match_the_error_log(full_run):
    run_dir = full_run[2]
    s = json.loads((run_dir / "summary.json").read_text())["variants"]
    fail_timeout = 4
    for variant, v in s.items():
        stack = json.loads((run_dir / "variants" / variant / "stack.json").read_text())
        a_addr = stack["proxies"]["gw-a"]["listen"]
        times = []
        for line in (run_dir / "variants" / variant / "nginx" / "error.log").read_text().splitlines():
            if "temporarily disabled" in line and a_addr in line:
                times.append(time.mktime(time.strptime(line[:19], "%Y/%m/%d %H:%M:%S")))
        # a new episode starts whenever a line comes after the previous down window closed
        episodes, until = 0, None
        for t in sorted(times):
            if until is None or t > until:
                episodes += 1
            until = t + fail_timeout
        assert v["replicas"]["a"]["ejection_episodes"] == episodes


def test_locust_and_access_log_agree(full_run):
    run_dir = full_run[2]
    for variant in ("buggy", "fixed"):
        folder = run_dir / "variants" / variant
        client = [json.loads(x) for x in (folder / "requests.jsonl").read_text().splitlines()]
        logged = [json.loads(x) for x in (folder / "nginx" / "access.log").read_text().splitlines()]
        answered = {r["rid"] for r in client if r["status"] != 0}
        assert answered <= {r["rid"] for r in logged}
        summary = json.loads((run_dir / "summary.json").read_text())["variants"][variant]["crosscheck"]
        assert summary["missing_in_access_log"] == 0
        assert summary["locust_requests"] == len(client)


def test_everything_listened_on_loopback_only(full_run):
    seen = full_run[3]
    assert set(seen) == {"buggy", "fixed"}
    for variant, by_pid in seen.items():
        addrs = [a for lst in by_pid.values() for a in lst]
        assert len(addrs) >= 7, (variant, by_pid)  # toxiproxy api + 4 proxies, dependency, 2x2 replica ports, nginx
        assert all(a.startswith("127.0.0.1:") for a in addrs), (variant, by_pid)


def test_nothing_is_left_running(full_run):
    for pids in full_run[4]:
        assert not [p for p in group_members(set(pids.values())) if alive(p)]


def test_report_rebuilds_from_the_folder(full_run):
    run_dir = full_run[2]
    before = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "report.html").unlink()
    out = subprocess.run([sys.executable, "-m", "harness", "report", str(run_dir)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert (run_dir / "report.html").exists()
    assert json.loads((run_dir / "summary.json").read_text())["variants"] == before["variants"]
