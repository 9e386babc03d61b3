"""The gateway's own view of its members (HAProxy's stats socket, Caddy's admin API), polled at the
sampling interval into gateway.jsonl: what the episodes computed from its logs are checked against."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Callable


class StatePoller(threading.Thread):
    def __init__(self, read: Callable[[], list[dict]] | None, interval_s: float, out: Path):
        """read None: the gateway has no API to poll; the thread ends at once and writes nothing."""
        super().__init__(name="gateway-state", daemon=True)
        self.read = read
        self.interval_s = interval_s
        self.out = out
        self.errors = 0
        self._halt = threading.Event()

    def run(self) -> None:
        if self.read is None:
            return
        with open(self.out, "a", encoding="utf-8", buffering=1) as f:
            while not self._halt.is_set():
                t = time.time()
                try:
                    members = self.read()
                except OSError:  # the gateway is restarting or gone: a gap, not a zero
                    self.errors += 1
                    members = []
                for m in members:
                    f.write(json.dumps({"t": round(t, 3), **m}) + "\n")
                self._halt.wait(self.interval_s)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
