"""The harness under interruption: signals, SIGKILL, components dying, runs side by side.

Each test drives real short runs (tests/scenarios/tiny.yaml, 10 s of load).
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import yaml

from harness.host.sockets import alive, group_members
from tests.runs import SCENARIOS, journal, registered_pids, run_dir_of, start, wait_for

pytestmark = pytest.mark.e2e
TINY = SCENARIOS / "tiny.yaml"


def gone_within(pids: set[int], seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not [p for p in group_members(pids) if alive(p)]:
            return True
        time.sleep(0.1)
    return False


def finish(proc, timeout=90) -> str:
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_everything_and_keeps_the_data(tmp_path, sig):
    proc = start(TINY, tmp_path)
    run_dir, running = wait_for(tmp_path, proc, "load running")
    time.sleep(3)
    proc.send_signal(sig)
    out = finish(proc)
    assert proc.returncode == 130, out
    assert gone_within(set(running[0]["pids"].values()), 2)
    assert "Traceback" not in out
    steps = journal(run_dir)
    assert steps[-1]["step"] == "run stopped" and steps[-1]["outcome"] == "interrupted"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"] == "incomplete"
    assert summary["variants"]["buggy"]["client"]["requests"] > 20
    assert "INCOMPLETE RUN" in (run_dir / "report.html").read_text()
    assert not list((tmp_path / ".live").glob("*.json"))


@pytest.mark.parametrize("point", ["start nginx", "load running", "run finished"])
def test_sigkill_leaves_nothing_and_the_next_run_starts_cleanly(tmp_path, point):
    proc = start(TINY, tmp_path)
    wait_for(tmp_path, proc, point, timeout=120)
    if point == "load running":
        time.sleep(3)  # inside the inject phase
    pids = registered_pids(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert gone_within(pids, 5), [p for p in group_members(pids) if alive(p)]
    # The next run sweeps the dead run's record and runs normally.
    nxt = tmp_path / "next"
    nxt.mkdir()
    (nxt / ".live").mkdir()
    for f in (tmp_path / ".live").glob("*.json"):
        f.rename(nxt / ".live" / f.name)
    second = start(TINY, nxt)
    out = finish(second)
    assert second.returncode in (0, 1), out
    assert json.loads((run_dir_of(nxt) / "summary.json").read_text())["complete"]
    assert not list((nxt / ".live").glob("*.json"))


@pytest.mark.parametrize("victim", ["nginx", "toxiproxy", "replica-a"])
def test_a_component_dying_is_recorded_and_reported(tmp_path, victim):
    proc = start(TINY, tmp_path)
    run_dir, running = wait_for(tmp_path, proc, "load running")
    time.sleep(2)
    pids = running[0]["pids"]
    os.killpg(pids[victim], signal.SIGKILL)
    out = finish(proc)
    assert proc.returncode == 1, out
    assert "Traceback" not in out
    assert f"{victim} died" in out
    died = [j for j in journal(run_dir) if j["step"] == "component died"]
    assert died and died[0]["process"] == victim and died[0]["exit"] == -9
    assert "INCOMPLETE RUN" in (run_dir / "report.html").read_text()
    assert gone_within(set(pids.values()), 2)


def test_continue_policy_keeps_the_run_going(tmp_path):
    scenario = yaml.safe_load(TINY.read_text())
    scenario["on_component_death"] = "continue"
    path = tmp_path / "tiny-continue.yaml"
    path.write_text(yaml.safe_dump(scenario))
    proc = start(path, tmp_path)
    run_dir, running = wait_for(tmp_path, proc, "load running")
    time.sleep(2)
    os.killpg(running[0]["pids"]["replica-a"], signal.SIGKILL)
    out = finish(proc)
    assert proc.returncode in (0, 1), out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"]
    v = summary["variants"]["buggy"]
    assert [(d["process"], d["exit"]) for d in v["deaths"]] == [("replica-a", -9)]
    assert v["replicas"]["a"]["deaths"] == 1
    # nginx saw the refused connections to a and sent the traffic to b.
    assert v["replicas"]["a"]["failed_by_kind"].get("error", 0) >= 1
    assert "replica-a" in (run_dir / "report.html").read_text()


def test_two_runs_at_once_do_not_collide(tmp_path):
    first, second = start(TINY, tmp_path / "one"), start(TINY, tmp_path / "two")
    out1, out2 = finish(first), finish(second)
    assert first.returncode in (0, 1), out1
    assert second.returncode in (0, 1), out2
    s1 = json.loads((run_dir_of(tmp_path / "one") / "summary.json").read_text())
    s2 = json.loads((run_dir_of(tmp_path / "two") / "summary.json").read_text())
    assert s1["complete"] and s2["complete"]
    ports = [json.loads((run_dir_of(tmp_path / d) / "variants" / "buggy" / "stack.json").read_text())["gateway"]
             for d in ("one", "two")]
    assert ports[0] != ports[1]
    assert s1["variants"]["buggy"]["crosscheck"]["missing_in_access_log"] == 0
    assert s2["variants"]["buggy"]["crosscheck"]["missing_in_access_log"] == 0


def test_the_run_deadline_stops_a_run(tmp_path):
    proc = start(TINY, tmp_path, "--deadline", "6")
    run_dir, running = wait_for(tmp_path, proc, "load running")
    out = finish(proc)
    assert proc.returncode == 1, out
    assert "deadline of 6 s" in out and "Traceback" not in out
    assert gone_within(set(running[0]["pids"].values()), 2)
    assert "INCOMPLETE RUN" in (run_dir / "report.html").read_text()
