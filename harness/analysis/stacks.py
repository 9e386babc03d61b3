"""Which goroutine stacks grew during a run, per replica, from the dumps in the run folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from harness.goroutines import DumpError, diff, parse

THRESHOLD = 5  # goroutines: less is jitter (a few requests in flight)
SHOWN = 5


def growth(folder: Path, replica: str, before: str = "baseline", after: str = "after") -> dict | None:
    """Growing stacks of one replica between two labelled dumps; None when a dump is missing.

    The default pair is before the load and after it (once in-flight requests are
    done), as goleak does: what is left then and runs the project's own code is a
    leak. Own-code stacks come first; the others (e.g. the connection goroutines
    a leak holds open) follow as context. stacks_grown counts own-code stacks only.
    """
    a, b = folder / f"{replica}-{before}.txt", folder / f"{replica}-{after}.txt"
    if not b.exists():
        b = folder / f"{replica}-end.txt"  # an interrupted run has no after-load dump
    if not (a.exists() and b.exists()):
        return None
    try:
        first, second = parse(a.read_text(errors="replace")), parse(b.read_text(errors="replace"))
    except DumpError as e:
        return {"error": str(e)}
    grown = _ranked(diff(first, second, THRESHOLD))
    peak_path = folder / f"{replica}-peak.txt"
    peak = parse(peak_path.read_text(errors="replace")) if peak_path.exists() else None
    # Goroutines that piled up while the fault lasted and were released when it
    # ended are no leak, but the dump at the peak still shows where they waited.
    piled = _ranked(diff(first, peak, THRESHOLD)) if peak else []
    return {
        "from": before, "to": b.stem.split("-", 1)[1], "total_before": first.total, "total_after": second.total,
        "total_peak": peak.total if peak else None,
        "stacks_grown": sum(1 for g in grown if g.own_frame),
        "top": [dataclasses.asdict(g) for g in grown[:SHOWN]],
        "peak_top": [dataclasses.asdict(g) for g in piled[:SHOWN]],
    }


def _ranked(growths):
    return sorted(growths, key=lambda g: (not g.own_frame, -g.growth))
