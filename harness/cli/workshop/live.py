"""What the workshop page shows of a run, read from its folder as the run writes it.

The same analysis as the report (analysis.series over analysis.summary.load_variant): a variant
still running has no meta.json yet, so its t0 comes from the journal's "load running" entry.
A finished variant's series are kept (its files no longer change).
"""

from __future__ import annotations

import time
from pathlib import Path

from harness.analysis.series import run_series
from harness.analysis.summary import load_variant
from harness.errors import GatewaylabError
from harness.record import folder as rf
from harness.record.folder import RunFolder, read_json
from harness.record.journal import read as read_journal
from harness.scenario import Scenario


class Live:
    """Reads one run folder again at each poll; keeps what cannot change any more."""

    def __init__(self, run_dir: Path):
        self.run = RunFolder(run_dir)
        self.scenario: Scenario | None = None
        self.done: dict[str, object] = {}  # variant -> its VariantData once meta.json is written
        self.last: dict[str, object] = {}  # variant -> the last VariantData that read cleanly

    def _variant(self, name: str, t0: float | None):
        if name in self.done:
            return self.done[name]
        finished = self.run.finished(name)
        try:
            data = load_variant(self.run.path, name, self.scenario)
        except (GatewaylabError, ValueError, KeyError, OSError):
            return self.last.get(name)  # a file caught mid-write: show the last good read
        if "t0" not in data.meta:
            if t0 is None:
                return None  # the stack is still starting: nothing on the clock yet
            data.meta["t0"] = t0
        (self.done if finished else self.last)[name] = data
        return data

    def snapshot(self, now: float | None = None) -> dict:
        now = time.time() if now is None else now
        if not self.run.exists():
            return {"ready": False}
        if self.scenario is None:
            self.scenario = self.run.scenario()
        s = self.scenario
        journal = read_journal(self.run / rf.JOURNAL)
        t0s = {j.get("variant"): j["t0"] for j in journal if j.get("step") == "load running"}
        current = next((j.get("variant") for j in reversed(journal) if j.get("variant")), None)
        datas = [d for v in self.run.variants() if (d := self._variant(v, t0s.get(v))) is not None]
        series = run_series(datas, s) if datas else None
        status = {"variant": current, "step": journal[-1]["step"] if journal else "starting", "phase": None,
                  "elapsed_s": None, "remaining_s": None}
        if current is not None and current in t0s and not self.run.finished(current):
            elapsed = now - t0s[current]
            status["elapsed_s"] = round(elapsed, 1)
            status["remaining_s"] = round(max(0.0, s.load.duration_s - elapsed), 1)
            status["phase"] = next((p.name for p in s.phases if p.start_s <= elapsed < p.start_s + p.duration_s),
                                   "draining" if elapsed >= s.load.duration_s else None)
        summary = read_json(self.run / rf.SUMMARY) if (self.run / rf.REPORT).exists() else None
        return {
            "ready": True,
            "run_dir": str(self.run.path),
            "scenario": s.name,
            "planned": self.run.planned(),
            "finished_variants": [v for v in self.run.variants() if self.run.finished(v)],
            "status": status,
            "series": series,
            "now_s": status["elapsed_s"],
            "verdict": _verdict(summary) if summary else None,
            "report": (self.run / rf.REPORT).exists(),
        }


def _verdict(summary: dict) -> dict:
    return {"overall": summary.get("verdict"), "complete": summary.get("complete"),
            "variants": {n: {"verdict": v.get("verdict"),
                             "failed": [f"{e['metric']} {e['op']} {e['value']}" for e in v.get("expectations", [])
                                        if not e.get("holds")]}
                         for n, v in summary.get("variants", {}).items()}}
