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
from harness.scenario import Scenario, ScenarioError, UserService
from harness.host.tools import Tools

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


def prepare(scenario: Scenario, baseline: Build, candidate: Build, trials: int, folder: Path,
            thresholds: dict[str, float], jobs: int = 1) -> tuple[list[runner.Step], float]:
    """The folder (compare.json, one run folder per build) and its steps in order; the deadline of one trial."""
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
        "jobs": jobs,  # trials side by side: each pair of trial-i shares the machine with the others running
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
    return steps, per_trial


def run(scenario: Scenario, baseline: Build, candidate: Build, trials: int, folder: Path,
        thresholds: dict[str, float], deadline_s: float | None = None) -> None:
    """Every trial, interleaved. Raises what runner raises; the folder keeps what was gathered."""
    steps, per_trial = prepare(scenario, baseline, candidate, trials, folder, thresholds)
    print(f"gatewaylab: comparing {baseline.describe()} (baseline) with {candidate.describe()} (candidate) "
          f"on {scenario.name}, {trials} trial(s) each, interleaved", file=sys.stderr)
    runner.run_steps(steps, folder.parent.parent, folder.name, deadline_s or per_trial * len(steps))


def step(folder: Path, role: str, trial: int, tools: Tools) -> runner.Step:
    """One trial's step rebuilt from the folder alone (what `compare --jobs` hands each child)."""
    if not (folder / "compare.json").is_file():
        raise ScenarioError(f"{folder} is not a prepared comparison folder (no compare.json); "
                            "`gatewaylab compare --jobs N` makes one and starts its trials.")
    meta = json.loads((folder / "compare.json").read_text())
    if role not in meta["builds"] or not 1 <= trial <= meta["trials"]:
        raise ScenarioError(f"{folder} has no {role} trial-{trial}: its builds are {', '.join(meta['builds'])}, "
                            f"trials 1 to {meta['trials']}.")
    b = meta["builds"][role]
    service = UserService.model_validate(b["service"]) if b["service"] else None
    binary = Path(b["refsvc"]) if b["ref"] else None
    return runner.Step(RunFolder(folder / role).scenario(), f"trial-{trial}", tools, folder / role,
                       service=service, seed=meta["seeds"][trial - 1], binary=binary)
