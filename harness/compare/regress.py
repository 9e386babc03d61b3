"""`gatewaylab regress`: the pre-release suite.

Per scenario, on the candidate build: the fixed variant meets its
expectations in every trial, the buggy variant still reproduces (meets its
own), and fixed is not worse than buggy on any compared metric. With a
baseline revision, the candidate's fixed variant is also compared with the
baseline's. Scenarios without a fixed variant only check that each default
variant still reproduces.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from harness.compare import junit, trials, verdict
from harness.compare.builds import Build
from harness.scenario import Scenario

Result = tuple[list[junit.Case], int]


def expectation_cases(suite: str, what: str, v: dict, role: str, seconds: float, lost: bool) -> list[junit.Case]:
    """One case: every trial of `role` met the scenario's expectations for its variant."""
    failed = [(t["trial"], e) for t in v["expectations"][role] for e in t["failed"]]
    missing = v["trials_planned"] - v["trials_complete"][role]
    if not failed and not missing:
        n = v["trials_complete"][role]
        return [junit.Case(suite, what, "pass", f"all {n} trial(s) met every expectation", seconds)]
    parts = [f"{trial}: {e['metric']} {e['op']} {e['value']} (measured {e['actual']})" for trial, e in failed]
    if missing:
        parts.append(f"{missing} trial(s) did not complete")
    head = "the buggy build no longer reproduces: " if lost else "regression: "
    return [junit.Case(suite, what, "fail", head + "; ".join(parts), seconds)]


def one(scenario: Scenario, candidate: Build, baseline: Build | None, n: int, reports: Path,
        overrides: dict[str, float]) -> list[junit.Case]:
    suite = scenario.name
    fixed, buggy = scenario.regress_variants()
    thresholds = {**scenario.compare.thresholds, **overrides}
    cases: list[junit.Case] = []
    if fixed is None:  # nothing to compare: each default variant must still reproduce
        for var in scenario.default_variants:
            cases += _reproduce_only(scenario, replace(candidate, variant=var), n, reports, thresholds)
        return cases
    if buggy is not None:
        t = time.monotonic()
        folder = trials.new_folder(reports, scenario.name)
        print(f"gatewaylab regress: {suite}: {buggy} vs {fixed} ({candidate.describe()}) -> {folder}", file=sys.stderr)
        trials.run(scenario, replace(candidate, role="baseline", variant=buggy),
                   replace(candidate, role="candidate", variant=fixed), n, folder, thresholds)
        v, _ = verdict.write(folder)
        secs = time.monotonic() - t
        cases += expectation_cases(suite, f"{fixed} meets its expectations", v, "candidate", secs, lost=False)
        cases += expectation_cases(suite, f"{buggy} still reproduces", v, "baseline", 0, lost=True)
        cases += junit.from_verdict(suite, f"{fixed} not worse than {buggy}", v)
    if baseline is not None:
        t = time.monotonic()
        folder = trials.new_folder(reports, scenario.name)
        print(f"gatewaylab regress: {suite}: {fixed} of {baseline.describe()} vs {candidate.describe()} -> {folder}",
              file=sys.stderr)
        trials.run(scenario, replace(baseline, variant=fixed), replace(candidate, variant=fixed), n, folder, thresholds)
        v, _ = verdict.write(folder)
        if buggy is None:
            cases += expectation_cases(suite, f"{fixed} meets its expectations", v, "candidate", time.monotonic() - t, lost=False)
        cases += junit.from_verdict(suite, f"{fixed}: candidate not worse than baseline", v, time.monotonic() - t)
    elif buggy is None:
        cases += _reproduce_only(scenario, replace(candidate, variant=fixed), n, reports, thresholds)
    return cases


def _reproduce_only(scenario: Scenario, build: Build, n: int, reports: Path, thresholds: dict) -> list[junit.Case]:
    """The variant against its expectations, in n trials (a comparison of the build with itself is not needed)."""
    from harness import runner
    from harness.report import build as report

    t = time.monotonic()
    s = trials.trial_scenario(scenario, build.variant, n, build)
    run_dir = runner.prepare(s, list(s.variants), reports)
    print(f"gatewaylab regress: {scenario.name}: {build.variant} ({build.describe()}) -> {run_dir}", file=sys.stderr)
    runner.run_steps([runner.Step(s, v, build.tools, run_dir, service=build.service, seed=1000 + i)
                      for i, v in enumerate(s.variants, 1)], reports, run_dir.name,
                     runner.default_deadline_s(s, list(s.variants)))
    summary, _ = report.write(run_dir)
    trials_ = [{"trial": k, "verdict": x["verdict"], "failed": [e for e in x["expectations"] if not e["holds"]]}
               for k, x in summary["variants"].items()]
    v = {"expectations": {"candidate": trials_}, "trials_planned": n,
         "trials_complete": {"candidate": sum(1 for x in summary["variants"].values() if x["complete"])}}
    return expectation_cases(scenario.name, f"{build.variant} still reproduces", v, "candidate",
                             time.monotonic() - t, lost=True)


def summary_line(cases: list[junit.Case]) -> str:
    bad = [c for c in cases if c.outcome in ("fail", "error")]
    return (f"{len(cases)} checks, {len(bad)} failed" + ("" if not bad else ":\n" + "\n".join(
        f"  {c.suite}: {c.name}: {c.message}" for c in bad)))


def write_index(cases: list[junit.Case], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "regress.json").write_text(json.dumps([c.__dict__ for c in cases], indent=2))
