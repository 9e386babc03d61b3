"""A scenario's `backend` -> the class that turns its Topology into running parts; each in a module of its own."""

from __future__ import annotations

from pathlib import Path

from harness.record.journal import Journal
from harness.scenario import Scenario
from harness.host.tools import Tools
from harness.stack.local import LocalStack
from harness.stack.topology import Topology


def open_stack(scenario: Scenario, topology: Topology, tools: Tools, folder: Path, journal: Journal, registry=None):
    """Use as a context manager, like LocalStack."""
    if scenario.backend == "docker":
        from harness.stack.containers.stack import DockerStack  # the docker SDK only when asked for
        return DockerStack(topology, tools, folder, journal, registry, scenario.containers)
    return LocalStack(topology, tools, folder, journal, registry)
