"""The container backend's records (containers.jsonl, cgroups.jsonl) -> per-replica figures.

Pure: files in (read by harness.record.folder), figures and tables out. A folder without
these files (the local backend) gives None for every figure: nothing was measured, so
nothing reads as zero. A file that is there but holds no event of a kind gives a count of 0.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.record import folder as rf
from harness.record.folder import read_jsonl

MIB = 1024 * 1024
# the figures this module adds to each replica (declared in harness.scenario.vocabulary.REPLICA_METRICS)
EVENT_FIGURES = ("oom_kills", "first_oom_s", "restarts", "first_restart_s", "liveness_failures", "liveness_kills",
                 "unready_s", "crashloop_delay_max_s")
CGROUP_FIGURES = ("cg_mem_peak_mb", "cg_mem_limit_mb", "throttled_periods", "throttled_share", "throttled_s", "cpu_s")
CGROUP_COLUMNS = ["t", "replica", "container", "generation", "mem_bytes", "mem_limit_bytes", "cpu_s",
                  "periods", "throttled_periods", "throttled_s"]
COUNTERS = ["cpu_s", "periods", "throttled_periods", "throttled_s"]


def read_events(folder: Path) -> list[dict] | None:
    """containers.jsonl's events in time order; None when the variant has no such file."""
    path = folder / rf.CONTAINERS
    if not path.exists():
        return None
    return sorted((e for e in read_jsonl(path) if "t" in e), key=lambda e: e["t"])


def read_cgroups(folder: Path) -> pd.DataFrame | None:
    """cgroups.jsonl as a table; None when the variant has no such file."""
    path = folder / rf.CGROUPS
    if not path.exists():
        return None
    return pd.DataFrame(read_jsonl(path), columns=CGROUP_COLUMNS).sort_values("t", kind="stable")


def of(events: list[dict], replica: str, *kinds: str) -> list[dict]:
    return [e for e in events if e.get("replica") == replica and (not kinds or e.get("event") in kinds)]


def oom_times(events: list[dict], replica: str) -> list[float]:
    """When the replica's containers were OOM-killed: exits the engine flagged oom_killed; when none
    carries the flag (cgroup v2 engines do not always set it), the engine's "oom" events instead."""
    killed = [e["t"] for e in of(events, replica, "exit") if e.get("oom_killed")]
    return killed or [e["t"] for e in of(events, replica, "oom")]


def times(events: list[dict], replica: str, kind: str) -> list[float]:
    return [e["t"] for e in of(events, replica, kind)]


def unready_spans(events: list[dict], replica: str, t_end: float) -> list[tuple[float, float]]:
    """(start, end) of each stretch out of the upstream group; one never made ready again lasts to t_end."""
    spans, since = [], None
    for e in of(events, replica, "unready", "ready"):
        if e["event"] == "unready" and since is None:
            since = e["t"]
        elif e["event"] == "ready" and since is not None:
            spans.append((since, e["t"]))
            since = None
    if since is not None:
        spans.append((since, max(since, t_end)))
    return spans


def rollout_spans(events: list[dict], replica: str, t_end: float) -> list[tuple[float, float]]:
    """(begin, end) of each rolling restart of the replica; one without an end lasts to t_end."""
    spans, since = [], None
    for e in of(events, replica, "rollout"):
        if e.get("step") == "begin":
            since = e["t"]
        elif e.get("step") == "end" and since is not None:
            spans.append((since, e["t"]))
            since = None
    if since is not None:
        spans.append((since, max(since, t_end)))
    return spans


def segments(cg: pd.DataFrame, replica: str) -> list[pd.DataFrame]:
    """The replica's rows, one table per container lifetime: per (container, generation), split again
    where a counter drops, since a container restarted in place starts a new cgroup at zero."""
    mine = cg[cg["replica"] == replica]
    out = []
    for _, g in mine.groupby(["container", "generation"], sort=False, dropna=False):
        dropped = (g[COUNTERS].astype(float).diff() < 0).any(axis=1)
        out += [part for _, part in g.groupby(dropped.cumsum())]
    return out


def _total(parts: list[pd.DataFrame], col: str) -> float:
    """A cumulative counter summed over container lifetimes: each one's last value."""
    return float(sum(float(p[col].dropna().iloc[-1]) for p in parts if p[col].notna().any()))


def throttled_share(cg: pd.DataFrame, replica: str) -> pd.DataFrame:
    """Per sampling interval: throttled periods / CFS periods elapsed in it (t, share); none across a restart."""
    rows = []
    for p in segments(cg, replica):
        d = p[["periods", "throttled_periods"]].astype(float).diff()
        ok = d["periods"] > 0
        rows.append(pd.DataFrame({"t": p["t"][ok], "share": (d["throttled_periods"] / d["periods"])[ok]}))
    return pd.concat(rows).sort_values("t") if rows else pd.DataFrame(columns=["t", "share"])


def _since(ts: list[float], t0: float) -> float | None:
    return round(min(ts) - t0, 1) if ts else None


def event_figures(events: list[dict] | None, replica: str, t0: float, t_end: float) -> dict:
    if events is None:
        return dict.fromkeys(EVENT_FIGURES)
    ooms, restarts = oom_times(events, replica), times(events, replica, "restart")
    # within the load only: the stack may start replicas before t0 and stop them after t_end
    unready = sum(max(0.0, min(e, t_end) - max(s, t0)) for s, e in unready_spans(events, replica, t_end))
    delays = [float(e["delay_s"]) for e in of(events, replica, "backoff") if e.get("delay_s") is not None]
    return {
        "oom_kills": len(ooms), "first_oom_s": _since(ooms, t0),
        "restarts": len(restarts), "first_restart_s": _since(restarts, t0),
        "liveness_failures": len(of(events, replica, "liveness-failed")),
        "liveness_kills": len(of(events, replica, "liveness-kill")),
        "unready_s": round(unready, 1),
        "crashloop_delay_max_s": round(max(delays, default=0.0), 1),
    }


def cgroup_figures(cg: pd.DataFrame | None, replica: str) -> dict:
    parts = segments(cg, replica) if cg is not None else []
    if not parts:
        return dict.fromkeys(CGROUP_FIGURES)  # no file, or no sample of this replica: nothing measured
    rows = pd.concat(parts)
    mem = rows["mem_bytes"].astype(float)
    peak = rows.loc[mem.idxmax()] if mem.notna().any() else None
    # the limit the peak ran under (a rollout may change it); None: unlimited
    limit = peak["mem_limit_bytes"] if peak is not None else None
    periods, throttled = _total(parts, "periods"), _total(parts, "throttled_periods")
    return {
        "cg_mem_peak_mb": round(float(peak["mem_bytes"]) / MIB, 1) if peak is not None else None,
        "cg_mem_limit_mb": round(float(limit) / MIB, 1) if limit is not None and pd.notna(limit) else None,
        "throttled_periods": int(throttled),
        # no CFS period counted (no CPU quota): a share of nothing is not 0
        "throttled_share": round(throttled / periods, 4) if periods else None,
        "throttled_s": round(_total(parts, "throttled_s"), 3),
        "cpu_s": round(_total(parts, "cpu_s"), 2),
    }


def figures(folder: Path, replicas: list[str], t0: float, t_end: float) -> dict[str, dict]:
    """Every replica's container figures from the variant folder."""
    events, cg = read_events(folder), read_cgroups(folder)
    return {r: {**event_figures(events, r, t0, t_end), **cgroup_figures(cg, r)} for r in replicas}
