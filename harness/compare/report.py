"""verdict.json + both builds' data -> comparison.html (self-contained) and comparison.md."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from harness.analysis.summary import per_second  # noqa: E402
from harness.compare.stats import BETTER, SAME, UNSURE, WORSE  # noqa: E402
from harness.report import pages  # noqa: E402

COLORS = {"baseline": "#1f77b4", "candidate": "#d62728"}
CLASS = {BETTER: "pass", WORSE: "fail", SAME: "same", UNSURE: "unsure"}


def _num(v) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _ci(r: dict) -> str:
    if r["ci_low"] is None:
        return "-"
    level = f" ({r['confidence'] * 100:.3g}%)" if r.get("confidence") else ""
    return f"{r['ci_low']:.4g} .. {r['ci_high']:.4g}{level}"


def markdown(v: dict) -> str:
    b, c = v["builds"]["baseline"]["describe"], v["builds"]["candidate"]["describe"]
    lines = [f"# Comparison on {v['scenario']}: {v['overall'].upper()}", "",
             f"baseline: {b}; candidate: {c}; trials complete: baseline {v['trials_complete']['baseline']}, "
             f"candidate {v['trials_complete']['candidate']} of {v['trials_planned']}", "",
             "| metric | baseline (per trial) | candidate (per trial) | difference | interval (level) | threshold | verdict |",
             "|---|---|---|---|---|---|---|"]
    for r in v["metrics"]:
        ci = _ci(r)
        lines.append(f"| {r['label']} | {', '.join(_num(x) for x in r['baseline'])} | {', '.join(_num(x) for x in r['candidate'])} "
                     f"| {_num(r['diff'])} | {ci} | {r['threshold']:.4g} | {r['verdict']} |")
    lines.append("")
    for role in ("baseline", "candidate"):
        for t in v["expectations"][role]:
            if t["failed"]:
                lines.append(f"- {role} {t['trial']}: expectations failed: "
                             + "; ".join(f"{e['metric']} {e['op']} {e['value']} (measured {e['actual']})" for e in t["failed"]))
    return "\n".join(lines) + "\n"


def overlay(runs: dict, tested: list[str]) -> bytes:
    """Both builds' trials on the same axes: thin lines, one colour per build."""
    panels = ["Goroutines (replicas under test)", "Outbound pool waiters", "Client 5xx + no answer per second", "Client p99 latency (ms)"]
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 12), sharex=True)
    for role, (_, data) in runs.items():
        label = role
        for trial in data.values():
            s = trial.samples
            for r in tested:
                mine = s[s["replica"] == r] if "replica" in s else s.iloc[0:0]
                if len(mine) and "goroutines" in mine:
                    axes[0].plot(mine["t"] - trial.t0, mine["goroutines"], color=COLORS[role], lw=0.9, alpha=0.7, label=label)
                    label = None
                if len(mine) and "pool_waiters" in mine:
                    axes[1].plot(mine["t"] - trial.t0, mine["pool_waiters"], color=COLORS[role], lw=0.9, alpha=0.7)
            sec = per_second(trial.requests, trial.t0)
            if not sec.empty:
                bad = [k for k in sec.columns if k == "no answer" or k[:1] == "5"]
                axes[2].plot(sec.index + 0.5, sec[bad].sum(axis=1) if bad else sec.index * 0, color=COLORS[role], lw=0.9, alpha=0.7)
                axes[3].plot(sec.index + 0.5, sec["p99_ms"], color=COLORS[role], lw=0.9, alpha=0.7)
    axes[3].set_yscale("log")
    for ax, title in zip(axes, panels):
        ax.set_ylabel(title, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="upper left")
    axes[-1].set_xlabel("seconds since the load started (each line one trial)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=85)
    plt.close(fig)
    return buf.getvalue()


def render_html(v: dict, runs: dict) -> str:
    overall = "fail" if v["overall"] in ("candidate worse", "incomplete") else "pass" if v["overall"] == "candidate better" else "same"
    png = base64.b64encode(overlay(runs, v["replicas_under_test"])).decode()
    return pages.render("comparison.html.j2", v=v, overall_class=overall, verdict_class=CLASS, png=png, num=_num, ci=_ci)
