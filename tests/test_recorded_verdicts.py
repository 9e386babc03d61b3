"""Verdicts on a recorded run folder (tests/fixtures/runs/unclosed-body-fixed-step), in seconds.

The folder is a real run of unclosed-body's fixed build (requests and access log
thinned to one in six, both alike): its goroutines step from 11 to 32 when the
inject phase adds dependency latency and back when it lifts, and the
least-squares slope through that step was 0.047/s, past the 0.03 that used to
fail it. Judged by today's scenario file, as `gatewaylab calibrate` does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from harness.compare import calibration
from harness import scenario as scenarios
from harness.analysis.summary import load_variant, variant_summary

FIXTURE = Path(__file__).parent / "fixtures" / "runs" / "unclosed-body-fixed-step"


def judged(folder: Path, s=None) -> dict:
    s = s or scenarios.load("unclosed-body")
    return variant_summary(load_variant(folder, "fixed", s), s)


def test_a_fixed_build_stepping_with_the_fault_is_not_judged_a_leak():
    v = judged(FIXTURE)
    a = v["replicas"]["a"]
    assert a["goroutines_peak"] - a["goroutines_start"] >= 15  # the step is there
    assert a["goroutine_slope"] > 0.03                          # and tilts a least-squares line past the old threshold
    assert a["goroutine_trend"] <= 0.05 and a["goroutines_left"] <= 20 and a["stacks_grown"] == 0
    checks = [e for e in v["expectations"] if "default leak check" in e["why"]]
    assert len(checks) >= 4 and all(e["holds"] for e in checks), checks
    assert v["verdict"] == "pass", [e for e in v["expectations"] if not e["holds"]]


def test_the_same_run_without_its_samples_fails_as_no_data(tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(FIXTURE, folder)
    (folder / "variants" / "fixed" / "samples.jsonl").unlink()
    v = judged(folder)
    assert v["verdict"] == "fail"
    missing = {e["metric"]: e["no_data"] for e in v["expectations"] if e.get("no_data")}
    assert "replicas.a.goroutines_left" in missing and "replicas.a.pool_waiters_peak" in missing
    assert "no /metrics sample" in missing["replicas.a.goroutines_left"], missing


def test_calibration_reads_the_folder_and_refuses_one_of_another_setup(tmp_path):
    s = scenarios.load("unclosed-body")
    got, skipped = calibration.collect(s, [FIXTURE], ["fixed"])
    assert len(got["fixed"]) == 1 and not skipped
    res = calibration.result(s, got, skipped)
    rows = {r["metric"]: r for r in res["expectations"]}
    assert rows["replicas.a.goroutines_left"]["passes"] == 1 and rows["replicas.a.goroutines_left"]["runs"] == 1
    assert res["ok"]
    data = yaml.safe_load((scenarios.SCENARIO_DIR / "unclosed-body.yaml").read_text())
    data["load"]["rate"] = 60  # a threshold is never set from runs of another set-up
    other = scenarios.parse(yaml.safe_dump(data), "other.yaml")
    got, skipped = calibration.collect(other, [FIXTURE], ["fixed"])
    assert got["fixed"] == [] and "load.rate: recorded 70.0, now 60" in skipped[0]


def test_calibrate_from_a_folder_prints_the_table_and_writes_its_page(tmp_path):
    import json
    import subprocess
    import sys

    got = subprocess.run([sys.executable, "-m", "harness", "calibrate", "unclosed-body", "--variant", "fixed",
                          "--from", str(FIXTURE), "--reports", str(tmp_path)],
                         cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stdout + got.stderr
    assert "replicas.a.goroutines_left <= " in got.stdout and "1/1" in got.stdout
    (folder,) = (tmp_path / "calibration").iterdir()
    res = json.loads((folder / "calibration.json").read_text())
    assert res["runs"] == {"fixed": [FIXTURE.name]} and res["ok"]
    assert "goroutines_left" in (folder / "index.html").read_text()
    # a variant with no run is said, and is not "ok"
    got = subprocess.run([sys.executable, "-m", "harness", "calibrate", "unclosed-body", "--variant", "fixed,buggy",
                          "--from", str(FIXTURE), "--reports", str(tmp_path)],
                         cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120)
    assert got.returncode == 1 and "variant buggy: no complete run to judge" in got.stdout
