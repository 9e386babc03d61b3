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
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from harness.compare import junit, trials, verdict
from harness.compare.builds import Build
from harness.report import pages
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
        overrides: dict[str, float], reports_made: list[Path] | None = None) -> list[junit.Case]:
    """The checks of one scenario; the report of each comparison or run is appended to reports_made."""
    made = reports_made if reports_made is not None else []
    suite = scenario.name
    fixed, buggy = scenario.regress_variants()
    thresholds = {**scenario.compare.thresholds, **overrides}
    cases: list[junit.Case] = []
    if fixed is None:  # nothing to compare: each default variant must still reproduce
        for var in scenario.default_variants:
            cases += _reproduce_only(scenario, replace(candidate, variant=var), n, reports, made)
        return cases
    if buggy is not None:
        t = time.monotonic()
        folder = trials.new_folder(reports, scenario.name)
        print(f"gatewaylab regress: {suite}: {buggy} vs {fixed} ({candidate.describe()}) -> {folder}", file=sys.stderr)
        trials.run(scenario, replace(candidate, role="baseline", variant=buggy),
                   replace(candidate, role="candidate", variant=fixed), n, folder, thresholds)
        v, html = verdict.write(folder)
        made.append(html)
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
        v, html = verdict.write(folder)
        made.append(html)
        if buggy is None:
            cases += expectation_cases(suite, f"{fixed} meets its expectations", v, "candidate", time.monotonic() - t, lost=False)
        cases += junit.from_verdict(suite, f"{fixed}: candidate not worse than baseline", v, time.monotonic() - t)
    elif buggy is None:
        cases += _reproduce_only(scenario, replace(candidate, variant=fixed), n, reports, made)
    return cases


def _reproduce_only(scenario: Scenario, build: Build, n: int, reports: Path, made: list[Path]) -> list[junit.Case]:
    """The variant against its expectations, in n trials (a comparison of the build with itself is not needed)."""
    from harness.run import runner
    from harness.report import build as report

    t = time.monotonic()
    s = trials.trial_scenario(scenario, build.variant, n, build)
    run_dir = runner.prepare(s, list(s.variants), reports)
    print(f"gatewaylab regress: {scenario.name}: {build.variant} ({build.describe()}) -> {run_dir}", file=sys.stderr)
    runner.run_steps([runner.Step(s, v, build.tools, run_dir, service=build.service, seed=1000 + i, binary=build.binary)
                      for i, v in enumerate(s.variants, 1)], reports, run_dir.name,
                     runner.default_deadline_s(s, list(s.variants)))
    summary, html = report.write(run_dir)
    made.append(html)
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


def write_index(cases: list[junit.Case], folder: Path, reports_made: list[Path]) -> Path:
    """regress.json and index.html: every check, and a link to every comparison's report."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "regress.json").write_text(json.dumps({"cases": [c.__dict__ for c in cases],
                                                     "reports": [str(p) for p in reports_made]}, indent=2))
    bad = sum(c.outcome in ("fail", "error") for c in cases)
    reports = [(os.path.relpath(p, folder), str(p)) for p in reports_made]
    (folder / "index.html").write_text(pages.render("regress.html.j2", failed=bad, cases=cases, reports=reports))
    return folder / "index.html"
