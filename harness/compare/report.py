"""verdict.json + both builds' data -> comparison.html (self-contained) and comparison.md."""

from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from harness.analysis.summary import per_second  # noqa: E402
from harness.compare.stats import BETTER, SAME, UNSURE, WORSE  # noqa: E402

COLORS = {"baseline": "#1f77b4", "candidate": "#d62728"}
CLASS = {BETTER: "pass", WORSE: "fail", SAME: "same", UNSURE: "unsure"}
CSS = """body{font-family:sans-serif;max-width:1300px;margin:1em auto;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}
th{background:#f4f4f4}.pass{color:#080;font-weight:bold}.fail{color:#c00;font-weight:bold}.same{color:#555}
.unsure{color:#a60;font-weight:bold}img{max-width:100%}code{background:#f4f4f4}"""


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
    e = html.escape
    b, c = v["builds"]["baseline"], v["builds"]["candidate"]
    cls = "fail" if v["overall"] in ("candidate worse", "incomplete") else "pass" if v["overall"] == "candidate better" else "same"
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>gatewaylab compare: {e(v['scenario'])}</title>",
           f"<style>{CSS}</style></head><body><h1>{e(v['scenario'])}: {e(b['describe'])} vs {e(c['describe'])}</h1>",
           f"<p>Overall: <span class='{cls}'>{e(v['overall'].upper())}</span>. Trials (interleaved, same seeds): "
           f"baseline {v['trials_complete']['baseline']}, candidate {v['trials_complete']['candidate']} of {v['trials_planned']}. "
           f"Folder: <code>{e(v['folder'])}</code>; each build's own report is in <code>baseline/report.html</code> and "
           f"<code>candidate/report.html</code>.</p>",
           "<h2>Verdict per metric</h2><table><tr><th>metric</th><th>baseline, per trial</th><th>candidate, per trial</th>"
           "<th>difference (cand - base)</th><th>bootstrap interval (level)</th><th>threshold</th><th>Mann-Whitney p</th><th>verdict</th><th>why</th></tr>"]
    for r in v["metrics"]:
        ci = _ci(r)
        out.append(f"<tr><th style='text-align:left'>{e(r['label'])}</th><td>{e(', '.join(_num(x) for x in r['baseline']))}</td>"
                   f"<td>{e(', '.join(_num(x) for x in r['candidate']))}</td><td>{_num(r['diff'])}</td><td>{ci}</td>"
                   f"<td>{r['threshold']:.4g}</td><td>{_num(r['p_value'])}</td>"
                   f"<td class='{CLASS[r['verdict']]}'>{e(r['verdict'])}</td><td style='text-align:left'>{e(r['why'])}</td></tr>")
    out.append("</table><p>Lower is better for every metric. A difference counts when the interval excludes 0 and the "
               "mean difference exceeds the threshold; <i>no difference</i> needs the whole interval within the threshold; "
               "anything else is <i>not enough evidence</i>. The intervals' levels are Holm-adjusted over the metrics "
               "(95% for the family: a build against itself is called better or worse on any metric at most 5% of the time). Thresholds: the scenario's <code>compare.thresholds</code>, "
               "or <code>--threshold</code>.</p>")
    out.append("<h2>Curves, both builds on the same axes</h2><img alt='overlay' src='data:image/png;base64,"
               + base64.b64encode(overlay(runs, v['replicas_under_test'])).decode() + "'>")
    out.append("<h2>Each trial against the scenario's expectations</h2><table><tr><th>build</th><th>trial</th><th>verdict</th><th>failed</th></tr>")
    for role in ("baseline", "candidate"):
        for t in v["expectations"][role]:
            failed = "; ".join(f"{x['metric']} {x['op']} {x['value']} (measured {x['actual']})" for x in t["failed"]) or "-"
            out.append(f"<tr><td>{role}</td><td>{e(t['trial'])}</td><td class='{t['verdict']}'>{e(t['verdict'])}</td>"
                       f"<td style='text-align:left'>{e(failed)}</td></tr>")
    out.append("</table></body></html>")
    return "\n".join(out)
