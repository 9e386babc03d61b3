"""What a run leaves behind, per replica, and the default leak checks that judge it.

A leak is judged by what stays once the load has drained (goroutines and open
fds after the tail against the baseline, own-code stacks still grown) and by a
robust trend (Theil-Sen), never by a least-squares line: a fixed build's
goroutines step up when a fault adds latency and down when it lifts.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.record.goroutines import DumpError, describe, parse
from harness.scenario import Expectation, LeakChecks

OWN = "gatewaylab/goservices"
# The default checks: (metric, op, the LeakChecks field holding the limit).
CHECKS = (
    ("goroutines_left", "<=", "goroutines_left"),
    ("fds_left", "<=", "fds_left"),
    ("stacks_grown", "<=", "stacks_grown"),
    ("goroutine_trend", "<=", "goroutine_trend"),
)


def _edge(s: pd.DataFrame, col: str, before: bool, t: float) -> float | None:
    """The last value of col before t (before=True) or the last one after t."""
    if col not in s or not len(s):
        return None
    rows = s[s["t"] < t] if before else s[s["t"] > t]
    values = rows[col].dropna()
    return float(values.iloc[-1]) if len(values) else None


def drained(s: pd.DataFrame, t0: float, t_end: float) -> dict:
    """One replica's samples -> goroutines and fds before the load, after the tail, and what stayed.

    None where there is no sample to say it (a failed scrape, a metric not exported): no data, never zero.
    """
    out = {}
    for col, name in (("goroutines", "goroutines"), ("open_fds", "fds")):
        start, after = _edge(s, col, True, t0), _edge(s, col, False, t_end)
        if name == "fds":
            out["fds_start"] = int(start) if start is not None else None
        out[f"{name}_after"] = int(after) if after is not None else None
        out[f"{name}_left"] = int(after - start) if start is not None and after is not None else None
    flags = s["leak_candidates"].dropna() if "leak_candidates" in s else pd.Series(dtype=float)
    out["leakwatch_flags"] = int((flags > 0).sum()) if len(flags) else None
    return out


def runtime_profile(folder: Path, replica: str, own: str = OWN) -> dict:
    """Go's own leak profile (GOEXPERIMENT=goroutineleakprofile), taken after the load; None: not available."""
    path = folder / f"{replica}-after.leakprofile.txt"
    if not path.exists():
        return {"runtime_leaks": None, "runtime_leak_frame": None}
    text = path.read_text(errors="replace").replace("goroutineleak profile:", "goroutine profile:", 1)
    try:
        dump = parse(text)
    except DumpError:
        return {"runtime_leaks": None, "runtime_leak_frame": None}
    ranked = sorted(dump.stacks.items(), key=lambda kv: -kv[1])
    frame = next((describe(stack, own)[2] for stack, _ in ranked if describe(stack, own)[2]), None)
    return {"runtime_leaks": dump.total, "runtime_leak_frame": frame}


def default_expectations(limits: LeakChecks, replicas: list[str], figures: dict[str, dict],
                         during_load: bool = True) -> list[Expectation]:
    """The default leak checks of a variant that should not leak, on every replica under test.

    during_load=False (a pile-up variant) keeps only what stays after the drain: the
    trend and leak-watch see a pile-up that the end of the fault releases.

    A check needs its data source: stacks_grown needs pprof, leak-watch its metrics. A
    source the replica does not offer at all is left out (and said so in the report);
    a source it offers that gave no value fails as no data.
    """
    out = []
    for r in replicas:
        fig = figures.get(r, {})
        for metric, op, field in CHECKS:
            if metric == "stacks_grown" and not fig.get("has_pprof", True):
                continue
            if metric == "goroutine_trend" and not during_load:
                continue
            out.append(Expectation(metric=f"replicas.{r}.{metric}", op=op, value=float(getattr(limits, field)),
                                   why=f"default leak check (leak_checks.{field})"))
        if limits.leakwatch and fig.get("has_leakwatch") and during_load:
            out.append(Expectation(metric=f"replicas.{r}.leakwatch_flags", op="==", value=0.0,
                                   why="default leak check: leak-watch silent over the whole run"))
    return out


def signals(limits: LeakChecks, fig: dict) -> int | None:
    """How many default checks fire on one replica's figures; None when none of them has data."""
    fired, seen = 0, 0
    for metric, _, field in CHECKS:
        v = fig.get(metric)
        if isinstance(v, (int, float)):
            seen += 1
            fired += v > getattr(limits, field)
    return fired if seen else None
