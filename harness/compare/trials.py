"""Run two builds on one scenario, trials interleaved (A B A B ...), into one comparison folder.

reports/compare/<time>-<scenario>/
  compare.json            what was compared: scenario, builds, trials, seeds, thresholds
  baseline/, candidate/   ordinary run folders, one variant per trial (trial-1, trial-2, ...)
  builds/<role>/          build logs and binaries of git-revision builds
  verdict.json, comparison.html, comparison.md   (rebuilt by `gatewaylab report`)
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path


from harness.run import runner
from harness.compare.builds import Build
from harness.record.folder import RunFolder, stamped
from harness.scenario import Scenario, ScenarioError

MAX_TRIALS = 30


def trial_scenario(scenario: Scenario, variant: str, trials: int, build: Build) -> Scenario:
    """The scenario as one build runs it: `variant`'s settings, one variant per trial."""
    data = scenario.resolve(variant).model_dump(mode="json")
    v = data["variants"][variant]
    v["build"] = v["build"] or variant
    v["description"] = f"{build.role}: {build.describe()}. {v['description']}".strip()
    data["variants"] = {f"trial-{i}": v for i in range(1, trials + 1)}
    data["default_variants"] = list(data["variants"])
    data["regress"] = {}
    return Scenario.model_validate(data)


def new_folder(reports: Path, scenario: str) -> Path:
    return stamped(reports / "compare", scenario)


def run(scenario: Scenario, baseline: Build, candidate: Build, trials: int, folder: Path,
        thresholds: dict[str, float], deadline_s: float | None = None) -> None:
    """Every trial, interleaved. Raises what runner raises; the folder keeps what was gathered."""
    if not 1 <= trials <= MAX_TRIALS:
        raise ScenarioError(f"--trials takes a number from 1 to {MAX_TRIALS}.")
    builds = {"baseline": baseline, "candidate": candidate}
    scenarios = {role: trial_scenario(scenario, b.variant, trials, b) for role, b in builds.items()}
    for role, s in scenarios.items():
        (folder / role).mkdir()
        RunFolder.write(folder / role, s, list(s.variants))
    seeds = [1000 + i for i in range(1, trials + 1)]
    (folder / "compare.json").write_text(json.dumps({
        "scenario": scenario.name, "title": scenario.title, "trials": trials, "seeds": seeds,
        "order": [f"{role} trial-{i}" for i in range(1, trials + 1) for role in builds],
        "builds": {role: b.as_dict() for role, b in builds.items()},
        "thresholds": thresholds,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }, indent=2))
    steps = [
        runner.Step(scenarios[role], f"trial-{i}", b.tools, folder / role, service=b.service, seed=seeds[i - 1],
                    binary=b.binary)
        for i in range(1, trials + 1) for role, b in builds.items()
    ]
    per_trial = max(runner.default_deadline_s(scenarios[r], ["trial-1"]) for r in builds)
    print(f"gatewaylab: comparing {baseline.describe()} (baseline) with {candidate.describe()} (candidate) "
          f"on {scenario.name}, {trials} trial(s) each, interleaved", file=sys.stderr)
    runner.run_steps(steps, folder.parent.parent, folder.name, deadline_s or per_trial * len(steps))
