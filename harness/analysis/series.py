"""The timeline as plain series: what the interactive report and the live workshop page draw.

Pure: a variant's records in (VariantData), JSON-ready dicts out, every time in seconds since
the load started (t0), so all variants share one clock. A variant still running reads the same
way: its files are read as far as they are written.
"""

from __future__ import annotations

import math

import numpy as np

from harness.analysis.client import per_second
from harness.analysis.summary import VariantData
from harness.scenario import Scenario

REPLICA_METRICS = ("goroutines", "pool_in_use", "pool_waiters", "inflight", "open_fds")


def _num(v) -> float | int | None:
    """A JSON number, or None for a missing or NaN value."""
    if v is None:
        return None
    if isinstance(v, (np.integer, int)):
        return int(v)
    f = float(v)
    return None if math.isnan(f) else round(f, 3)


def _order(label: str) -> tuple:
    """Good answers at the bottom of the stack, then slow ones, then errors (as the static timeline)."""
    bad = label == "no answer" or label[0] in "45"
    return (bad, label.endswith("slow"), label)


def client_series(data: VariantData, slow_ms: float) -> dict:
    """Client outcomes per second (by completion) and p50/p99 latency; every second of the span present."""
    sec = per_second(data.requests, data.t0, slow_ms)
    if sec.empty:
        return {"x": [], "labels": [], "counts": {}, "p50_ms": [], "p99_ms": []}
    sec = sec[sec.index >= 0].reindex(range(max(0, int(sec.index.min())), int(sec.index.max()) + 1))
    labels = sorted((k for k in sec.columns if k not in ("p50_ms", "p99_ms")), key=_order)
    return {
        "x": [int(s) for s in sec.index],
        "labels": labels,
        "counts": {k: [int(v) for v in sec[k].fillna(0)] for k in labels},
        "p50_ms": [_num(v) for v in sec["p50_ms"]],
        "p99_ms": [_num(v) for v in sec["p99_ms"]],
    }


def sample_series(data: VariantData, interval_s: float) -> dict:
    """Each replica's /metrics on one shared x: the samples of one sampling round share a point.

    A round is the interval the sample falls in (the sampler scrapes every replica once per
    interval); its x is the mean time of that round's samples. A replica without a sample in a
    round has None there, never an invented value.
    """
    s = data.samples
    if s.empty or "t" not in s or "replica" not in s:
        return {"x": [], "replicas": {}}
    s = s.sort_values("t")
    first = float(s["t"].min())
    rounds = np.floor((s["t"].astype(float) - first) / interval_s + 0.5).astype(int)
    s = s.assign(round=rounds)
    xs = s.groupby("round")["t"].mean() - data.t0
    index = {r: i for i, r in enumerate(xs.index)}
    out: dict[str, dict[str, list]] = {}
    for replica, mine in s.groupby("replica"):
        mine = mine.drop_duplicates("round", keep="last")
        cols = {}
        for metric in REPLICA_METRICS:
            if metric not in mine:
                continue
            values: list = [None] * len(index)
            for r, v in zip(mine["round"], mine[metric]):
                values[index[r]] = _num(v)
            cols[metric] = values
        out[str(replica)] = cols
    return {"x": [round(float(x), 3) for x in xs], "replicas": out}


def toxic_windows(data: VariantData) -> list[tuple[float, float, str]]:
    """(start, end, label) of each toxic Toxiproxy accepted, seconds since t0; one still on ends at the load's end."""
    out = []
    opened: dict[tuple[str, str], float] = {}
    tx = data.toxics
    for r in tx[tx["ok"] == True].itertuples(index=False):  # noqa: E712
        key = (r.toxic, r.proxy)
        if r.action == "add":
            opened[key] = r.t - data.t0
        elif key in opened:
            out.append((opened.pop(key), r.t - data.t0, f"{r.toxic} on {r.proxy}"))
    end = float(data.meta.get("t_end", data.t0)) - data.t0
    out += [(s, max(s, end), f"{k[0]} on {k[1]}") for k, s in opened.items()]
    return out


def leak_flags(data: VariantData) -> dict[str, float]:
    """replica -> when leak-watch first flagged it (seconds since t0)."""
    s = data.samples
    if "leak_candidates" not in s:
        return {}
    flagged = s[s["leak_candidates"].fillna(0) > 0]
    return {str(r): round(float(g["t"].min()) - data.t0, 3) for r, g in flagged.groupby("replica")}


def variant_series(data: VariantData, scenario: Scenario) -> dict:
    """Everything the timeline draws for one variant."""
    ep = data.episodes
    end = data.meta.get("t_end")
    return {
        "name": data.name,
        "gateway": data.meta.get("gateway", scenario.gateway.kind),
        "replica_builds": data.meta.get("replicas", {}),
        "finished": end is not None,
        "t_end": round(float(end) - data.t0, 3) if end is not None else None,
        "client": client_series(data, scenario.analysis.slow_ms),
        "samples": sample_series(data, scenario.sampling.interval_s),
        "toxics": [[round(a, 3), round(b, 3), label] for a, b, label in toxic_windows(data)],
        "episodes": [[round(float(e.start) - data.t0, 3), round(float(e.end) - data.t0, 3), str(e.replica)]
                     for e in ep.itertuples(index=False)] if len(ep) else [],
        "leak_flagged": leak_flags(data),
    }


def run_series(variants: list[VariantData], scenario: Scenario) -> dict:
    """The whole timeline: phases, slow threshold, replicas, and each variant's series on one clock."""
    replicas = sorted({r for d in variants for r in d.meta.get("replicas", {})}
                      | {str(r) for d in variants if "replica" in d.samples for r in d.samples["replica"].dropna().unique()})
    return {
        "scenario": scenario.name,
        "duration_s": scenario.load.duration_s,
        "slow_ms": scenario.analysis.slow_ms,
        "phases": [[p.name, p.start_s, p.duration_s] for p in scenario.phases],
        "replicas": replicas,
        "variants": [variant_series(d, scenario) for d in variants],
    }

