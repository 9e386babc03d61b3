"""A comparison folder -> verdict.json: per metric, both builds' per-trial values and the verdict.

Pure: reads the two run folders (rebuilding their summaries) and compare.json.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from harness.analysis import records
from harness.analysis.summary import summarize
from harness.compare import metrics as m
from harness.compare.stats import ALPHA, BETTER, SAME, UNSURE, WORSE, decide, holm_levels, interval_p
from harness.errors import RunError
from harness.record.folder import RunFolder

ROLES = ("baseline", "candidate")


def load_meta(folder: Path) -> dict:
    path = Path(folder) / "compare.json"
    if not path.exists():
        raise RunError(f"{folder} is not a comparison folder (no compare.json). Pass one under reports/compare/.")
    return json.loads(path.read_text())


def evaluate(folder: Path) -> tuple[dict, dict]:
    """(verdict, {role: (run summary, variant data)}) for a comparison folder."""
    folder = Path(folder)
    meta = load_meta(folder)
    runs = {role: summarize(folder / role) for role in ROLES if RunFolder(folder / role).exists()}
    if set(runs) != set(ROLES):
        raise RunError(f"{folder} lacks the {' and '.join(set(ROLES) - set(runs))} run folder; it cannot be compared.")
    trials = {role: [v for v in runs[role][0]["variants"].values() if v["complete"]] for role in ROLES}
    scenario = records.scenario(folder / "baseline")
    tested = m.under_test(scenario)
    rows = judge(tested, trials["baseline"], trials["candidate"], meta.get("thresholds", {}))
    expectations = {
        role: [{"trial": s["variant"], "verdict": s["verdict"],
                "failed": [e for e in s["expectations"] if not e["holds"]]} for s in trials[role]]
        for role in ROLES
    }
    planned = meta["trials"]
    complete = all(len(trials[r]) == planned for r in ROLES)
    counts = {k: sum(1 for r in rows if r["verdict"] == k) for k in (BETTER, WORSE, SAME, UNSURE)}
    verdict = {
        "scenario": meta["scenario"], "title": meta.get("title", ""), "folder": str(folder),
        "builds": meta["builds"], "trials_planned": planned, "replicas_under_test": tested,
        "trials_complete": {r: len(trials[r]) for r in ROLES},
        "complete": complete,
        "metrics": rows, "counts": counts, "expectations": expectations,
        "correction": {"method": "holm", "family_alpha": ALPHA, "metrics": len(rows)},
        "overall": overall(rows, complete),
    }
    return verdict, runs


def judge(tested: list[str], base: list[dict], cand: list[dict], thresholds: dict[str, float],
          correct: bool = True, use_t: bool = True) -> list[dict]:
    """A row per metric for two builds' trial summaries: what `compare` and `false-alarm` both judge with.

    correct: Holm over the metrics of this one comparison (each interval at its
    Holm level); False judges each metric alone at 95%, and use_t=False with the
    bootstrap alone, as before (both kept so that false-alarm can show the difference).
    """
    rows = []
    for metric in m.metrics_for(tested, base + cand):
        vals = ([m.value(s, metric.key) for s in base], [m.value(s, metric.key) for s in cand])
        thr = m.threshold(metric, vals[0], thresholds)
        rows.append((metric, vals, thr, _p(*vals, hash_seed(metric.key), use_t) if correct else None))
    levels = holm_levels([p for *_, p in rows]) if correct else [ALPHA] * len(rows)
    out = []
    for (metric, vals, thr, _), level in zip(rows, levels):
        v = decide(vals[0], vals[1], thr, seed=hash_seed(metric.key), confidence=1 - level, use_t=use_t)
        out.append({"metric": metric.key, "label": metric.label, "kind": metric.kind,
                    "baseline": vals[0], "candidate": vals[1], **v.as_dict()})
    return out


def _p(base: list, cand: list, seed: int, use_t: bool) -> float | None:
    """The interval's p-value, or None for a metric that gets no interval (a side without 2 values)."""
    a, b = ([float(x) for x in xs if x is not None and not math.isnan(x)] for xs in (base, cand))
    return interval_p(a, b, seed, use_t) if len(a) >= 2 and len(b) >= 2 else None


def overall(rows: list[dict], complete: bool) -> str:
    if any(r["verdict"] == WORSE for r in rows):
        return "candidate worse"
    if not complete:
        return "incomplete"
    if any(r["verdict"] == BETTER for r in rows):
        return "candidate better"
    if all(r["verdict"] == SAME for r in rows):
        return "no difference"
    return "not enough evidence"


def hash_seed(text: str) -> int:
    """A stable seed per metric (Python's hash() changes per process)."""
    return sum((i + 1) * ord(c) for i, c in enumerate(text))


def write(folder: Path) -> tuple[dict, Path]:
    from harness.compare import report
    from harness.report import build

    folder = Path(folder)
    for role in ROLES:
        if RunFolder(folder / role).exists():
            build.write(folder / role)  # each build's own report, next to its data
    verdict, runs = evaluate(folder)
    (folder / "verdict.json").write_text(json.dumps(verdict, indent=2, default=str))
    (folder / "comparison.md").write_text(report.markdown(verdict))
    out = folder / "comparison.html"
    out.write_text(report.render_html(verdict, runs))
    return verdict, out
