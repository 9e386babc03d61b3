"""What watching a replica costs: a fixed replica's top rate under wrk, instrumented and watched vs bare.

On: refsvc as runs start it (pool tracing, per-request metrics, leak-watch every second) while
the harness's sampler scrapes /metrics every second and a goroutine dump is taken every 5 s.
Off: `-instrument=false` (none of those) and nobody scraping. wrk goes straight to the
replica (no gateway), whose dependency answers at once: the replica is the bottleneck.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import requests

from common import ROOT, median, port, started, wrk

ROUNDS = 10  # 5 rounds could not tell 3 % from noise: single rounds ranged 2.6 % to 8.5 %
CONNECTIONS = 20


def _watch(admin: str, stop: threading.Event) -> None:
    """What a run does to a replica: /metrics every second, a full goroutine dump every 5 s."""
    session, n = requests.Session(), 0
    while not stop.wait(1.0):
        session.get(f"http://{admin}/metrics", timeout=2)
        n += 1
        if n % 5 == 0:
            session.get(f"http://{admin}/debug/pprof/goroutine?debug=2", timeout=5)


def _rate(on: bool, dep: str, folder: Path) -> float:
    addr, admin = f"127.0.0.1:{port()}", f"127.0.0.1:{port()}"
    argv = [str(ROOT / "bin" / "refsvc"), "-addr", addr, "-admin-addr", admin, "-dependency", f"http://{dep}",
            "-pattern", "unclosed-body", "-variant", "fixed", "-name", "a"]
    if not on:
        argv += ["-instrument=false", "-leakwatch-interval", "0"]
    replica = started("refsvc-on" if on else "refsvc-off", argv, folder, f"http://{admin}/healthz")
    stop = threading.Event()
    watcher = threading.Thread(target=_watch, args=(admin, stop), daemon=True)
    try:
        if on:
            watcher.start()
        return wrk(f"http://{addr}/api/item", CONNECTIONS)["rps"]
    finally:
        stop.set()
        if on:
            watcher.join(timeout=10)
        replica.stop()


def run() -> dict:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        dep = f"127.0.0.1:{port()}"
        dependency = started("dependency", [str(ROOT / "bin" / "dependency"), "-addr", dep], folder, f"http://{dep}/")
        try:
            rounds = []
            for i in range(ROUNDS):  # off/on, then on/off: a drift of the machine falls on both sides alike
                order = (False, True) if i % 2 == 0 else (True, False)
                got = {on: _rate(on, dep, folder) for on in order}
                rounds.append({"off": got[False], "on": got[True]})
        finally:
            dependency.stop()
    cost = median([1 - r["on"] / r["off"] for r in rounds], 3)
    return {"rps_off": median([r["off"] for r in rounds]), "rps_on": median([r["on"] for r in rounds]),
            "cost": round(cost, 3), "rounds": rounds, "connections": CONNECTIONS}  # goal: cost <= 0.03
