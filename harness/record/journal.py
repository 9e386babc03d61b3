"""One journal per run: every step with its time and outcome, one JSON line each."""

from __future__ import annotations

import json
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.record.folder import read_jsonl


class Journal:
    def __init__(self, path: Path):
        self.path = path
        self._out = open(path, "a", encoding="utf-8", buffering=1)
        self.variant: str | None = None

    def write(self, step: str, outcome: str = "ok", **detail: Any) -> None:
        entry = {"t": round(time.time(), 3), "variant": self.variant, "step": step, "outcome": outcome, **detail}
        self._out.write(json.dumps(entry, default=str) + "\n")

    @contextmanager
    def step(self, step: str, **detail: Any):
        start = time.time()
        try:
            yield
        except BaseException as e:
            self.write(step, "error" if isinstance(e, Exception) else "interrupted",
                       seconds=round(time.time() - start, 3), error=f"{type(e).__name__}: {e}",
                       trace=traceback.format_exc(limit=3) if isinstance(e, Exception) else None, **detail)
            raise
        self.write(step, "ok", seconds=round(time.time() - start, 3), **detail)

    def close(self) -> None:
        self._out.close()


def read(path: Path) -> list[dict]:
    """Every entry; a last line cut short (the run was killed mid-write) is left out."""
    return read_jsonl(path)
