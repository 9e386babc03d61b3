"""Which goroutine stacks grew during a run, per replica, from the dumps in the run folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from harness.analysis import ancestry
from harness.record.goroutines import DumpError, Frame, diff, parse

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
    grown = _ranked(attribute(diff(first, second, THRESHOLD), folder / f"{b.stem}.full.txt"))
    peak_path = folder / f"{replica}-peak.txt"
    peak = parse(peak_path.read_text(errors="replace")) if peak_path.exists() else None
    # Goroutines that piled up while the fault lasted and were released when it
    # ended are no leak, but the dump at the peak still shows where they waited.
    piled = _ranked(diff(first, peak, THRESHOLD)) if peak else []
    return {
        "from": before, "to": b.stem.removeprefix(f"{replica}-"), "total_before": first.total, "total_after": second.total,
        "total_peak": peak.total if peak else None,
        "stacks_grown": sum(1 for g in grown if g.own_frame),
        "top": [dataclasses.asdict(g) for g in grown[:SHOWN]],
        "peak_top": [dataclasses.asdict(g) for g in piled[:SHOWN]],
    }


# An idle keep-alive connection of a pool: its readLoop waits on the socket
# (persistConn.Read), its writeLoop on its channel. A pool keeps a bounded number
# of these; a connection whose body was never closed waits in readLoop's select.
_IDLE_CONN = ("net/http.(*persistConn).writeLoop", "net/http.(*persistConn).Read")
OWN = "gatewaylab/goservices"


def attribute(growths, full_dump: Path, own: str = OWN):
    """Growth rows without an own frame get the own line that created them (debug=2 with ancestors)."""
    if not full_dump.exists() or all(g.own_frame for g in growths):
        return growths
    creators = ancestry.creators_by_stack(full_dump.read_text(errors="replace"), own)
    out = []
    for g in growths:
        frames = [_frame(f) for f in g.frames]
        if not g.own_frame and not any(marker in f.func for f in frames for marker in _IDLE_CONN):
            where = ancestry.lookup(creators, ancestry.key(frames))
            if where:
                g = dataclasses.replace(g, own_frame=where, created_by_own=True)
        out.append(g)
    return out


def _frame(text: str) -> Frame:
    """StackGrowth keeps frames as 'func file:line' text."""
    func, _, loc = text.rpartition(" ")
    file, _, line = loc.rpartition(":")
    return Frame(func, file, int(line) if line.isdigit() else 0)


def _ranked(growths):
    # own code first; a stack that runs own code before one that own code only started
    # (a blocked handler says more than the connection goroutines it holds)
    return sorted(growths, key=lambda g: (not g.own_frame, g.created_by_own, -g.growth))
