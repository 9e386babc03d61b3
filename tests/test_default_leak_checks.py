"""A user's own service is judged even when its scenario states no expectations.

The default leak checks (scenario `leak_checks`) apply to every variant whose
`leak` is `none`: tests/userservice's leaky build leaves its handlers blocked
after the load and must FAIL naming its growing stack; the tidy build passes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
USER = ROOT / "tests" / "userservice"


def run(service: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    data = yaml.safe_load((USER / "scenario.yaml").read_text())  # its full 25 s: the trend needs the samples
    assert not any(v.get("expect") for v in data["variants"].values())  # the point: no expectations at all
    scenario = tmp_path / "inventory.yaml"
    scenario.write_text(yaml.safe_dump(data))
    reports = tmp_path / service
    got = subprocess.run([sys.executable, "-m", "harness", "run", str(scenario), "--service", str(USER / f"{service}.yaml"),
                          "--reports", str(reports)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    (run_dir,) = sorted((reports / "runs").glob("*"))
    return got, json.loads((run_dir / "summary.json").read_text())["variants"]["own"]


def test_leaky_service_without_expectations_fails_naming_its_stack(tmp_path):
    got, v = run("leaky", tmp_path)
    assert got.returncode == 1, got.stdout + got.stderr
    failed = {e["metric"]: e for e in v["expectations"] if not e["holds"]}
    assert "replicas.a.stacks_grown" in failed, v["expectations"]
    assert all("default leak check" in e["why"] for e in v["expectations"] if not e["metric"].startswith("sampling."))
    top = v["replicas"]["a"]["top_stack"]
    assert "userservice/main.go" in top["own_frame"] and "getConn" in top["blocking_call"], top
    assert "userservice/main.go" in got.stdout  # the printed summary names the line
    assert "Default leak checks" in got.stdout   # and states the thresholds


def test_tidy_service_without_expectations_passes(tmp_path):
    got, v = run("tidy", tmp_path)
    assert got.returncode == 0, got.stdout + got.stderr
    metrics = {e["metric"] for e in v["expectations"]}
    # judged on both replicas, on what stays after the load and the trend; no pprof-less shortcut
    assert {f"replicas.{r}.{m}" for r in "ab" for m in ("goroutines_left", "fds_left", "stacks_grown", "goroutine_trend")} <= metrics
    assert all(e["holds"] for e in v["expectations"]), v["expectations"]
