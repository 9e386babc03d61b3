"""Leftovers of a run whose harness died are stopped by PID and start time, never by name."""

import json
import subprocess

from harness.stack import leftovers
from harness.host.sockets import alive


def orphan(tmp_path, owner_pid=999_999_999, start_shift=0):
    """A real process in its own group, recorded as a child of a dead harness."""
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    live = tmp_path / ".live"
    live.mkdir(exist_ok=True)
    entry = {"name": "nginx", "pid": proc.pid, "start": leftovers.started(proc.pid) + start_shift}
    (live / "old-run.json").write_text(json.dumps({"run": "old-run", "owner": {"pid": owner_pid, "start": 1},
                                                   "children": {f"nginx:{proc.pid}": entry}}))
    return proc


def test_a_dead_runs_children_are_stopped(tmp_path):
    proc = orphan(tmp_path)
    done = leftovers.sweep(tmp_path)
    proc.wait(5)
    assert done == [f"stopped nginx (pid {proc.pid}) left by run old-run"]
    assert not (tmp_path / ".live" / "old-run.json").exists()


def test_a_reused_pid_is_not_touched(tmp_path):
    proc = orphan(tmp_path, start_shift=1)  # same PID, another start time: not the process we started
    try:
        assert leftovers.sweep(tmp_path) == []
        assert alive(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def test_a_live_runs_children_are_left_alone(tmp_path):
    import os

    proc = orphan(tmp_path)
    data = json.loads((tmp_path / ".live" / "old-run.json").read_text())
    data["owner"] = {"pid": os.getpid(), "start": leftovers.started(os.getpid())}
    (tmp_path / ".live" / "old-run.json").write_text(json.dumps(data))
    try:
        assert leftovers.sweep(tmp_path) == []
        assert alive(proc.pid)
        assert (tmp_path / ".live" / "old-run.json").exists()
    finally:
        proc.kill()
        proc.wait()


def test_registry_lifecycle(tmp_path):
    r = leftovers.Registry(tmp_path, "run-1")
    r.add("toxiproxy", 1)
    assert "toxiproxy:1" in json.loads(r.path.read_text())["children"]
    r.remove("toxiproxy", 1)
    assert json.loads(r.path.read_text())["children"] == {}
    r.close()
    assert not r.path.exists()
