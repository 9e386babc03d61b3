"""The harness's load generator at full speed against wrk, bare Locust, and itself with two workers.

The target is nginx answering 200 from memory (no upstream), so the generators are what is
measured. Each generator runs SECONDS at a time, in turn, ROUNDS times: the figures are the
medians, and the ratios are taken between runs of the same round.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, SECONDS, median, port, started, wrk

from harness.drive import load as drive
from harness.host.tools import find_nginx
from harness.record.folder import read_jsonl
from harness.scenario import Gateway, Load

ROUNDS = 3
USERS = 20
NGINX_CONF = """daemon off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{ access_log off; client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};
uwsgi_temp_path {d}; scgi_temp_path {d};
server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok"; }} }} }}
"""


def _locust(locustfile: Path, host: str, folder: Path, env: dict, workers: int = 1) -> list[str]:
    argv = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--only-summary", "-u", str(USERS),
            "-r", str(USERS), "-t", f"{SECONDS}s", "--stop-timeout", "2", "--host", host,
            "--json-file", str(folder / "locust"), "--loglevel", "WARNING"]
    if workers > 1:
        p = port()
        argv += ["--processes", str(workers), "--master-bind-host", "127.0.0.1", "--master-bind-port", str(p),
                 "--master-host", "127.0.0.1", "--master-port", str(p)]
    subprocess.run(argv, env={**os.environ, **env}, cwd=folder, capture_output=True, timeout=SECONDS + 60)
    return argv


def _from_locust_json(folder: Path) -> dict:
    stats = json.loads((folder / "locust.json").read_text())
    n = sum(s["num_requests"] for s in stats)
    took = max(s["last_request_timestamp"] for s in stats) - min(s["start_time"] for s in stats)
    return {"rps": round(n / took, 1) if took > 0 else 0.0}


def bare(host: str) -> dict:
    with tempfile.TemporaryDirectory() as d:
        _locust(ROOT / "benchmarks" / "bare_locustfile.py", host, Path(d), {})
        return _from_locust_json(Path(d))


def harness(host: str, workers: int = 1, locustfile: Path = drive.LOCUSTFILE) -> dict:
    """The harness's own locustfile, recording every request as a run does; no pacing (full speed)."""
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        load = Load(users=USERS, spawn_rate=USERS, rate=2000, duration_s=SECONDS, endpoints=[{"path": "/"}])
        settings = {**drive.settings(load, Gateway(), 1), "per_user": 1e6, "workers": workers}
        (folder / "load.json").write_text(json.dumps(settings))
        _locust(locustfile, host, folder, {"GATEWAYLAB_LOAD": str(folder / "load.json"),
                                                   "GATEWAYLAB_REQUESTS": str(folder / "requests.jsonl"),
                                                   "GATEWAYLAB_SEED": "1"}, workers)
        rows = read_jsonl(folder / "requests.jsonl")
        if not rows:
            return {"rps": 0.0}
        starts = sorted(r["start"] for r in rows)
        ms = sorted(r["ms"] for r in rows)
        return {"rps": round(len(rows) / (starts[-1] - starts[0]), 1),
                "p50_ms": ms[len(ms) // 2], "p90_ms": ms[int(len(ms) * 0.9)], "p99_ms": ms[int(len(ms) * 0.99)]}


def run() -> dict:
    with tempfile.TemporaryDirectory() as d:
        p = port()
        (Path(d) / "nginx.conf").write_text(NGINX_CONF.format(d=d, port=p))
        url = f"http://127.0.0.1:{p}"
        nginx = started("nginx", [str(find_nginx()), "-p", d, "-c", f"{d}/nginx.conf"], Path(d), url + "/")
        try:
            rounds = []
            for _ in range(ROUNDS):
                rounds.append({"wrk": wrk(url + "/", USERS), "bare_locust": bare(url),
                               "harness": harness(url), "harness_2_workers": harness(url, 2)})
        finally:
            nginx.stop()
    fig = {k: median([r[k]["rps"] for r in rounds]) for k in rounds[0]}
    share = median([r["harness"]["rps"] / r["bare_locust"]["rps"] for r in rounds], 3)
    return {
        "rps": fig, "rounds": rounds, "connections_or_users": USERS, "seconds_each": SECONDS,
        "harness_of_bare": round(share, 3),           # goal: >= 0.9 (recording costs at most 10 %)
        "harness_of_wrk": round(fig["harness"] / fig["wrk"], 3),
        "two_workers_of_one": round(fig["harness_2_workers"] / fig["harness"], 2),
    }
