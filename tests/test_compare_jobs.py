"""`compare --jobs`: a trial rebuilt from the comparison folder alone, and bad input refused before anything starts.
The side-by-side comparison itself runs in test_compare.py (the user-service leak, four trials at once)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness import scenario as scenarios
from harness.compare import trials
from harness.compare.builds import Build
from harness.host import tools as tools_mod

ROOT = Path(__file__).resolve().parent.parent


def gatewaylab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_each_trial_is_rebuilt_from_the_folder_as_prepared(tmp_path):
    found = tools_mod.find()
    s = scenarios.load("unclosed-body")
    folder = tmp_path / "compare" / "x"
    folder.mkdir(parents=True)
    steps, per_trial = trials.prepare(s, Build("baseline", "buggy", found), Build("candidate", "fixed", found), 3,
                                      folder, {}, jobs=2)
    assert per_trial > s.load.duration_s
    assert [(st.run_dir.name, st.variant) for st in steps] == [
        (r, f"trial-{i}") for i in (1, 2, 3) for r in ("baseline", "candidate")]
    for st in steps:
        again = trials.step(folder, st.run_dir.name, int(st.variant.removeprefix("trial-")), found)
        assert again == st
    assert trials.step(folder, "candidate", 2, found).scenario.resolve("trial-2").variants["trial-2"].build == "fixed"


def test_a_trial_outside_the_folder_is_refused(tmp_path):
    got = gatewaylab("trial", str(tmp_path), "baseline", "1")
    assert got.returncode == 2 and "no compare.json" in got.stderr, got.stderr
    found = tools_mod.find()
    folder = tmp_path / "compare" / "x"
    folder.mkdir(parents=True)
    s = scenarios.load("unclosed-body")
    trials.prepare(s, Build("baseline", "buggy", found), Build("candidate", "fixed", found), 2, folder, {})
    got = gatewaylab("trial", str(folder), "candidate", "3")
    assert got.returncode == 2 and "trials 1 to 2" in got.stderr, got.stderr
    assert not (folder / "candidate" / "trial-3").exists()


def test_jobs_out_of_range_is_refused_before_anything_starts(tmp_path):
    got = gatewaylab("compare", "unclosed-body", "--baseline", "buggy", "--candidate", "fixed", "--jobs", "0",
                     "--reports", str(tmp_path))
    assert got.returncode == 2 and "--jobs 0" in got.stderr, got.stderr
    assert not (tmp_path / "compare").exists()
