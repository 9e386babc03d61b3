"""The scenario model: a YAML mapping -> a typed, fully validated Scenario.

Everything a run needs is checked here, before any process starts. Values
that end up in the nginx config or on a command line are constrained to
their type and range, so a scenario cannot smuggle in directives or shell.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.scenario.vocabulary import (
    BYPASS_METRICS, CLIENT_METRICS, COMPARE_KINDS, CROSSCHECK_METRICS, DATABASE_PATTERNS, GATEWAY_METRICS, MAX_DURATION_S,
    MAX_RATE, MAX_USERS, NAME, NEXT_UPSTREAM, OPS, PATTERNS, REPLICA_METRICS, TEXT_OPS, TOXIC_ATTRIBUTES, metric_known,
)

Name = Annotated[str, Field(pattern=NAME)]
# A DNS name as nginx's $host gives it (lower case, no port): safe in a config and a header.
Hostname = Annotated[str, Field(max_length=253, pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")]
Seconds = Annotated[float, Field(gt=0, le=MAX_DURATION_S)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Replica(Strict):
    name: Name
    # None: runs the variant under test. A name pins this replica to a variant.
    variant: Name | None = None


ParamKey = Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,31}$")]
ParamValue = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,64}$")] | int | float


class Service(Strict):
    # The outbound Transport's MaxConnsPerHost; 0 is Go's default: no cap (and 2 idle per host).
    max_conns_per_host: int = Field(20, ge=0, le=1000)
    client_timeout_ms: int = Field(1000, ge=1, le=600_000)
    # Pattern-specific settings, passed to refsvc as -param key=value; refsvc checks them.
    params: dict[ParamKey, ParamValue] = {}
    # Open-file limit (RLIMIT_NOFILE) of the replicas under test; None: inherited.
    nofile: int | None = Field(None, ge=32, le=1_048_576)


class Gateway(Strict):
    max_fails: int = Field(3, ge=0, le=100)
    fail_timeout_s: int = Field(10, ge=1, le=3600)
    proxy_next_upstream: list[Literal[NEXT_UPSTREAM]] = ["error", "timeout"]  # type: ignore[valid-type]
    connect_timeout_s: float = Field(1, gt=0, le=60)
    read_timeout_s: float = Field(2, gt=0, le=600)
    send_timeout_s: float = Field(5, gt=0, le=600)
    # What clients use: the scheme and host of the public URL. https stands for a
    # TLS-terminating gateway (simulated: nginx speaks plain HTTP on loopback). The
    # load sends public_host as its Host header (the traffic still goes to 127.0.0.1).
    public_scheme: Literal["http", "https"] = "http"
    public_host: Hostname | None = None
    # What nginx sends upstream. Defaults are nginx's own: Host $proxy_host (the
    # upstream group's name), no X-Forwarded-*, proxy_redirect default.
    host_header: Literal["proxy_host", "host"] = "proxy_host"
    forwarded_proto: bool = False  # proxy_set_header X-Forwarded-Proto <public_scheme>
    forwarded_host: bool = False   # proxy_set_header X-Forwarded-Host $host
    proxy_redirect: Literal["default", "off"] = "default"

    @field_validator("proxy_next_upstream")
    @classmethod
    def _off_alone(cls, v: list[str]) -> list[str]:
        if "off" in v and len(v) > 1:
            raise ValueError("'off' cannot be combined with other values")
        if len(set(v)) != len(v):
            raise ValueError("values must not repeat")
        return v


class Phase(Strict):
    name: Name
    start_s: float = Field(ge=0, le=MAX_DURATION_S)
    duration_s: Seconds


class Toxic(Strict):
    name: Name
    phase: Name
    leg: Literal["gateway", "dependency", "dependency-tcp", "database"]
    replicas: Literal["all"] | list[Name] = "all"
    type: Literal[tuple(TOXIC_ATTRIBUTES)]  # type: ignore[valid-type]
    stream: Literal["downstream", "upstream"] = "downstream"
    toxicity: float = Field(1.0, ge=0, le=1)
    attributes: dict[str, Annotated[int, Field(ge=0, le=10_000_000)]] = {}

    @model_validator(mode="after")
    def _known_attributes(self) -> "Toxic":
        allowed = TOXIC_ATTRIBUTES[self.type]
        unknown = set(self.attributes) - allowed
        if unknown:
            raise ValueError(
                f"attribute(s) {sorted(unknown)} do not exist for toxic type {self.type!r}; "
                f"allowed: {sorted(allowed) or 'none'}"
            )
        return self


HeaderName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,63}$")]
HeaderValue = Annotated[str, Field(pattern=r"^[ -~]{0,200}$")]  # printable ASCII: no CR/LF
# Set by the harness (Host from gateway.public_host) or by the HTTP client itself.
RESERVED_HEADERS = {"host", "x-request-id", "content-length", "transfer-encoding", "connection"}


class Endpoint(Strict):
    path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~/-]{0,200}$")]
    method: Literal["GET", "POST", "PUT", "DELETE", "PATCH"] = "GET"
    weight: int = Field(1, ge=1, le=100)
    body_bytes: int = Field(0, ge=0, le=10_000_000)
    # The endpoint's label in the records and figures; default "METHOD /path".
    name: Name | None = None
    # Extra request headers, e.g. a client's own X-Forwarded-Host.
    headers: dict[HeaderName, HeaderValue] = {}

    @field_validator("headers")
    @classmethod
    def _not_reserved(cls, v: dict[str, str]) -> dict[str, str]:
        taken = sorted(k for k in v if k.lower() in RESERVED_HEADERS)
        if taken:
            raise ValueError(f"{taken} cannot be set here (Host comes from gateway.public_host; the others from the harness)")
        return v

    @property
    def label(self) -> str:
        return self.name or f"{self.method} {self.path}"


class Load(Strict):
    users: int = Field(ge=1, le=MAX_USERS)
    spawn_rate: float = Field(gt=0, le=MAX_USERS)
    rate: float = Field(gt=0, le=MAX_RATE, description="requests per second, all users together (a cap)")
    duration_s: Seconds
    endpoints: list[Endpoint] = Field(min_length=1)

    @field_validator("endpoints")
    @classmethod
    def _labels_unique(cls, v: list[Endpoint]) -> list[Endpoint]:
        labels = [e.label for e in v]
        if len(set(labels)) != len(labels):
            raise ValueError(f"endpoints must have distinct labels (give one a name): {labels}")
        return v


class Database(Strict):
    """A throw-away database the replicas query, each through its own Toxiproxy leg (`database`)."""
    kind: Literal["postgres"] = "postgres"
    # The replica's database/sql pool: SetMaxOpenConns (and SetMaxIdleConns).
    max_open_conns: int = Field(10, ge=1, le=50)


class Sampling(Strict):
    interval_s: float = Field(1.0, ge=0.2, le=60)


class Analysis(Strict):
    slow_ms: float = Field(1000, gt=0, le=600_000)
    # Goroutine slopes are fitted from here on (seconds after the load starts),
    # so pools filling up at the start do not read as a leak.
    steady_after_s: float = Field(0, ge=0, le=MAX_DURATION_S)


class LeakChecks(Strict):
    """The default leak checks: what may stay on a replica under test once the load has drained.

    Applied to every variant whose `leak` is `none` (the default), so a service
    whose scenario states no expectations is still judged. The limits come from
    calibration runs of the reference services' fixed builds (scenarios/calibration/).
    """
    enabled: bool = True
    goroutines_left: int = Field(50, ge=0, le=1_000_000)  # goroutines after the tail minus before the load
    fds_left: int = Field(30, ge=0, le=1_000_000)         # open fds, likewise
    stacks_grown: int = Field(0, ge=0, le=1000)           # own-code stacks grown by 5+ (or started by own code)
    goroutine_trend: float = Field(0.5, ge=0, le=1000)    # Theil-Sen slope after steady_after_s, goroutines/s: above a pool filling up
    leakwatch: bool = True                                # leak-watch silent over the whole run (where exported)


class Expectation(Strict):
    metric: Annotated[str, Field(pattern=r"^[a-z0-9_.-]{1,80}$")]
    op: Literal[">", ">=", "<", "<=", "==", "contains"]
    value: float | Annotated[str, Field(max_length=200)]
    why: str = ""

    @model_validator(mode="after")
    def _op_fits_value(self) -> "Expectation":
        if (self.op in TEXT_OPS) != isinstance(self.value, str):
            raise ValueError(f"op {self.op!r} needs a {'text' if self.op in TEXT_OPS else 'number'} value")
        return self

    def holds(self, actual) -> bool:
        if self.op in TEXT_OPS:
            return isinstance(actual, str) and TEXT_OPS[self.op](actual, self.value)
        return isinstance(actual, (int, float)) and OPS[self.op](float(actual), float(self.value))

    def describe(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}" if isinstance(self.value, float) else f"{self.metric} {self.op} {self.value!r}"


class Compare(Strict):
    # A metric kind (one of COMPARE_KINDS) or one metric (e.g. replicas.a.goroutine_slope) -> threshold.
    thresholds: dict[Annotated[str, Field(pattern=r"^[a-z0-9_.]{1,80}$")], Annotated[float, Field(ge=0)]] = {}

    @field_validator("thresholds")
    @classmethod
    def _known(cls, v: dict[str, float]) -> dict[str, float]:
        for k in v:
            if k not in COMPARE_KINDS and not k.startswith(("replicas.", "client.", "gateway.", "bypass.")):
                raise ValueError(f"{k!r} is not a compared metric; use one of {', '.join(COMPARE_KINDS)} or a metric path")
        return v


class Regress(Strict):
    # The variants `gatewaylab regress` checks: the fixed one must meet its expectations and
    # beat the buggy one, which must still reproduce. Default: the variants named fixed and buggy.
    fixed: Name | None = None
    buggy: Name | None = None


class Variant(Strict):
    description: str = ""
    # The refsvc variant the replicas under test run; default: this variant's name.
    build: Name | None = None
    # Overrides of the scenario's settings for this variant only (validated merged).
    params: dict[ParamKey, ParamValue] = {}
    service: dict[str, Any] = {}
    gateway: dict[str, Any] = {}
    load: dict[str, Any] = {}
    toxics: list[Toxic] | None = None
    expect: list[Expectation] = []
    # none: the default leak checks must hold; expected: at least one of them must fire
    # (the variant reproduces a leak); pile-up: goroutines pile up while a fault lasts and
    # are released after it, so only what stays after the drain is checked (not the trend,
    # not leak-watch); ignore: not judged by them (e.g. a process that restarts).
    leak: Literal["none", "expected", "pile-up", "ignore"] = "none"

    def overrides(self) -> bool:
        return bool(self.params or self.service or self.gateway or self.load or self.toxics is not None)


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

    def replica_variants(self, variant: str) -> dict[str, str]:
        """Which build each replica runs when `variant` is under test."""
        build = self.variants[variant].build or variant if variant in self.variants else variant
        return {r.name: r.variant or build for r in self.replicas}

    def resolve(self, variant: str) -> "Scenario":
        """The scenario as `variant` runs it: its overrides applied, validated."""
        v = self.variants[variant]
        if not v.overrides():
            return self
        data = self.model_dump(mode="json")
        data["service"].update(v.service)
        data["gateway"].update(v.gateway)
        data["load"].update(v.load)
        if v.toxics is not None:
            data["toxics"] = [t.model_dump(mode="json") for t in v.toxics]
        data["service"]["params"] = {**data["service"]["params"], **v.params}
        plain = v.model_dump(mode="json")
        plain.update(params={}, service={}, gateway={}, load={}, toxics=None)  # applied: the resolved model holds them
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


