"""The parts of a scenario: replicas, gateway, phases, toxics, load, database, sampling, analysis.

Values that end up in the nginx config or on a command line are constrained to
their type and range, so a scenario cannot smuggle in directives or shell.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.scenario.vocabulary import MAX_DURATION_S, MAX_INFLIGHT, MAX_RATE, MAX_USERS, MAX_WORKERS, NAME, NEXT_UPSTREAM, TOXIC_ATTRIBUTES

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


Status = Annotated[int, Field(ge=400, le=599)]


class Haproxy(Strict):
    """Settings only HAProxy has (gateway.haproxy); the common ones map as stack/gateways/haproxy.py says."""
    # What max_fails consecutive errors seen by `observe layer7` do. HAProxy's default is fail-check;
    # mark-down is the one that acts like nginx's max_fails.
    on_error: Literal["fastinter", "fail-check", "sudden-death", "mark-down"] = "mark-down"
    # The active check that brings a marked-down server back: a TCP connect (HAProxy's default), or GET /healthz.
    check: Literal["tcp", "http"] = "tcp"
    # Active-check interval while the server is up; None: fail_timeout_s. A server marked down comes back at its
    # next passed check, and marking down never postpones a check already due: with inter 2 s it was back within
    # 2 s whatever fail_timeout_s said (measured 1.5-1.8 s), so by default the checks run every fail_timeout_s.
    inter_s: float | None = Field(None, gt=0, le=3600)
    rise: int = Field(1, ge=1, le=10)       # passed checks to come back
    fall: int = Field(3, ge=1, le=10)       # failed active checks to go down


class Caddy(Strict):
    """Settings only Caddy has (gateway.caddy)."""
    # Statuses counted as failures besides the http_<code> listed in proxy_next_upstream.
    unhealthy_status: list[Status] = []
    # A response whose headers took this long or longer is a failure: a check nginx and HAProxy do not have.
    unhealthy_latency_ms: int | None = Field(None, ge=1, le=600_000)


class Gateway(Strict):
    # Which gateway; nginx unless the scenario or --gateway says otherwise.
    kind: Literal["nginx", "haproxy", "caddy", "traefik"] = "nginx"
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
    # Idle connections the gateway keeps to the upstream group (nginx's `keepalive`; 0, nginx's default: a
    # new connection per request) and how long it keeps one idle (`keepalive_timeout`, nginx's default 60 s).
    upstream_keepalive: int = Field(0, ge=0, le=1024)
    upstream_keepalive_timeout_s: float = Field(60, gt=0, le=3600)
    # How far a retry may go: proxy_next_upstream_tries (0, nginx's default: every server once) and
    # proxy_next_upstream_timeout (0, nginx's default: no time limit).
    next_upstream_tries: int = Field(0, ge=0, le=100)
    next_upstream_timeout_s: float = Field(0, ge=0, le=3600)
    # nginx's buffers for headers; None: nginx's defaults. large_client_header_buffers 4 <size>: a request
    # header line longer than one buffer is refused (400); proxy_buffer_size: the upstream's response headers
    # must fit in it ("upstream sent too big header", 502). nginx's defaults: 8 KB, one memory page (4 KB).
    large_header_buffer_kb: int | None = Field(None, ge=1, le=1024)
    proxy_buffer_size_kb: int | None = Field(None, ge=4, le=1024)
    haproxy: Haproxy = Haproxy()
    caddy: Caddy = Caddy()

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
    # Large request headers by size (a JWT, cookies): name -> bytes of a token-like value.
    header_bytes: dict[HeaderName, Annotated[int, Field(ge=1, le=65536)]] = {}

    @field_validator("headers", "header_bytes")
    @classmethod
    def _not_reserved(cls, v: dict[str, str]) -> dict[str, str]:
        taken = sorted(k for k in v if k.lower() in RESERVED_HEADERS)
        if taken:
            raise ValueError(f"{taken} cannot be set here (Host comes from gateway.public_host; the others from the harness)")
        return v

    @property
    def label(self) -> str:
        return self.name or f"{self.method} {self.path}"


class Step(Strict):
    at_s: float = Field(ge=0, le=MAX_DURATION_S)
    rate: float = Field(gt=0, le=MAX_RATE)


class Shape(Strict):
    """The rate over time (harness/drive/shape.py): ramp from from_rate over over_s, steps, or a spike."""
    kind: Literal["constant", "ramp", "step", "spike"] = "constant"
    from_rate: float | None = Field(None, gt=0, le=MAX_RATE)
    over_s: float | None = Field(None, gt=0, le=MAX_DURATION_S)
    steps: list[Step] = []
    at_s: float | None = Field(None, ge=0, le=MAX_DURATION_S)
    for_s: float | None = Field(None, gt=0, le=MAX_DURATION_S)
    peak_rate: float | None = Field(None, gt=0, le=MAX_RATE)

    @model_validator(mode="after")
    def _fields_of_kind(self) -> "Shape":
        needs = {"constant": (), "ramp": ("from_rate", "over_s"), "step": ("steps",), "spike": ("at_s", "for_s", "peak_rate")}
        missing = [f for f in needs[self.kind] if not getattr(self, f)]
        stray = [f for f in ("from_rate", "over_s", "steps", "at_s", "for_s", "peak_rate")
                 if f not in needs[self.kind] and getattr(self, f)]
        if missing or stray:
            raise ValueError(f"a {self.kind} shape needs {', '.join(needs[self.kind]) or 'nothing else'}"
                             + (f"; missing: {', '.join(missing)}" if missing else "")
                             + (f"; not for this kind: {', '.join(stray)}" if stray else ""))
        return self


class Load(Strict):
    users: int = Field(ge=1, le=MAX_USERS)
    spawn_rate: float = Field(gt=0, le=MAX_USERS)
    rate: float = Field(gt=0, le=MAX_RATE, description="requests per second, all users together (a cap)")
    duration_s: Seconds
    endpoints: list[Endpoint] = Field(min_length=1)
    # closed: `users` each wait for an answer before the next request, so a stall slows the load down
    # with it; open: requests start on schedule whatever the answers do (coordinated omission avoided).
    model: Literal["closed", "open"] = "closed"
    shape: Shape = Shape()
    # Locust processes sending the load (a master and N workers above 1); auto: one per core.
    workers: Annotated[int, Field(ge=1, le=MAX_WORKERS)] | Literal["auto"] = 1
    # open model: at most this many requests in flight; a start beyond it is dropped and counted.
    # None: rate x the client's timeout, i.e. never, unless the generator itself falls behind.
    max_inflight: int | None = Field(None, ge=1, le=MAX_INFLIGHT)

    @model_validator(mode="after")
    def _shape_inside_load(self) -> "Load":
        s = self.shape
        ends = [s.at_s + s.for_s] if s.kind == "spike" else [x.at_s for x in s.steps]
        if any(e > self.duration_s for e in ends):
            raise ValueError(f"load.shape reaches past load.duration_s ({self.duration_s:g} s)")
        if self.model == "closed" and self.max_inflight is not None:
            raise ValueError("load.max_inflight is for model: open (a closed model has `users` in flight at most)")
        return self

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
