"""The container backend on the timeline: kubelet and engine events per replica, cgroup memory, CPU throttling.

Extra rows of harness.report.plots' timeline, on its clock (seconds since t0); a variant
without containers.jsonl / cgroups.jsonl (the local backend) adds no row and draws nothing.
"""

from __future__ import annotations

from matplotlib.axes import Axes

from harness.analysis import containers
from harness.analysis.summary import VariantData
from harness.record import folder as rf

EVENTS = "Containers (one lane per replica)"
MEMORY = "cgroup memory MB (limit dashed)"
THROTTLE = "CPU throttled share per interval"
ROLLOUT_COLOR = "#2ca02c"


def panels(variants: list[VariantData]) -> list[str]:
    """The rows the variants' records call for, in timeline order."""
    rows = []
    if any((d.folder / rf.CONTAINERS).exists() for d in variants):
        rows.append(EVENTS)
    if any((d.folder / rf.CGROUPS).exists() for d in variants):
        rows += [MEMORY, THROTTLE]
    return rows


def draw(axes, rows: list[str], data: VariantData, replicas: list[str], colors: dict[str, str]) -> None:
    """Draw the variant's part of each extra row (axes: one per row, in the order of rows)."""
    t_end = float(data.meta.get("t_end", data.requests["end"].max() if len(data.requests) else data.t0))
    events, cg = containers.read_events(data.folder), containers.read_cgroups(data.folder)
    for ax, row in zip(axes, rows):
        if row == EVENTS:
            _lanes(ax, replicas)
            if events is not None:
                _events(ax, events, data.t0, t_end, replicas, colors)
        elif cg is not None:
            for r in replicas:
                (_memory if row == MEMORY else _throttle)(ax, cg, r, data.t0, colors[r])


def _lanes(ax: Axes, replicas: list[str]) -> None:
    ax.set_yticks(range(len(replicas)), replicas)
    ax.set_ylim(-0.6, len(replicas) - 0.4)


def _events(ax: Axes, events: list[dict], t0: float, t_end: float, replicas: list[str], colors: dict[str, str]) -> None:
    for i, r in enumerate(replicas):
        for s, e in containers.rollout_spans(events, r, t_end):
            ax.broken_barh([(s - t0, e - s)], (i - 0.45, 0.9), color=ROLLOUT_COLOR, alpha=0.12, lw=0,
                           label="rolling restart (begin to end)")
        steps = [e["t"] - t0 for e in containers.of(events, r, "rollout")]
        if steps:
            ax.vlines(steps, i - 0.45, i + 0.45, color=ROLLOUT_COLOR, lw=0.8, label="rollout step")
        for s, e in containers.unready_spans(events, r, t_end):
            ax.broken_barh([(s - t0, e - s)], (i - 0.25, 0.5), color=colors[r], alpha=0.45, lw=0,
                           label="unready: out of nginx's upstream group")
        for ts, marker, color, label in (
            (containers.oom_times(events, r), "X", "#d62728", "OOM kill"),
            (containers.times(events, r, "liveness-kill"), "v", "#ff7f0e", "liveness kill"),
            (containers.times(events, r, "restart"), "o", "#333333", "restart"),
        ):
            if ts:
                ax.scatter([t - t0 for t in ts], [i] * len(ts), marker=marker, color=color, s=55, zorder=3, label=label)


def _memory(ax: Axes, cg, r: str, t0: float, color: str) -> None:
    for part in containers.segments(cg, r):  # one line per container lifetime: a restart breaks it
        t = part["t"] - t0
        ax.plot(t, part["mem_bytes"].astype(float) / containers.MIB, color=color, label=f"{r} memory")
        if part["mem_limit_bytes"].notna().any():
            ax.plot(t, part["mem_limit_bytes"].astype(float) / containers.MIB, color=color, ls="--", lw=1, label=f"{r} limit")


def _throttle(ax: Axes, cg, r: str, t0: float, color: str) -> None:
    share = containers.throttled_share(cg, r)
    if len(share):
        ax.plot(share["t"] - t0, share["share"], color=color, marker=".", ms=3, lw=1, label=f"{r} throttled")
    ax.set_ylim(bottom=0)
