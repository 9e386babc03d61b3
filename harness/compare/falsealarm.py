"""`gatewaylab false-alarm`: how often `compare` calls a build different from itself.

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

import json
import sys
from pathlib import Path

import numpy as np

from harness.compare import calibration
from harness import scenario as scenarios
from harness.compare import metrics as m
from harness.compare.stats import BETTER, SAME, UNSURE, WORSE
from harness.compare.verdict import judge, overall
from harness.errors import RunError, ScenarioError
from harness.host.tools import ROOT
from harness.record.folder import stamped

MIN_TRIALS = 40   # fewer and the re-pairings of 3 + 3 overlap so much that 1000 of them say little more than 40
GOAL = 0.05       # at most this share of build-vs-itself comparisons may claim any difference
MODES = {"corrected": (True, True), "uncorrected": (False, True), "bootstrap_only": (False, False)}  # (Holm, t)


def add_parser(sub) -> None:
    p = sub.add_parser("false-alarm", help="how often compare calls a build different from itself, "
                                           "from re-paired recorded trials")
    p.add_argument("name", help="scenario name or YAML path")
    p.add_argument("--variant", default="fixed", help="the build whose recorded trials are re-paired (default: fixed)")
    p.add_argument("--comparisons", type=int, default=1000, help="re-paired comparisons to judge (default 1000)")
    p.add_argument("--trials", type=int, default=3, help="trials a side in each comparison (default 3, as compare)")
    p.add_argument("--seed", type=int, default=0, help="seed of the re-pairings (default 0: the same every time)")
    p.add_argument("--from", dest="runs", nargs="+", type=Path, metavar="RUN_DIR",
                   help="use these run folders (default: every recorded run of the scenario under reports/runs)")
    p.add_argument("--live", nargs="+", type=Path, default=[], metavar="COMPARE_DIR",
                   help="also judge these live build-vs-itself comparison folders (reports/compare/...), both ways")
    p.add_argument("--threshold", action="append", default=[], metavar="METRIC=VALUE",
                   help="as for compare: smallest difference worth a verdict, per metric kind or path")
    p.add_argument("--reports", type=Path, default=ROOT / "reports",
                   help="where recorded runs are and results go (default: reports/)")


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


def run(args) -> int:
    from harness.cli.compare import thresholds as parse_thresholds

    s = scenarios.load(args.name)
    if args.variant not in s.variants:
        raise ScenarioError(f"--variant {args.variant!r}: scenario {s.name!r} has no such variant; "
                            f"its variants: {', '.join(s.variants)}.")
    if args.trials < 2 or args.comparisons < 1:
        raise ScenarioError("--trials takes 2 or more (one trial a side gets no interval) and --comparisons 1 or more.")
    over = parse_thresholds(args.threshold)
    run_dirs = list(args.runs) if args.runs else calibration.recorded_runs(args.reports, s.name)
    trials, skipped = collect(s, args.variant, run_dirs)
    if len(trials) < max(MIN_TRIALS, 2 * args.trials):
        raise RunError(
            f"Only {len(trials)} complete recorded trial(s) of {s.name} {args.variant} with today's settings were found "
            f"in {len(run_dirs)} run folder(s) ({len(skipped)} left out); re-pairing needs at least "
            f"{max(MIN_TRIALS, 2 * args.trials)}. Record more, one at a time: "
            f"`gatewaylab run {s.name} --variant {args.variant}` (about 75 s each), then run this again.")
    thresholds = {**s.compare.thresholds, **over}
    print(f"gatewaylab: {args.comparisons} re-paired comparisons of {args.trials} vs {args.trials} from "
          f"{len(trials)} recorded {args.variant} trials of {s.name}", file=sys.stderr)
    figures = measure(m.under_test(s), trials, args.trials, args.comparisons, args.seed, thresholds)
    result = {
        "scenario": s.name, "variant": args.variant, "trials_found": len(trials),
        "runs": [t["run"] for t in trials], "skipped": skipped, "comparisons": args.comparisons,
        "trials_per_side": args.trials, "seed": args.seed, "thresholds": thresholds, "goal": GOAL,
        **figures, "live": live(args.live),
        "ok": figures["corrected"]["any_claim_rate"] <= GOAL,
    }
    folder = stamped(args.reports / "false-alarm", s.name)
    (folder / "false-alarm.json").write_text(json.dumps(result, indent=1))
    print(text(result))
    print(f"\nFalse-alarm figures: {folder / 'false-alarm.json'}")
    return 0 if result["ok"] else 1


def text(r: dict) -> str:
    c, u, b = r["corrected"], r["uncorrected"], r["bootstrap_only"]
    lines = [f"{r['scenario']} {r['variant']} vs itself: {r['comparisons']} comparisons of {r['trials_per_side']} vs "
             f"{r['trials_per_side']} trials from {r['trials_found']} recorded trials",
             f"  claimed any difference: {c['any_claim_rate']:.1%} with the Holm correction, "
             f"{u['any_claim_rate']:.1%} without, {b['any_claim_rate']:.1%} with the bootstrap alone "
             f"(goal: at most {r['goal']:.0%})",
             f"  overall 'not enough evidence': {c['not_enough_evidence_rate']:.1%} corrected, "
             f"{u['not_enough_evidence_rate']:.1%} uncorrected, {b['not_enough_evidence_rate']:.1%} bootstrap alone",
             f"  {'metric':<50} {'judged':>6} {'claims':>7} {'uncorr.':>7} {'boot.':>7} {'unsure':>7} {'need N':>7}"]
    for key, per in c["metrics"].items():
        need = "-" if per["trials_needed_median"] is None else f"{per['trials_needed_median']:g}"
        lines.append(f"  {per['label'][:50]:<50} {per['judged']:>6} {per['claim_rate']:>7.1%} "
                     f"{u['metrics'].get(key, {}).get('claim_rate', 0):>7.1%} "
                     f"{b['metrics'].get(key, {}).get('claim_rate', 0):>7.1%} {per['unsure_rate']:>7.1%} {need:>7}")
    lines.append("  (claims: share of comparisons calling the metric better or worse; unsure: not enough evidence, "
                 "corrected; need N: median trials a side asked for when the spread is too wide)")
    for x in r["live"]:
        lines.append(f"  live {Path(x['folder']).name}: {x['overall']['corrected']} (uncorrected: "
                     f"{x['overall']['uncorrected']}); claims: {', '.join(x['claims']['corrected']) or 'none'}")
    return "\n".join(lines)
