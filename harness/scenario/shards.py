"""Shards of a suite: `--shard I/N` runs a deterministic slice, so N machines (or pods) share one suite.

A unit is what runs as one (a scenario with its variants); its cost is the seconds of load it
asks for. Units go to shards by longest-processing-time first, ties by name: every machine
computes the same slices from the same scenario files, with no coordinator.
"""

from __future__ import annotations

import re

from harness.errors import ScenarioError

MAX_SHARDS = 64
START_S = 12.0          # a variant's stack start and teardown, measured ~10 s on 2 cores
START_DOCKER_S = 40.0   # the docker backend: images, containers, the kubelet


def parse(spec: str | None) -> tuple[int, int] | None:
    """'2/3' -> (2, 3); None -> None (the whole suite)."""
    if spec is None:
        return None
    m = re.fullmatch(r"\s*(\d{1,3})\s*/\s*(\d{1,3})\s*", spec)
    if not m or not 1 <= int(m[1]) <= int(m[2]) <= MAX_SHARDS:
        raise ScenarioError(f"--shard {spec!r}: give I/N with 1 <= I <= N <= {MAX_SHARDS}, e.g. --shard 2/3.")
    return int(m[1]), int(m[2])


def variant_cost(scenario, variant: str) -> float:
    """Seconds one variant of a scenario takes: its load plus the start-up around it."""
    s = scenario.resolve(variant)
    return s.load.duration_s + (START_DOCKER_S if s.backend == "docker" else START_S)


def regress_cost(scenario, trials: int) -> float:
    """Seconds `regress` spends on a scenario: each trial of its fixed and buggy variants (else its defaults)."""
    fixed, buggy = scenario.regress_variants()
    chosen = [v for v in (fixed, buggy) if v] or list(scenario.default_variants)
    return trials * sum(variant_cost(scenario, v) for v in chosen)


def assign(costs: dict[str, float], n: int) -> list[list[str]]:
    """Every unit into one of n shards, the heaviest first onto the lightest shard; each shard sorted by name."""
    loads, shards = [0.0] * n, [[] for _ in range(n)]
    for unit in sorted(costs, key=lambda u: (-costs[u], u)):
        k = min(range(n), key=lambda j: (loads[j], j))
        shards[k].append(unit)
        loads[k] += costs[unit]
    return [sorted(s) for s in shards]


def pick(costs: dict[str, float], shard: tuple[int, int] | None) -> list[str]:
    """The units of shard I of N (all units, sorted, when shard is None)."""
    if shard is None:
        return sorted(costs)
    i, n = shard
    return assign(costs, n)[i - 1]
