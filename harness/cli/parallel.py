"""Units of a suite side by side (`--jobs N`): each a `gatewaylab` child process (a run, a regress of one
scenario) with its own stacks.

Every child picks its own free ports and writes its own run folder, so runs do not meet; they
share the cores, which is the contention the calibrations were measured under (other runs
alongside); docker-backend units can be held to fewer at once (their CPU and memory limits are
what they measure). The heaviest units start first. Ctrl-C or SIGTERM stops every
child with SIGTERM, so each tears its stack down as a run does; a child dies with us (its
parent-death signal), and its stack with it.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import ScenarioError
from harness.host.procs import Proc
from harness.host.tools import ROOT

STOP_GRACE_S = 60.0  # a run's own teardown: toxics cleared, processes and containers stopped
_REPORT = re.compile(r"^Report: (.+)$", re.M)


@dataclass
class Unit:
    name: str
    argv: list[str]           # after `gatewaylab`, e.g. ["run", NAME, "--variant", "buggy", ...]
    cost_s: float
    docker: bool = False
    group: str | None = None  # units of one group start together, once there is room for all of them
    code: int | None = None
    run_dir: Path | None = None
    took_s: float | None = None
    started: float = field(default=0.0, repr=False)


MAX_JOBS = 16


def checked_jobs(n: int) -> int:
    """--jobs of compare and regress: a whole number from 1 to MAX_JOBS (ScenarioError otherwise)."""
    if not 1 <= n <= MAX_JOBS:
        raise ScenarioError(f"--jobs {n}: give a whole number from 1 to {MAX_JOBS}.")
    return n


def default_jobs() -> int:
    """Two runs per core and one more: a run waits on its load most of the time. Measured on 2 cores
    (5 at once): the 58 default variants in 9 min 37 s, every one passing, load average about 1.5."""
    return min(MAX_JOBS, 2 * (os.cpu_count() or 1) + 1)


def _run_dir(log: Path) -> Path | None:
    found = _REPORT.findall(log.read_text(errors="replace")) if log.exists() else []
    return Path(found[-1].strip()).parent if found else None


def run_all(units: list[Unit], jobs: int, logs: Path, say=print, docker_at_once: int | None = None) -> list[Unit]:
    """Run every unit, at most `jobs` at once (and `docker_at_once` docker units); each unit's code, run folder, seconds."""
    logs.mkdir(parents=True, exist_ok=True)
    old = signal.signal(signal.SIGTERM, _interrupt)
    waiting = sorted(units, key=lambda u: (-u.cost_s, u.name))
    running: dict[str, tuple[Unit, Proc]] = {}
    try:
        while waiting or running:
            for name, (unit, proc) in list(running.items()):
                if not proc.alive():
                    unit.code, unit.took_s = proc.returncode, round(time.monotonic() - unit.started, 1)
                    unit.run_dir = _run_dir(proc.log)
                    del running[name]
                    say(f"gatewaylab: {name} done: exit {unit.code} in {unit.took_s:.0f} s ({len(waiting)} waiting)")
            docker_running = sum(u.docker for u, _ in running.values())
            for unit in list(waiting):
                if unit not in waiting:  # started with its group
                    continue
                batch = [u for u in waiting if u.group is not None and u.group == unit.group] or [unit]
                if len(running) >= jobs or (running and len(running) + len(batch) > jobs):
                    break
                if unit.docker and docker_running >= (docker_at_once or jobs):
                    continue
                for u in batch:
                    waiting.remove(u)
                    u.started = time.monotonic()
                    argv = [sys.executable, "-m", "harness", *u.argv]
                    running[u.name] = (u, Proc(f"run-{u.name}", argv, logs / f"{u.name}.log", cwd=ROOT))
                    docker_running += u.docker
                    say(f"gatewaylab: {u.name} started ({len(running)} running)")
            time.sleep(0.5)
    except BaseException:
        for unit, proc in running.values():
            proc.stop(STOP_GRACE_S)
            unit.code, unit.run_dir = 130, _run_dir(proc.log)
        raise
    finally:
        signal.signal(signal.SIGTERM, old)
    return units


def _interrupt(signum, frame):
    raise KeyboardInterrupt("SIGTERM")
