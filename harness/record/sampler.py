"""Scrapes every replica's /metrics at a fixed interval into timestamped records."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from harness.host.probes import http_get

# Prometheus name -> short field name in samples.jsonl.
FIELDS = {
    "go_goroutines": "goroutines",
    "go_threads": "threads",
    "process_open_fds": "open_fds",
    "process_resident_memory_bytes": "rss_bytes",
    "gatewaylab_outbound_conns_in_use": "pool_in_use",
    "gatewaylab_outbound_conns_idle": "pool_idle",
    "gatewaylab_outbound_conn_waiters": "pool_waiters",
    "gatewaylab_outbound_conns_open": "pool_open",
    "gatewaylab_outbound_dials_total": "pool_dials",  # a counter: connections dialled since start
    "gatewaylab_inflight_requests": "inflight",
    "leakwatch_candidate_stacks": "leak_candidates",
    "leakwatch_candidate_goroutines": "leak_candidate_goroutines",
    # database/sql's DB.Stats() (internal/dbstats), for patterns that query a database
    "gatewaylab_db_conns_in_use": "db_in_use",
    "gatewaylab_db_conns_idle": "db_idle",
    "gatewaylab_db_conns_open": "db_open",
    "gatewaylab_db_conns_max_open": "db_max_open",
    "gatewaylab_db_wait_count_total": "db_wait_count",
    "gatewaylab_db_wait_duration_seconds_total": "db_wait_s",
}


def parse(text: str) -> dict[str, float]:
    """The fields we sample from one Prometheus text exposition."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name in FIELDS and not s.labels:
                out[FIELDS[s.name]] = s.value
    return out


class Sampler(threading.Thread):
    def __init__(self, targets: dict[str, str], interval_s: float, out: Path):
        """targets: replica name -> its metrics URL."""
        super().__init__(name="sampler", daemon=True)
        self.targets = targets
        self.interval_s = interval_s
        self.out = out
        self.latest: dict[str, dict] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        timeout = min(self.interval_s, 2.0)
        with open(self.out, "a", encoding="utf-8", buffering=1) as f:
            next_at = time.monotonic()
            while not self._halt.is_set():
                for replica, url in self.targets.items():
                    t = time.time()
                    got = http_get(url, timeout)
                    rec: dict = {"t": round(t, 3), "replica": replica}
                    if got is None or got[0] != 200:
                        rec["error"] = "no answer" if got is None else f"HTTP {got[0]}"
                    else:
                        try:
                            rec.update(parse(got[1].decode("utf-8", "replace")))
                        except ValueError as e:
                            rec["error"] = f"unparsable metrics: {e}"
                    self.latest[replica] = rec
                    f.write(json.dumps(rec) + "\n")
                next_at += self.interval_s
                self._halt.wait(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        self._halt.set()
        self.join(5)
