"""`gatewaylab false-alarm`: the command around compare/falsealarm.py, and its printed table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from harness import scenario as scenarios
from harness.cli.compare import thresholds as parse_thresholds
from harness.compare import calibration, falsealarm
from harness.compare import metrics as m
from harness.errors import RunError, ScenarioError
from harness.host.tools import ROOT
from harness.record.folder import stamped


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


def run(args) -> int:
    s = scenarios.load(args.name)
    if args.variant not in s.variants:
        raise ScenarioError(f"--variant {args.variant!r}: scenario {s.name!r} has no such variant; "
                            f"its variants: {', '.join(s.variants)}.")
    if args.trials < 2 or args.comparisons < 1:
        raise ScenarioError("--trials takes 2 or more (one trial a side gets no interval) and --comparisons 1 or more.")
    over = parse_thresholds(args.threshold)
    run_dirs = list(args.runs) if args.runs else calibration.recorded_runs(args.reports, s.name)
    trials, skipped = falsealarm.collect(s, args.variant, run_dirs)
    if len(trials) < max(falsealarm.MIN_TRIALS, 2 * args.trials):
        raise RunError(
            f"Only {len(trials)} complete recorded trial(s) of {s.name} {args.variant} with today's settings were found "
            f"in {len(run_dirs)} run folder(s) ({len(skipped)} left out); re-pairing needs at least "
            f"{max(falsealarm.MIN_TRIALS, 2 * args.trials)}. Record more, one at a time: "
            f"`gatewaylab run {s.name} --variant {args.variant}` (about 75 s each), then run this again.")
    thresholds = {**s.compare.thresholds, **over}
    print(f"gatewaylab: {args.comparisons} re-paired comparisons of {args.trials} vs {args.trials} from "
          f"{len(trials)} recorded {args.variant} trials of {s.name}", file=sys.stderr)
    figures = falsealarm.measure(m.under_test(s), trials, args.trials, args.comparisons, args.seed, thresholds)
    result = {
        "scenario": s.name, "variant": args.variant, "trials_found": len(trials),
        "runs": [t["run"] for t in trials], "skipped": skipped, "comparisons": args.comparisons,
        "trials_per_side": args.trials, "seed": args.seed, "thresholds": thresholds, "goal": falsealarm.GOAL,
        **figures, "live": falsealarm.live(args.live),
        "ok": figures["corrected"]["any_claim_rate"] <= falsealarm.GOAL,
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
