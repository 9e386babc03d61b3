"""The scenario model: a YAML mapping -> a typed, fully validated Scenario.

Everything a run needs is checked here, before any process starts; the parts
(parts.py) and the judging settings (judging.py) check their own fields.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from harness.scenario.containers import Containers
from harness.scenario.judging import Compare, Expectation, LeakChecks, Regress
from harness.scenario.parts import (
    Analysis, Database, Gateway, Load, Name, ParamKey, ParamValue, Phase, Replica, Sampling, Service, Strict, Toxic,
)
from harness.scenario.vocabulary import (
    BYPASS_METRICS, CLIENT_METRICS, CROSSCHECK_METRICS, DATABASE_PATTERNS, GATEWAY_METRICS, PATTERNS, REPLICA_METRICS,
    metric_known,
)


class Variant(Strict):
    description: str = ""
    # The refsvc variant the replicas under test run; default: this variant's name.
    build: Name | None = None
    # Overrides of the scenario's settings for this variant only (validated merged).
    params: dict[ParamKey, ParamValue] = {}
    service: dict[str, Any] = {}
    gateway: dict[str, Any] = {}
    load: dict[str, Any] = {}
    containers: dict[str, Any] = {}  # merged one level deep: limits, liveness, readiness, restart, rollout
    toxics: list[Toxic] | None = None
    expect: list[Expectation] = []
    # Behind another gateway the expectations may differ: expect_on.<kind> replaces `expect` there.
    expect_on: dict[Literal["nginx", "haproxy", "caddy", "traefik"], list[Expectation]] = {}
    # none: the default leak checks must hold; expected: at least one of them must fire
    # (the variant reproduces a leak); pile-up: goroutines pile up while a fault lasts and
    # are released after it, so only what stays after the drain is checked (not the trend,
    # not leak-watch); ignore: not judged by them (e.g. a process that restarts).
    leak: Literal["none", "expected", "pile-up", "ignore"] = "none"
    # Behind another gateway the load on a replica may differ (e.g. one the gateway never takes out keeps its
    # share of a slow fault, and its goroutines pile up): leak_on.<kind> replaces `leak` there.
    leak_on: dict[Literal["nginx", "haproxy", "caddy", "traefik"], Literal["none", "expected", "pile-up", "ignore"]] = {}

    def overrides(self) -> bool:
        return bool(self.params or self.service or self.gateway or self.load or self.containers or self.toxics is not None)


class Scenario(Strict):
    name: Name
    title: str
    description: str
    pattern: Name
    replicas: list[Replica] = Field(min_length=1, max_length=16)
    variants: dict[Name, Variant] = Field(min_length=1)
    default_variants: list[Name] = Field(min_length=1)
    service: Service = Service()
    gateway: Gateway = Gateway()
    phases: list[Phase] = Field(min_length=1)
    toxics: list[Toxic] = []
    load: Load
    sampling: Sampling = Sampling()
    analysis: Analysis = Analysis()
    # Started only when set: a PostgreSQL cluster for patterns that query one (DATABASE_PATTERNS).
    database: Database | None = None
    # What a run does when nginx, Toxiproxy, the dependency or a replica dies mid-run:
    # stop the run, go on without it, or restart a replica (anything else stops).
    # Every death is recorded with its exit status and log tail.
    on_component_death: Literal["stop", "continue", "restart"] = "stop"
    # Where the stack runs: processes on this machine, or containers of the local Docker
    # engine (host network, 127.0.0.1 only) with `containers`' limits, probes and restarts.
    # Under docker, replicas follow containers.restart, not on_component_death.
    backend: Literal["local", "docker"] = "local"
    containers: Containers = Containers()
    compare: Compare = Compare()
    regress: Regress = Regress()
    leak_checks: LeakChecks = LeakChecks()

    @model_validator(mode="after")
    def _consistent(self) -> "Scenario":
        if self.pattern not in PATTERNS:
            raise ValueError(f"pattern {self.pattern!r} is unknown; known: {sorted(PATTERNS)}")
        known = PATTERNS[self.pattern]
        for name, v in self.variants.items():
            build = v.build or name
            if build not in known:
                what = f"variant {name!r}" if v.build is None else f"variants.{name}.build {build!r}"
                raise ValueError(f"{what} does not exist for pattern {self.pattern!r}; known builds: {list(known)}"
                                 + ("" if v.build else " (or give the variant a build: one of them)"))
        for role in ("fixed", "buggy"):
            v = getattr(self.regress, role)
            if v is not None and v not in self.variants:
                raise ValueError(f"regress.{role} names {v!r}, which is not under variants: {list(self.variants)}")
        for v in self.default_variants:
            if v not in self.variants:
                raise ValueError(f"default_variants names {v!r}, which is not under variants: {list(self.variants)}")
        names = [r.name for r in self.replicas]
        if len(set(names)) != len(names):
            raise ValueError(f"replica names must be unique: {names}")
        for r in self.replicas:
            if r.variant is not None and r.variant not in known:
                raise ValueError(f"replica {r.name!r} pins variant {r.variant!r}; known: {list(known)}")
        self._check_phases()
        self._check_containers()
        if self.pattern in DATABASE_PATTERNS and self.database is None:
            raise ValueError(f"pattern {self.pattern!r} queries a database: add `database: {{kind: postgres}}`")
        if self.database is not None and self.pattern not in DATABASE_PATTERNS and self.pattern != "own-service":
            raise ValueError(f"pattern {self.pattern!r} does not use a database: remove `database`")
        for t in [*self.toxics, *(t for v in self.variants.values() for t in v.toxics or [])]:
            if t.leg == "database" and self.database is None:
                raise ValueError(f"toxic {t.name!r} is on the database leg, but the scenario has no `database`")
        phases = {p.name for p in self.phases}
        for t in self.toxics:
            if t.phase not in phases:
                raise ValueError(f"toxic {t.name!r} names phase {t.phase!r}; phases are {sorted(phases)}")
            if t.replicas != "all":
                for r in t.replicas:
                    if r not in names:
                        raise ValueError(f"toxic {t.name!r} names replica {r!r}; replicas are {names}")
        if len({t.name for t in self.toxics}) != len(self.toxics):
            raise ValueError("toxic names must be unique")
        for vname, v in self.variants.items():
            if v.overrides():
                try:
                    self.resolve(vname)
                except ValidationError as e:
                    problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
                                         for err in e.errors(include_url=False))
                    raise ValueError(f"variants.{vname} overrides do not give a valid scenario: {problems}") from None
        for vname, v in self.variants.items():
            for e in v.expect:
                if not metric_known(e.metric, names):
                    raise ValueError(
                        f"variants.{vname}.expect: metric {e.metric!r} is unknown; use client.<{'|'.join(CLIENT_METRICS)}>, "
                        f"client.status.<code>, client.endpoint.<path with - for />.<metric>, replicas.<{'|'.join(names)}>.<{'|'.join(REPLICA_METRICS)}>, "
                        f"replicas.<replica>.failed_by_kind.<kind>, gateway.error_log.<kind>, "
                        f"gateway.<{'|'.join(GATEWAY_METRICS)}>, bypass.<{'|'.join(BYPASS_METRICS)}> "
                        f"or crosscheck.<{'|'.join(CROSSCHECK_METRICS)}>"
                    )
        return self

    def _check_phases(self) -> None:
        end = 0.0
        for p in sorted(self.phases, key=lambda p: p.start_s):
            if p.start_s < end:
                raise ValueError(f"phase {p.name!r} starts at {p.start_s:g}s, before the previous phase ends ({end:g}s)")
            end = p.start_s + p.duration_s
        if self.analysis.steady_after_s >= self.load.duration_s:
            raise ValueError("analysis.steady_after_s must be shorter than load.duration_s")
        if end > self.load.duration_s:
            raise ValueError(f"phases end at {end:g}s, after the load stops (load.duration_s={self.load.duration_s:g})")
        if len({p.name for p in self.phases}) != len(self.phases):
            raise ValueError("phase names must be unique")

    def _check_containers(self) -> None:
        """A variant's overrides are checked when resolve() validates the merged scenario."""
        needs = self.containers.needs_docker()
        if needs and self.backend != "docker":
            raise ValueError(f"containers sets {', '.join(needs)}, which only the docker backend can honour: "
                             "set `backend: docker` (or pass --backend docker)")
        if self.backend == "docker" and self.gateway.kind != "nginx":
            raise ValueError(f"gateway.kind {self.gateway.kind}: the docker backend runs nginx only so far "
                             "(its readiness and rollouts reload nginx); use backend: local for other gateways")
        rollout = self.containers.rollout
        if rollout is not None and rollout.phase not in {p.name for p in self.phases}:
            raise ValueError(f"containers.rollout names phase {rollout.phase!r}; phases are {sorted(p.name for p in self.phases)}")

    def replica_variants(self, variant: str) -> dict[str, str]:
        """Which build each replica runs when `variant` is under test."""
        build = self.variants[variant].build or variant if variant in self.variants else variant
        return {r.name: r.variant or build for r in self.replicas}

    def resolve(self, variant: str) -> "Scenario":
        """The scenario as `variant` runs it: its overrides applied, validated."""
        v = self.variants[variant]
        if not v.overrides() and self.gateway.kind not in v.expect_on and self.gateway.kind not in v.leak_on:
            return self
        data = self.model_dump(mode="json")
        data["service"].update(v.service)
        data["gateway"].update(v.gateway)
        data["load"].update(v.load)
        for key, value in v.containers.items():
            merge = isinstance(value, dict) and isinstance(data["containers"].get(key), dict)
            data["containers"][key] = {**data["containers"][key], **value} if merge else value
        if v.toxics is not None:
            data["toxics"] = [t.model_dump(mode="json") for t in v.toxics]
        data["service"]["params"] = {**data["service"]["params"], **v.params}
        plain = v.model_dump(mode="json")
        plain.update(params={}, service={}, gateway={}, load={}, containers={}, toxics=None)  # applied: the resolved model holds them
        kind = data["gateway"].get("kind", "nginx")
        if kind in v.expect_on:  # the expectations of the gateway it runs behind
            plain["expect"] = plain["expect_on"][kind]
        if kind in v.leak_on:
            plain["leak"] = v.leak_on[kind]
        plain["expect_on"], plain["leak_on"] = {}, {}
        data["variants"] = {variant: plain}
        data["default_variants"] = [variant]
        data["regress"] = {}  # names variants the resolved scenario no longer has
        return Scenario.model_validate(data)

    def regress_variants(self) -> tuple[str | None, str | None]:
        """(fixed, buggy) for `gatewaylab regress`; None where the scenario has none."""
        fixed = self.regress.fixed or ("fixed" if "fixed" in self.variants else None)
        buggy = self.regress.buggy or ("buggy" if "buggy" in self.variants else None)
        return fixed, buggy

    def phase(self, name: str) -> Phase:
        return next(p for p in self.phases if p.name == name)

    def inject_phase(self) -> Phase | None:
        """The phase called inject, else the first one a toxic is active in."""
        named = [p for p in self.phases if p.name == "inject"]
        if named:
            return named[0]
        with_toxics = {t.phase for t in self.toxics}
        return next((p for p in sorted(self.phases, key=lambda p: p.start_s) if p.name in with_toxics), None)


