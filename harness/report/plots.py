"""The timeline: every variant on one clock and the same axes, as a PNG."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from harness.analysis.client import per_second  # noqa: E402
from harness.analysis.series import toxic_windows  # noqa: E402
from harness.analysis.summary import VariantData  # noqa: E402
from harness.report import events  # noqa: E402

STATUS_COLORS = {"no answer": "#7f7f7f", "502": "#ff7f0e", "503": "#9467bd", "504": "#d62728", "500": "#8c564b"}
REPLICA_COLORS = ["#1f77b4", "#2ca02c", "#e377c2", "#17becf", "#bcbd22", "#8c564b"]


def _color(label: str) -> str:
    if label.endswith("slow"):
        return "#b5a000"
    if label[0] == "2":
        return "#98df8a"
    if label[0] == "3":  # redirects: whether they point the right way is in the table (wrong redirects)
        return "#aec7e8"
    return STATUS_COLORS.get(label, "#c49c94")


def _order(label: str) -> tuple:
    """Good answers at the bottom, then slow ones, then errors."""
    bad = label == "no answer" or label[0] in "45"
    return (bad, label.endswith("slow"), label)


def timeline(variants: list[VariantData], phases: list[tuple[str, float, float]], slow_ms: float) -> bytes:
    rows = ["Client outcome per second", "Client latency (ms)", "Goroutines", "Outbound pool: in use (solid), waiting (dashed)"]
    has_db = any("db_in_use" in d.samples for d in variants)
    if has_db:
        rows.append("DB pool: in use (solid), waits/s (dashed)")
    boxed = events.panels(variants)  # the container backend's rows; none for the local one
    rows += boxed
    cols = max(1, len(variants))
    fig, axes = plt.subplots(len(rows), cols, figsize=(6.2 * cols, 11 + 2.6 * (has_db + len(boxed))), sharex=True, sharey="row",
                             squeeze=False)
    replicas = sorted({r for d in variants for r in d.meta.get("replicas", {})})
    colors = {r: REPLICA_COLORS[i % len(REPLICA_COLORS)] for i, r in enumerate(replicas)}
    seen: set[str] = set()
    for c, data in enumerate(variants):
        ax_status, ax_lat, ax_gor, ax_pool = axes[:4, c]
        ax_db = axes[4, c] if has_db else None
        events.draw(axes[4 + has_db:, c], boxed, data, replicas, colors)
        axes[0, c].set_title(f"{data.name} behind {data.meta.get('gateway', 'nginx')}  "
                             f"({', '.join(f'{k}={v}' for k, v in data.meta.get('replicas', {}).items())})", fontsize=10)
        sec = per_second(data.requests, data.t0, slow_ms)
        if not sec.empty:
            labels = [k for k in sec.columns if k not in ("p50_ms", "p99_ms")]
            bottom = pd.Series(0.0, index=sec.index)
            for label in sorted(labels, key=_order):
                ax_status.bar(sec.index, sec[label], bottom=bottom, width=1.0, align="edge", color=_color(label),
                              label=label if label not in seen else None)
                seen.add(label)
                bottom += sec[label]
            ax_lat.plot(sec.index + 0.5, sec["p50_ms"], color="#333", lw=1, label="p50")
            ax_lat.plot(sec.index + 0.5, sec["p99_ms"], color="#d62728", lw=1, label="p99")
            ax_lat.set_yscale("log")
        s = data.samples
        for r in replicas:
            mine = s[s["replica"] == r] if "replica" in s else s.iloc[0:0]
            t = mine["t"] - data.t0 if len(mine) else []
            if "goroutines" in mine:
                ax_gor.plot(t, mine["goroutines"], color=colors[r], label=f"replica {r}")
            if "pool_in_use" in mine:
                ax_pool.plot(t, mine["pool_in_use"], color=colors[r], label=f"{r} in use")
            if "pool_waiters" in mine:
                ax_pool.plot(t, mine["pool_waiters"], color=colors[r], ls="--", label=f"{r} waiting")
            if ax_db is not None and "db_in_use" in mine:
                ax_db.plot(t, mine["db_in_use"], color=colors[r], label=f"{r} in use")
                if "db_wait_count" in mine:
                    waits = mine["db_wait_count"].diff() / mine["t"].diff()
                    ax_db.plot(t, waits.clip(lower=0), color=colors[r], ls="--", label=f"{r} waits/s")
            if "leak_candidates" in mine and (mine["leak_candidates"] > 0).any():
                flagged = float(mine.loc[mine["leak_candidates"] > 0, "t"].min()) - data.t0
                ax_gor.axvline(flagged, color=colors[r], ls="-.", lw=1.2, label=f"leak-watch flagged {r}")
        for ax in axes[:, c]:
            for start, end, _ in toxic_windows(data):
                ax.axvspan(start, end, color="#b9b3ff", alpha=0.25, lw=0)
            for name, start, dur in phases:
                ax.axvline(start, color="#999", ls=":", lw=0.8)
            for e in data.episodes.itertuples(index=False):
                ax.axvspan(e.start - data.t0, e.end - data.t0, color=colors.get(e.replica, "#999"), alpha=0.15, lw=0,
                           hatch="//")
            ax.grid(alpha=0.3)
        for name, start, dur in phases:
            ax_status.text(start + 0.5, 1.0, name, transform=ax_status.get_xaxis_transform(), fontsize=8, va="top", color="#555")
        axes[-1, c].set_xlabel("seconds since the load started")
    for r, title in enumerate(rows):
        axes[r, 0].set_ylabel(title, fontsize=9)
        handles = {lab: h for ax in axes[r, :] for h, lab in zip(*ax.get_legend_handles_labels())}
        if handles:
            axes[r, -1].legend(handles.values(), handles.keys(), fontsize=7, loc="upper right")
    fig.text(0.01, 0.005, f"slow: a good status after >= {slow_ms:g} ms;  lavender: toxic active;  hatched: the gateway kept the replica out (ejection episode, replica's colour);  "
             "dotted: phase starts", fontsize=8, color="#555")
    fig.tight_layout(rect=(0, 0.015, 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()
