"""What runs, and what talks to what: no ports, no processes.

A backend (local processes today, containers later) turns this into running
components and gives each endpoint an address. Proxy names double as the
Toxiproxy proxy names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.scenario import Database, Gateway, Scenario, UserService


@dataclass(frozen=True)
class Replica:
    name: str
    pattern: str
    variant: str
    max_conns_per_host: int
    client_timeout_ms: int
    params: tuple[tuple[str, str], ...] = ()
    nofile: int | None = None
    service: UserService | None = None  # a user's own service instead of refsvc
    binary: str | None = None  # another refsvc build (a git revision's) instead of this tree's


@dataclass(frozen=True)
class Proxy:
    name: str       # "gw-a": nginx -> replica a; "dep-a" / "deptcp-a": replica a -> dependency (HTTP / raw TCP);
                    # "db-a": replica a -> the database
    leg: str        # "gateway" | "dependency" | "dependency-tcp" | "database"
    replica: str


@dataclass(frozen=True)
class Topology:
    scenario: str
    variant: str
    replicas: tuple[Replica, ...]
    gateway: Gateway
    proxies: tuple[Proxy, ...] = field(default=())
    database: Database | None = None  # a PostgreSQL cluster to start, behind a "database" leg per replica

    def proxy(self, leg: str, replica: str) -> Proxy:
        return next(p for p in self.proxies if p.leg == leg and p.replica == replica)


def build(scenario: Scenario, variant: str, service: UserService | None = None,
          binary: str | Path | None = None) -> Topology:
    """The topology of one variant; `scenario` is already resolved for it.

    `service`: a user's service that the replicas under test run instead of refsvc;
    `binary`: a refsvc of another revision for them. Pinned replicas keep this tree's.
    """
    builds = scenario.replica_variants(variant)
    params = tuple(sorted((k, str(v)) for k, v in scenario.service.params.items()))
    declared = {r.name: r for r in scenario.replicas}
    replicas = tuple(
        Replica(
            name=name,
            pattern=scenario.pattern,
            variant=builds[name],
            max_conns_per_host=scenario.service.max_conns_per_host,
            client_timeout_ms=scenario.service.client_timeout_ms,
            params=params,
            # Only the replicas under test get the limit; pinned ones are the healthy neighbours.
            nofile=scenario.service.nofile if r.variant is None else None,
            service=service if r.variant is None else None,
            binary=str(binary) if binary is not None and r.variant is None else None,
        )
        for name, r in ((n, declared[n]) for n in builds)
    )
    proxies = tuple(
        Proxy(name=f"{prefix}-{r.name}", leg=leg, replica=r.name)
        for r in replicas
        for leg, prefix in (("gateway", "gw"), ("dependency", "dep"), ("dependency-tcp", "deptcp"),
                            *((("database", "db"),) if scenario.database else ()))
    )
    return Topology(scenario.name, variant, replicas, scenario.gateway, proxies, scenario.database)
