"""The load as sent against the load as asked: which model ran, and what the schedule lost.

A closed model sends fewer requests when the service stalls (each user waits for its
answer): `sent_share` below 1 is how much of the stall it never measured. An open model
starts requests on schedule; its Locust processes count the starts that came late
(the generator fell behind) or were dropped (load.max_inflight requests in flight).
"""

from __future__ import annotations

from pathlib import Path

from harness.drive import shape as shapes
from harness.record import folder as rf
from harness.record.folder import read_json
from harness.scenario import Load


def shape_line(load: Load) -> str:
    s = load.shape
    if s.kind == "ramp":
        return f"ramp {s.from_rate:g} -> {load.rate:g} req/s over {s.over_s:g} s"
    if s.kind == "step":
        return f"{load.rate:g} req/s, then " + ", ".join(f"{x.rate:g} from {x.at_s:g} s" for x in sorted(s.steps, key=lambda x: x.at_s))
    if s.kind == "spike":
        return f"{load.rate:g} req/s, {s.peak_rate:g} from {s.at_s:g} s for {s.for_s:g} s"
    return f"{load.rate:g} req/s"


def model_line(load: Load, workers: int) -> str:
    """The load in one line, for the report's story: nobody reads a closed model's stall as an open one's."""
    how = (f"open model: requests start on schedule whatever the answers do (at most {load.max_inflight} in flight)"
           if load.model == "open" and load.max_inflight else
           "open model: requests start on schedule whatever the answers do" if load.model == "open" else
           f"closed model: {load.users} users, each waits for its answer")
    procs = f", {workers} Locust processes" if workers > 1 else ""
    return f"{shape_line(load)} for {load.duration_s:g} s, {how}{procs}"


def starts(folder: Path) -> list[dict]:
    """Each Locust process's own count of its starts (open model only)."""
    return [read_json(p, {}) for p in sorted((folder / rf.LOCUST).glob("starts-*.json"))]


def offered(folder: Path, load: Load, sent: int) -> dict:
    settings = read_json(folder / rf.LOCUST / "load.json", {})
    model = settings.get("model", "closed")  # folders recorded before the open model ran closed
    workers = int(settings.get("workers", 1))
    scheduled = shapes.scheduled(load.shape.model_dump(), load.rate, load.duration_s)
    figures = {"model": model, "workers": workers, "line": model_line(load, workers), "scheduled": scheduled, "sent": sent,
               "sent_share": round(sent / scheduled, 4) if scheduled else None,
               "late_starts": None, "dropped_starts": None, "max_late_ms": None}
    counts = starts(folder)
    if model == "open" and counts:  # missing counts stay None: no data, never a zero
        figures.update(late_starts=sum(c.get("late", 0) for c in counts),
                       dropped_starts=sum(c.get("dropped", 0) for c in counts),
                       max_late_ms=max(c.get("max_late_ms", 0.0) for c in counts))
    return figures
