"""How often `compare` calls a build different from itself (`gatewaylab false-alarm`, in cli/falsealarm.py).

Trials of one build are exchangeable, so recorded runs of one variant can be
re-paired into many build-vs-itself comparisons without running anything: each
comparison draws 2k distinct trials at random, k a side, and is judged by the
code `compare` uses (verdict.judge: same metrics, same thresholds), three ways:
"corrected" as compare judges now (Holm over the metrics), "uncorrected" (each
metric alone at 95%), and "bootstrap_only" (95% bootstrap alone: the verdict
before the correction).

reports/false-alarm/<time>-<scenario>/false-alarm.json holds the figures, the
trials used and what was left out (incomplete runs, runs of other settings).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.compare import calibration
from harness import scenario as scenarios
from harness.compare.stats import BETTER, SAME, UNSURE, WORSE
from harness.compare.verdict import judge, overall

MIN_TRIALS = 40   # fewer and the re-pairings of 3 + 3 overlap so much that 1000 of them say little more than 40
GOAL = 0.05       # at most this share of build-vs-itself comparisons may claim any difference
MODES = {"corrected": (True, True), "uncorrected": (False, True), "bootstrap_only": (False, False)}  # (Holm, t)


def collect(scenario: scenarios.Scenario, variant: str, run_dirs: list[Path]) -> tuple[list[dict], list[str]]:
    """Complete trials of `variant` recorded with today's settings of the scenario; and what was left out, why."""
    got, skipped = [], []
    for d in run_dirs:
        try:  # one folder at a time: a run still being recorded, or broken, is left out, not fatal
            one, why = calibration.collect(scenario, [Path(d)], [variant])
        except Exception as e:
            skipped.append(f"{Path(d).name}/{variant}: unreadable ({type(e).__name__}: {e})")
            continue
        got += one[variant]
        skipped += why
    return got, skipped


def repairings(n: int, k: int, count: int, seed: int) -> np.ndarray:
    """count x 2k trial indices: in each row the first k are the baseline, the next k the candidate, all distinct."""
    rng = np.random.default_rng(seed)
    return np.array([rng.permutation(n)[: 2 * k] for _ in range(count)], dtype=int)


def measure(tested: list[str], trials: list[dict], k: int, count: int, seed: int,
            thresholds: dict[str, float]) -> dict:
    """Both modes' figures over `count` re-paired build-vs-itself comparisons."""
    tally = {mode: {"claims": 0, "overall": {}, "metrics": {}} for mode in MODES}
    for row in repairings(len(trials), k, count, seed):
        base, cand = [trials[i] for i in row[:k]], [trials[i] for i in row[k:]]
        for mode, (holm, use_t) in MODES.items():
            rows = judge(tested, base, cand, thresholds, correct=holm, use_t=use_t)
            t = tally[mode]
            t["claims"] += any(r["verdict"] in (BETTER, WORSE) for r in rows)
            word = overall(rows, True)
            t["overall"][word] = t["overall"].get(word, 0) + 1
            for r in rows:
                per = t["metrics"].setdefault(r["metric"], {"label": r["label"], "judged": 0, BETTER: 0, WORSE: 0,
                                                            SAME: 0, UNSURE: 0, "trials_needed": []})
                per["judged"] += 1
                per[r["verdict"]] += 1
                if r.get("trials_needed") and r["trials_needed"] > k:
                    per["trials_needed"].append(r["trials_needed"])
    out = {}
    for mode, t in tally.items():
        metrics = {}
        for key, per in t["metrics"].items():
            need = per.pop("trials_needed")
            metrics[key] = {**per, "claim_rate": (per[BETTER] + per[WORSE]) / per["judged"],
                            "unsure_rate": per[UNSURE] / per["judged"],
                            "need_more_trials": len(need),
                            "trials_needed_median": float(np.median(need)) if need else None}
        out[mode] = {"any_claim_rate": t["claims"] / count,
                     "not_enough_evidence_rate": t["overall"].get("not enough evidence", 0) / count,
                     "overall": t["overall"], "metrics": metrics}
    return out


def live(folders: list[Path]) -> list[dict]:
    """Live build-vs-itself comparisons, judged as compare does now and without the correction."""
    from harness.compare import verdict

    out = []
    for f in folders:
        v, runs = verdict.evaluate(f)
        trials = {role: [s for s in runs[role][0]["variants"].values() if s["complete"]] for role in verdict.ROLES}
        rows = {mode: judge(v["replicas_under_test"], trials["baseline"], trials["candidate"],
                            verdict.load_meta(f).get("thresholds", {}), correct=holm, use_t=use_t)
                for mode, (holm, use_t) in MODES.items()}
        out.append({"folder": str(f), "trials": v["trials_complete"],
                    "claims": {mode: _claims(r) for mode, r in rows.items()},
                    "overall": {mode: overall(r, v["complete"]) for mode, r in rows.items()}})
    return out


def _claims(rows: list[dict]) -> list[str]:
    return [f"{r['metric']}: {r['verdict']}" for r in rows if r["verdict"] in (BETTER, WORSE)]
