"""What the benchmarks share: processes they start (stopped by their group), wrk, medians."""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.host.procs import Proc, free_port, wait_until  # noqa: E402

SECONDS = 8  # each measurement: long enough for a steady rate, short enough to repeat A B A B


def started(name: str, argv: list[str], folder: Path, url: str) -> Proc:
    """A process of the benchmark's own, answering `url` before we go on."""
    proc = Proc(name, argv, folder / f"{name}.log")
    if not wait_until(lambda: _answers(url), 15, proc):
        proc.stop()
        raise SystemExit(f"bench: {name} did not answer {url}; its log: {folder / f'{name}.log'}")
    return proc


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=0.5).status_code < 500
    except requests.RequestException:
        return False


def port() -> int:
    return free_port()


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, connections: int = 20, seconds: int = SECONDS) -> dict:
    """wrk's own figures: requests/s and its latency percentiles (ms)."""
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not rps:
        raise SystemExit(f"bench: wrk printed no rate for {url}:\n{out}")
    pct = {f"p{q}_ms": float(v) * _UNIT[u] for q, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    return {"rps": float(rps[1]), **pct}


def median(values: list[float], digits: int = 1) -> float:
    return round(statistics.median(values), digits)


def now() -> float:
    return time.time()
