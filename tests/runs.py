"""Driving `gatewaylab run` as a user does: a subprocess, watched through its run folder."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "scenarios"


def _as_from_a_terminal() -> None:
    # A shell that starts the test run in the background leaves SIGINT ignored, and Python
    # keeps an ignored SIGINT ignored: the harness would never see the Ctrl-C a test sends.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(scenario: str | Path, reports: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness", "run", str(scenario), "--reports", str(reports), *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_as_from_a_terminal)


def journal(run_dir: Path) -> list[dict]:
    path = run_dir / "journal.jsonl"
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def run_dir_of(reports: Path) -> Path | None:
    runs = sorted((reports / "runs").glob("*")) if (reports / "runs").exists() else []
    return runs[0] if runs else None


def wait_for(reports: Path, proc: subprocess.Popen, step: str, count: int = 1, timeout: float = 120) -> tuple[Path, list[dict]]:
    """The run folder and the journal entries named `step`, once `count` of them are there."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        run_dir = run_dir_of(reports)
        if run_dir:
            hits = [j for j in journal(run_dir) if j["step"] == step]
            if len(hits) >= count:
                return run_dir, hits
        assert proc.poll() is None, f"exited {proc.returncode} before '{step}':\n{proc.stdout.read()}"
        time.sleep(0.1)
    raise AssertionError(f"no '{step}' within {timeout} s")


def registered_pids(reports: Path) -> set[int]:
    """PIDs in the leftovers registry of the live run(s)."""
    pids = set()
    for f in (reports / ".live").glob("*.json") if (reports / ".live").exists() else []:
        try:
            pids |= {c["pid"] for c in json.loads(f.read_text())["children"].values()}
        except (OSError, ValueError):
            pass
    return pids


def shorten(data: dict, seconds: float) -> dict:
    """A scenario's data scaled to `seconds` of load: phases scaled, the warm-up still skipped in slopes."""
    scale = seconds / data["load"]["duration_s"]
    data["load"]["duration_s"] = seconds
    for p in data["phases"]:
        # start up, duration down: scaled phases never overlap nor outlast the load
        p["start_s"] = math.ceil(p["start_s"] * scale * 100) / 100
        p["duration_s"] = math.floor(p["duration_s"] * scale * 100) / 100
    data.setdefault("analysis", {})["steady_after_s"] = data["phases"][0]["duration_s"]
    # Like the scenario's own thresholds, the default leak checks' limits are calibrated for the
    # full length (scenarios/calibration/); a shortened run keeps only what its test asserts.
    data["leak_checks"] = {"enabled": False}
    return data
