"""Rebuilding the report of a long run from its folder: a synthetic 20-minute run at 70 req/s, two replicas."""

from __future__ import annotations

import json
import random
import resource
import tempfile
import time
from pathlib import Path


from harness.record.folder import RunFolder
from harness.scenario import load

REPORT_TARGET_S = 60


def synthetic_run(folder: Path, minutes: int = 20, rate: int = 70) -> None:
    """A run folder shaped like a real buggy run: timeouts on a, retries on b, ejection lines."""
    scenario = load("unclosed-body")
    RunFolder.write(folder, scenario, ["buggy"])
    (folder / "journal.jsonl").write_text(json.dumps({"t": 0, "variant": None, "step": "run finished", "outcome": "ok"}) + "\n")
    v = folder / "variants" / "buggy"
    (v / "nginx").mkdir(parents=True)
    t0 = 1_800_000_000.0
    n = minutes * 60 * rate
    stack = {"proxies": {"gw-a": {"listen": "127.0.0.1:1001", "replica": "a", "leg": "gateway"},
                         "gw-b": {"listen": "127.0.0.1:1002", "replica": "b", "leg": "gateway"}}}
    (v / "stack.json").write_text(json.dumps(stack))
    (v / "meta.json").write_text(json.dumps({"t0": t0, "t_end": t0 + minutes * 60, "load_exit": 0,
                                             "replicas": {"a": "buggy", "b": "fixed"}}))
    rnd = random.Random(1)
    with open(v / "requests.jsonl", "w") as req, open(v / "nginx" / "access.log", "w") as acc:
        for i in range(n):
            start = t0 + i / rate
            timeout = rnd.random() < 0.01
            ms = 2050.0 if timeout else rnd.uniform(40, 70)
            rid = f"{i:012x}"
            req.write(json.dumps({"start": start, "endpoint": "GET /api/item", "method": "GET", "status": 200, "ms": ms,
                                  "rid": rid, "error": None}) + "\n")
            up = ("127.0.0.1:1001, 127.0.0.1:1002", "504, 200", "2.000, 0.050", "-, 0.049") if timeout else \
                 ("127.0.0.1:1002", "200", f"{ms / 1000:.3f}", f"{ms / 1000:.3f}")
            acc.write(json.dumps({"msec": f"{start + ms / 1000:.3f}", "rid": rid, "method": "GET", "uri": "/api/item",
                                  "status": "200", "request_time": f"{ms / 1000:.3f}", "upstream_addr": up[0],
                                  "upstream_status": up[1], "upstream_response_time": up[2],
                                  "upstream_connect_time": "0.000", "upstream_header_time": up[3]}) + "\n")
    with open(v / "samples.jsonl", "w") as f:
        for s in range(minutes * 60):
            for r in ("a", "b"):
                f.write(json.dumps({"t": t0 + s, "replica": r, "goroutines": 10 + (s // 12 if r == "a" else 0),
                                    "pool_in_use": 20 if r == "a" else 1, "pool_waiters": 5 if r == "a" else 0,
                                    "open_fds": 30, "rss_bytes": 17e6, "inflight": 5}) + "\n")
    with open(v / "nginx" / "error.log", "w") as f:
        for s in range(0, minutes * 60, 12):
            stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(t0 + s))
            f.write(f'{stamp} [warn] 7#7: *1 upstream server temporarily disabled while reading response header from '
                    f'upstream, client: 127.0.0.1, server: , request: "GET /api/item HTTP/1.1", upstream: '
                    f'"http://127.0.0.1:1001/api/item", host: "x"\n')
    (v / "toxics.jsonl").write_text("")


def run() -> dict:
    from harness.report.build import write

    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        synthetic_run(folder)
        start = time.perf_counter()
        summary, _ = write(folder)
        took = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # of this whole process so far
    return {"requests": summary["variants"]["buggy"]["client"]["requests"], "took_s": round(took, 1),
            "peak_rss_mb": round(peak_mb), "goal_s": REPORT_TARGET_S}
