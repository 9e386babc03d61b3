"""The run folder: the one format everything after the run reads, and nothing else.

    <reports>/runs/<UTC time>-<scenario>/
      run.json          format, scenario name, planned variants
      scenario.yaml     the scenario as resolved when the run started
      journal.jsonl     every step with its time and outcome
      variants/<v>/     meta.json, stack.json, requests.jsonl, samples.jsonl, toxics.jsonl,
                        goroutines/, the gateway's folder: nginx/ (access.log, error.log), haproxy/
                        (haproxy.cfg; its log is logs/haproxy.log), caddy/ (caddy.json, caddy.log) or traefik/
                        (traefik.yaml, dynamic.yaml, access.log, traefik.log),
                        gateway.jsonl (the gateway's own view of its members, where it has an API),
                        logs/, locust/ (load.json), capture/, containers.jsonl, cgroups.jsonl (the container backend)
      summary.json, summary.md, report.html   (rebuilt from the rest at any time)

Records are plain files written as they happen, so a run cut short (Ctrl-C,
SIGKILL, a full disk) leaves a folder that still reads: a JSON line cut
short at the end of a file is skipped; damage anywhere else is an error.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import yaml
from pydantic import ValidationError

from harness.errors import RunError
from harness.scenario import Scenario

# 1: folders written before run.json carried a format (until 2026-12-03); same files, read alike.
# 2: run.json says {"format": 2}.
FORMAT = 2

RUN = "run.json"
SCENARIO = "scenario.yaml"
JOURNAL = "journal.jsonl"
SUMMARY = "summary.json"
SUMMARY_MD = "summary.md"
REPORT = "report.html"
VARIANTS = "variants"
# in a variant's folder
META = "meta.json"
STACK = "stack.json"
REQUESTS = "requests.jsonl"
SAMPLES = "samples.jsonl"
TOXICS = "toxics.jsonl"
GOROUTINES = "goroutines"
NGINX = "nginx"
GATEWAY_STATE = "gateway.jsonl"
LOGS = "logs"
LOCUST = "locust"
CAPTURE = "capture"
# the container backend only: engine and kubelet events, and each container's cgroup counters
CONTAINERS = "containers.jsonl"
CGROUPS = "cgroups.jsonl"


def stamped(parent: Path, name: str = "") -> Path:
    """parent/<UTC time>-<name> (or parent/<UTC time>), made now; -2, -3, ... when two start in the same second."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = parent / (f"{stamp}-{name}" if name else stamp)
    path, n = base, 1
    while True:
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            n += 1
            path = base.with_name(f"{base.name}-{n}")


def read_jsonl(path: Path) -> list[dict]:
    """The rows of a JSON-lines file; [] when it is missing. A last line cut short
    (the writer was killed mid-line) is skipped; a bad line before it is damage."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    rows = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError:
            if i == len(lines):
                break  # cut short by an interrupted run
            raise RunError(f"{path}, line {i}: not a JSON record ({line[:60]!r}...). The file is damaged; "
                           "re-run the scenario to get a clean record.") from None
    return rows


def read_json(path: Path, default=None):
    """A JSON file, or default when it is missing (a run stopped before writing it)."""
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise RunError(f"{path} is not valid JSON: the run was cut short while writing it. Re-run the scenario.") from None


def write_json(path: Path, data, **kw) -> None:
    path.write_text(json.dumps(data, indent=2, **kw))


class RunFolder:
    """One run's folder: its names, its header files, and reading them by its format's rules."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    @classmethod
    def create(cls, parent: Path, scenario: Scenario, variants: list[str]) -> "RunFolder":
        """A new timestamped folder under parent, with the resolved scenario, before anything starts."""
        return cls.write(stamped(parent, scenario.name), scenario, variants)

    @classmethod
    def write(cls, path: Path, scenario: Scenario, variants: list[str]) -> "RunFolder":
        path.mkdir(parents=True, exist_ok=True)
        (path / SCENARIO).write_text(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False))
        write_json(path / RUN, {"format": FORMAT, "scenario": scenario.name, "variants": variants})
        return cls(path)

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def exists(self) -> bool:
        return (self.path / SCENARIO).exists()

    def format(self) -> int:
        header = read_json(self.path / RUN, {})
        fmt = header.get("format", 1)
        if not isinstance(fmt, int) or fmt < 1:
            raise RunError(f"{self.path / RUN}: format {fmt!r} is not a run-folder format.")
        if fmt > FORMAT:
            raise RunError(f"{self.path} was written by a newer gatewaylab (run-folder format {fmt}); this one reads "
                           f"formats 1 to {FORMAT}. Update gatewaylab (git pull) to read it.")
        return fmt

    def scenario(self) -> Scenario:
        """The scenario as the run had it, validated by today's model (formats 1 and 2 share it)."""
        path = self.path / SCENARIO
        if not path.exists():
            raise RunError(f"{self.path} is not a gatewaylab run folder (no {SCENARIO}). Pass a folder under reports/runs/.")
        fmt = self.format()
        try:
            return Scenario.model_validate(yaml.safe_load(path.read_text()))
        except (ValidationError, yaml.YAMLError) as e:
            first = str(e).splitlines()
            raise RunError(f"{path} (run-folder format {fmt}) no longer reads as a scenario of this gatewaylab: "
                           f"{' '.join(first[1:3]) if len(first) > 2 else first[0]}. It was recorded by an older "
                           "version; read it with that version (git log -- harness/scenario) or re-run it.") from None

    def planned(self) -> list[str]:
        return read_json(self.path / RUN, {}).get("variants", [])

    def variants(self) -> list[str]:
        """The planned variants that got as far as a folder."""
        return [v for v in self.planned() if (self.path / VARIANTS / v).is_dir()]

    def variant(self, name: str) -> Path:
        return self.path / VARIANTS / name

    def finished(self, variant: str) -> bool:
        """The variant's run got to its end (meta.json is written last)."""
        return (self.variant(variant) / META).exists()
