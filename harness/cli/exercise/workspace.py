"""What an exercise is, and the workspace a participant gets: the buggy Go file to edit, a task, staged hints.

An exercise exists for a scenario whose pattern has its buggy and its fixed
build as Go files of their own (goservices/patterns/<pattern>/<build>.go): the
participant's file replaces the buggy one, and the run judges it by the fixed
variant's expectations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from harness import scenario as scenarios
from harness.errors import ScenarioError
from harness.host.tools import ROOT
from harness.scenario import Scenario

PATTERNS_DIR = ROOT / "goservices" / "patterns"
TEXTS_DIR = scenarios.SCENARIO_DIR / "exercises"  # hand-written task and hints, where a scenario has them
META = "exercise.json"
FILE = "handler.go"
VARIANT = "yours"  # the variant name the participant's build runs under


@dataclass(frozen=True)
class Exercise:
    scenario: Scenario
    fixed: str          # the variant whose expectations judge the participant's build
    buggy: str          # the variant whose code the participant starts from
    build: str          # the refsvc build the participant's file takes the place of
    source: Path        # goservices/patterns/<pkg>/<build>.go

    @property
    def replaces(self) -> str:
        return str(self.source.relative_to(ROOT))


def _source(pattern: str, build: str) -> Path:
    return PATTERNS_DIR / pattern.replace("-", "") / f"{build.replace('-', '')}.go"


def why_not(s: Scenario) -> str | None:
    """None when the scenario can be an exercise, else the sentence that says why not."""
    if s.pattern == "own-service":
        return f"{s.name} runs your own service: there is no reference code to fix."
    if s.backend != "local":
        return f"{s.name} runs in containers (backend: {s.backend}); exercises run on the local backend only."
    fixed, buggy = s.regress_variants()
    if fixed is None or buggy is None:
        return f"{s.name} has no buggy and fixed pair of variants (regress: {{fixed, buggy}})."
    bv, fv = s.variants[buggy], s.variants[fixed]
    if (bv.build or buggy) == (fv.build or fixed):
        return f"{s.name}'s {buggy} and {fixed} run the same code: the fix is a setting, not code to edit."
    settings = ("params", "service", "gateway", "load", "containers", "toxics")
    differ = [k for k in settings if getattr(bv, k) != getattr(fv, k)]
    if differ:
        return (f"{s.name}'s {fixed} changes settings besides the code ({', '.join(differ)}): "
                "the fix is not all in a file to edit.")
    for role, v in (("buggy", buggy), ("fixed", fixed)):
        build = s.variants[v].build or v
        if not _source(s.pattern, build).is_file():
            return (f"{s.name}'s {role} build {build!r} is a setting, not code of its own "
                    f"(no {_source(s.pattern, build).relative_to(ROOT)}): there is no file to fix.")
    return None


def exercise(name: str) -> Exercise:
    """The exercise of scenario `name`; a ScenarioError naming the known ones when there is none."""
    if name not in scenarios.available():
        raise ScenarioError(f"There is no scenario called {name!r}. Exercises: {', '.join(available())}.")
    s = scenarios.load(name)
    reason = why_not(s)
    if reason is not None:
        raise ScenarioError(f"No exercise for {name}: {reason} Exercises: {', '.join(available())}.")
    fixed, buggy = s.regress_variants()
    build = s.variants[buggy].build or buggy
    return Exercise(s, fixed, buggy, build, _source(s.pattern, build))


def available() -> list[str]:
    out = []
    for name in scenarios.available():
        try:
            if why_not(scenarios.load(name)) is None:
                out.append(name)
        except ScenarioError:
            continue
    return out


def judged(ex: Exercise) -> Scenario:
    """The scenario with one variant, VARIANT: the fixed variant's settings and expectations on the buggy build.

    The participant's binary runs `build` on the replicas under test; whatever it
    does is judged as the fixed build is, by the same load, faults and limits.
    """
    data = ex.scenario.model_dump(mode="json")
    v = data["variants"][ex.fixed]
    v.update(build=ex.build, description=f"your {FILE} in place of {ex.replaces}, judged as {ex.fixed}")
    data.update(variants={VARIANT: v}, default_variants=[VARIANT], regress={})
    return Scenario.model_validate(data)


def texts(ex: Exercise) -> tuple[str, list[str]]:
    """(TASK.md, [hint 1, 2, 3]): the scenario's hand-written ones, else made from its descriptions."""
    path = TEXTS_DIR / f"{ex.scenario.name}.yaml"
    if path.is_file():
        got = yaml.safe_load(path.read_text())
        return got["task"], list(got["hints"])
    s, v = ex.scenario, ex.scenario.variants
    task = (f"# Exercise: {s.name}\n\n{s.title}.\n\n{s.description.rstrip()}\n\n"
            f"`{FILE}` is the `{ex.buggy}` build ({v[ex.buggy].description or ex.replaces}). Fix it, keeping its "
            f"function names and signatures (refsvc calls them), then run `gatewaylab exercise check` in this folder.\n")
    expects = "\n".join(f"- {e.describe()}{' - ' + e.why if e.why else ''}" for e in v[ex.fixed].expect)
    hints = [
        "Run `gatewaylab exercise check` on the untouched file first: the verdict names the line where goroutines "
        "pile up, and the report shows what the gateway saw.\n",
        f"A fixed build must meet these, under the same load and faults:\n\n{expects}\n",
        f"The fix: {v[ex.fixed].description or ex.fixed}. `gatewaylab explain {s.name}` shows the reference diff.\n",
    ]
    return task, hints


def dial_limit(ex: Exercise) -> dict:
    """The calibrated dials-per-request limit of the exercise's file, if it has one (see verdict.py)."""
    path = TEXTS_DIR / f"{ex.scenario.name}.yaml"
    got = yaml.safe_load(path.read_text()) if path.is_file() else {}
    d = got.get("dials") if isinstance(got, dict) else None
    if not d:
        return {}
    return {"dials_per_request_max": float(d["per_request_max"]), "dials_reference": d["reference"]}


def start(ex: Exercise, folder: Path) -> list[Path]:
    """Write the workspace; never over an existing folder that holds anything."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ScenarioError(f"{folder} already exists and is not empty: an exercise never overwrites a workspace. "
                            f"Choose another folder with --dir, or remove this one.")
    task, hints = texts(ex)
    (folder / "hints").mkdir(parents=True, exist_ok=True)
    written = [folder / FILE, folder / "TASK.md"]
    (folder / FILE).write_text(ex.source.read_text())
    (folder / "TASK.md").write_text(task)
    for i, hint in enumerate(hints, 1):
        (folder / "hints" / f"{i}.md").write_text(hint)
        written.append(folder / "hints" / f"{i}.md")
    meta = {"scenario": ex.scenario.name, "pattern": ex.scenario.pattern, "file": FILE, "replaces": ex.replaces,
            "build": ex.build, "judged_as": ex.fixed, "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    (folder / META).write_text(json.dumps(meta, indent=1) + "\n")
    return written + [folder / META]


def open_workspace(folder: Path) -> tuple[Exercise, Path]:
    """(the exercise, the participant's file) of a workspace folder; a ScenarioError when it is none."""
    meta_path = folder / META
    if not meta_path.is_file():
        raise ScenarioError(f"{folder} is not an exercise workspace (no {META}). Start one with "
                            f"`gatewaylab exercise start NAME`, or give its folder: `gatewaylab exercise check DIR`.")
    try:
        meta = json.loads(meta_path.read_text())
        name, file = meta["scenario"], meta.get("file", FILE)
    except (ValueError, KeyError, TypeError):
        raise ScenarioError(f"{meta_path} is not readable as an exercise ({META} with a 'scenario' field).") from None
    if not isinstance(file, str) or "/" in file or not file.endswith(".go"):
        raise ScenarioError(f"{meta_path}: 'file' must name a .go file in the workspace, not {file!r}.")
    mine = folder / file
    if not mine.is_file():
        raise ScenarioError(f"{mine} is missing: the exercise's file to fix. Start a new workspace to get it back.")
    return exercise(name), mine
