"""Scenario files: where they are, reading and validating one, and picking its variants."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from harness.errors import ScenarioError
from harness.scenario.model import Scenario
from harness.scenario.vocabulary import NAME

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


def available() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def find(name: str) -> Path:
    """A scenario name (or a path to a YAML file) -> its file."""
    if name.endswith((".yaml", ".yml")) or "/" in name:
        path = Path(name)
        if not path.is_file():
            raise ScenarioError(f"Scenario file {name} does not exist.")
        return path
    if not re.fullmatch(NAME, name) or not (SCENARIO_DIR / f"{name}.yaml").is_file():
        raise ScenarioError(
            f"There is no scenario called {name!r}. Known scenarios: {', '.join(available()) or 'none'}. "
            f"Run `gatewaylab list` to see them with their titles."
        )
    return SCENARIO_DIR / f"{name}.yaml"


def parse(text: str, source: str) -> Scenario:
    """Validate YAML text; every problem becomes one ScenarioError naming the file and field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ScenarioError(f"{source}: this is not valid YAML ({e}). Fix the syntax and try again.") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario must be a YAML mapping of fields (name, pattern, replicas, ...).")
    return _validated(data, source)


def on_backend(scenario: Scenario, backend: str | None) -> Scenario:
    """The scenario on another backend (--backend), validated again: limits and probes need docker."""
    if backend is None or backend == scenario.backend:
        return scenario
    return _validated({**scenario.model_dump(mode="json"), "backend": backend}, f"{scenario.name} with --backend {backend}")


def on_gateway(scenario: Scenario, kind: str | None) -> Scenario:
    """The scenario behind another gateway (--gateway), validated again."""
    if kind is None or kind == scenario.gateway.kind:
        return scenario
    data = scenario.model_dump(mode="json")
    data["gateway"]["kind"] = kind
    return _validated(data, f"{scenario.name} with --gateway {kind}")


def on_load(scenario: Scenario, model: str | None = None, workers: str | None = None) -> Scenario:
    """The scenario with another load model (--load-model) or number of Locust processes (--load-workers)."""
    if model is None and workers is None:
        return scenario
    data = scenario.model_dump(mode="json")
    if model is not None:
        data["load"]["model"] = model
    if workers is not None:
        data["load"]["workers"] = workers if workers == "auto" else int(workers) if workers.isdigit() else workers
    flags = " ".join(f for f in (model and f"--load-model {model}", workers and f"--load-workers {workers}") if f)
    return _validated(data, f"{scenario.name} with {flags}")


def _validated(data: dict, source: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        lines = []
        for err in e.errors(include_url=False):
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"  {where}: {msg}")
        raise ScenarioError(f"{source} is not a valid scenario:\n" + "\n".join(lines)) from None


def load(name: str) -> Scenario:
    path = find(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"Cannot read scenario file {path}: {e}.") from None
    return parse(text, str(path))


def pick_variants(scenario: Scenario, wanted: list[str] | None) -> list[str]:
    """None -> the defaults; ['all'] -> every variant; otherwise each name checked."""
    if not wanted:
        return list(scenario.default_variants)
    if wanted == ["all"]:
        return list(scenario.variants)
    for v in wanted:
        if v not in scenario.variants:
            raise ScenarioError(
                f"Scenario {scenario.name!r} has no variant {v!r}. Its variants: {', '.join(scenario.variants)} (or 'all')."
            )
    return list(dict.fromkeys(wanted))
