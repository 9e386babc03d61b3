"""Goroutine dumps of every replica during a run, for the leak forensics.

Taken before the load (baseline), at the start of the inject phase, at the
peak (the dump with the most goroutines among those taken every few seconds)
and at the end of the load. One background thread, every fetch bounded.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

from harness.record.goroutines import DumpError, fetch, parse

PEAK_EVERY_S = 5.0
FETCH_TIMEOUT_S = 3.0
EXTRA_TIMEOUT_S = 10.0
# Taken with the after-load dump: every goroutine with its creators' stacks (the
# replicas run with GODEBUG=tracebackancestors, so a standard-library goroutine
# names the own line that started it), and Go's own leak profile (a build with
# GOEXPERIMENT=goroutineleakprofile; others answer 404, recorded as unavailable).
EXTRA = {"after": (("full", "goroutine?debug=2"), ("leakprofile", "goroutineleak?debug=1"))}


class Snapshots(threading.Thread):
    def __init__(self, pprofs: dict[str, str], folder: Path, journal):
        """pprofs: replica -> its /debug/pprof base URL."""
        super().__init__(name="snapshots", daemon=True)
        self.pprofs = pprofs
        self.folder = folder
        self.journal = journal
        self.folder.mkdir(parents=True, exist_ok=True)
        self.best: dict[str, int] = {}
        self.next_peak = 0.0
        self._jobs: queue.Queue[str | None] = queue.Queue()

    def take(self, label: str) -> None:
        self._jobs.put(label)

    def tick(self) -> None:
        """Called from the run loop: a peak candidate every few seconds."""
        now = time.monotonic()
        if now >= self.next_peak and self._jobs.empty():
            self.next_peak = now + PEAK_EVERY_S
            self._jobs.put("peak")

    def finish(self, timeout_s: float = 15.0) -> None:
        self._jobs.put(None)
        self.join(timeout_s)

    def run(self) -> None:
        while (label := self._jobs.get()) is not None:
            for replica, base in self.pprofs.items():
                try:
                    text = fetch(f"{base}/goroutine?debug=1", FETCH_TIMEOUT_S)
                    total = parse(text).total
                except DumpError as e:
                    self.journal.write("goroutine snapshot", "error", replica=replica, label=label, error=str(e))
                    continue
                if label == "peak":
                    if total <= self.best.get(replica, -1):
                        continue
                    self.best[replica] = total
                (self.folder / f"{replica}-{label}.txt").write_text(text)
                for suffix, path in EXTRA.get(label, ()):
                    try:
                        extra = fetch(f"{base}/{path}", EXTRA_TIMEOUT_S)
                    except DumpError as e:
                        self.journal.write("goroutine snapshot", "unavailable", replica=replica, label=f"{label}.{suffix}",
                                           error=str(e))
                        continue
                    (self.folder / f"{replica}-{label}.{suffix}.txt").write_text(extra)
