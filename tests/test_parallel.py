"""`gatewaylab catalogue --jobs N`: scenarios side by side, each a run with its own stack; the same table."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from harness.host.sockets import alive
from tests import runs


def _copies(tmp_path, n: int) -> list[str]:
    """n 10-second scenarios (tiny.yaml under other names)."""
    text = (runs.SCENARIOS / "tiny.yaml").read_text()
    paths = []
    for i in range(n):
        p = tmp_path / f"tiny-{i}.yaml"
        p.write_text(text.replace("name: tiny", f"name: tiny-{i}"))
        paths.append(str(p))
    return paths


def catalogue(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "catalogue", *args], cwd=runs.ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.e2e
def test_three_scenarios_side_by_side_give_one_table_in_less_time_than_one_after_another(tmp_path):
    names = _copies(tmp_path, 3)
    started = time.monotonic()
    done = catalogue(*names, "--jobs", "3", "--reports", str(tmp_path / "reports"))
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    folder = next((tmp_path / "reports" / "catalogue").iterdir())
    rows = json.loads((folder / "catalogue.json").read_text())
    assert sorted((r["scenario"], r["variant"], r["verdict"]) for r in rows) == [(f"tiny-{i}", "buggy", "pass") for i in range(3)]
    timing = json.loads((folder / "timing.json").read_text())
    assert set(timing) == {"tiny-0", "tiny-1", "tiny-2"} and all(t["exit"] == 0 for t in timing.values())
    assert took < sum(t["seconds"] for t in timing.values())  # they overlapped
    runs_made = sorted((tmp_path / "reports" / "runs").iterdir())
    assert len(runs_made) == 3 and len({r.name for r in runs_made}) == 3
    for run_dir in runs_made:  # every stack torn down
        pids = [p for j in runs.journal(run_dir) for p in (j.get("pids") or {}).values() if isinstance(p, int)]
        assert pids and not any(alive(p) for p in pids)


@pytest.mark.parametrize("args, says", [
    (("--jobs", "0"), "--jobs 0: give a whole number from 1 to 16, or auto"),
    (("--jobs", "many"), "--jobs many: give a whole number from 1 to 16, or auto"),
    (("--jobs", "2", "--from", "x"), "with --from (or the --gateway matrix) there is nothing to run"),
])
def test_bad_jobs_are_refused_before_anything_runs(tmp_path, args, says):
    done = catalogue(*args, "--reports", str(tmp_path))
    assert done.returncode == 2 and says in done.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.e2e
def test_regress_side_by_side_joins_each_scenarios_checks_in_order(tmp_path):
    names = _copies(tmp_path, 2)
    done = subprocess.run([sys.executable, "-m", "harness", "regress", *names, "--trials", "1", "--jobs", "2",
                           "--reports", str(tmp_path / "reports"), "--junit", str(tmp_path / "j.xml")],
                          cwd=runs.ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (folder,) = (tmp_path / "reports" / "regress").iterdir()
    cases = json.loads((folder / "regress.json").read_text())["cases"]
    assert [c["suite"] for c in cases] == ["tiny-0"] * 8 + ["tiny-1"] * 8 and all(c["outcome"] == "pass" for c in cases)
    assert json.loads((folder / "shard.json").read_text())["units"] == ["tiny-0", "tiny-1"]
    assert (tmp_path / "j.xml").exists() and "16 checks, 0 failed" in done.stdout
    for name in ("tiny-0", "tiny-1"):  # each child's comparison kept in its own folder
        assert len(list((folder / "units" / name / "compare").iterdir())) == 1


def test_a_group_starts_together_once_there_is_room_for_all_of_it(tmp_path):
    """compare --jobs: trial-i of both builds starts at once, never one beside the previous pair's tail."""
    from harness.cli import parallel

    said: list[str] = []
    units = [parallel.Unit("solo", ["list"], 3.0), parallel.Unit("p1", ["list"], 2.0, group="p"),
             parallel.Unit("p2", ["list"], 2.0, group="p"), parallel.Unit("last", ["list"], 1.0)]
    parallel.run_all(units, 2, tmp_path / "logs", say=said.append)
    starts = [m.split()[1] for m in said if m.endswith("running)")]
    assert starts[0] == "solo" and starts.index("p2") == starts.index("p1") + 1, said
    solo_done = next(i for i, m in enumerate(said) if m.startswith("gatewaylab: solo done"))
    p1_started = next(i for i, m in enumerate(said) if m.startswith("gatewaylab: p1 started"))
    assert solo_done < p1_started, said  # one slot free beside solo was not room for the pair
    by = {u.name: u for u in units}
    assert abs(by["p1"].started - by["p2"].started) < 0.5 and all(u.code == 0 for u in units)
