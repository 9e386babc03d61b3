"""The load: Locust in its own process, running the static locustfile.py with this run's settings.

Locust is never imported here (it monkey-patches the process with gevent).
Its request hook writes one JSON line per request, flushed as it happens.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from harness.host.procs import Proc, free_port
from harness.record.folder import REQUESTS
from harness.scenario import Endpoint, Gateway, Load
from harness.scenario.vocabulary import MAX_WORKERS

LOCUSTFILE = Path(__file__).with_name("locustfile.py")  # one static file; what it sends comes from settings()
SHAPE_FILE = Path(__file__).with_name("shape.py")  # the rate over time, loaded by path in Locust's process


def client_timeout_s(gw: Gateway, replicas: int) -> float:
    """Longer than the gateway can take (every upstream tried), so the gateway decides."""
    per_try = gw.connect_timeout_s + max(gw.read_timeout_s, gw.send_timeout_s)
    return round(per_try * max(1, replicas) + 5, 1)


TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJnYXRld2F5bGFiIn0."  # a JWT's look, repeated to the size asked


def request_headers(e: Endpoint, gw: Gateway) -> dict[str, str]:
    """The headers an endpoint's requests carry besides X-Request-Id: Host is the public host the client uses."""
    sized = {name: (TOKEN * (n // len(TOKEN) + 1))[:n] for name, n in e.header_bytes.items()}
    return {**({"Host": gw.public_host} if gw.public_host else {}), **e.headers, **sized}


def workers(load: Load) -> int:
    """Locust processes that send requests: load.workers, 'auto' being one per core."""
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS)) if load.workers == "auto" else load.workers


def settings(load: Load, gw: Gateway, replicas: int) -> dict:
    """What the locustfile sends, as JSON: endpoints with their headers and bodies, the pace, the timeouts."""
    timeout = client_timeout_s(gw, replicas)
    peak = max([load.rate] + [x for x in (load.shape.peak_rate, load.shape.from_rate) if x] + [s.rate for s in load.shape.steps])
    return {
        "model": load.model, "rate": load.rate, "shape": load.shape.model_dump(), "duration_s": load.duration_s,
        "users": load.users, "workers": workers(load), "shape_file": str(SHAPE_FILE),
        # open model: enough room for every request the client's timeout lets be in flight at the peak rate
        "max_inflight": load.max_inflight or int(peak * timeout) + load.users,
        "per_user": load.rate / load.users, "network_timeout": timeout, "connection_timeout": min(timeout, 10.0),
        "endpoints": [{"weight": e.weight, "method": e.method, "path": e.path, "name": e.label,
                       "data": "x" * e.body_bytes if e.body_bytes else None, "headers": request_headers(e, gw)}
                      for e in load.endpoints],
    }


def start(load: Load, gw: Gateway, replicas: int, gateway_addr: str, folder: Path, seed: int | None = None) -> Proc:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "load.json"
    path.write_text(json.dumps(settings(load, gw, replicas), indent=2))
    n = workers(load)
    # open model: one scheduler per Locust process; each starts its share of the arrivals.
    users, spawn = (n, n) if load.model == "open" else (load.users, load.spawn_rate)
    argv = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "-u", str(users), "-r", str(spawn), "-t", f"{load.duration_s:g}s",
        "--stop-timeout", "5", "--host", f"http://{gateway_addr}",
        "--json-file", str(folder / "locust"), "--loglevel", "WARNING",
    ]
    if n > 1:  # Locust's own distribution: a master forks n workers; they talk over 127.0.0.1 only
        port = free_port()
        argv += ["--processes", str(n), "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                 "--master-host", "127.0.0.1", "--master-port", str(port), "--expect-workers-max-wait", "30"]
    env = {"GATEWAYLAB_LOAD": str(path), "GATEWAYLAB_REQUESTS": str(folder.parent / REQUESTS),
           "GATEWAYLAB_SEED": "" if seed is None else str(seed)}
    return Proc("locust", argv, folder / "locust.log", env=env, cwd=folder)
