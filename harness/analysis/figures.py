"""The summary's shape, typed: what analysis writes to summary.json, checked before it is written.

The judged metric names come from harness.scenario.vocabulary (where expectations,
compare and the catalogue find them); the context beside them (status counts, stacks,
examples) is named here. A key the analysis writes that is named nowhere is refused,
so a new metric is declared once, in the vocabulary, before anything can use it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, create_model

from harness.scenario import BYPASS_METRICS, CLIENT_METRICS, CROSSCHECK_METRICS, GATEWAY_METRICS, LOAD_METRICS, REPLICA_METRICS

Value = int | float | str | None  # a figure: a count, a measure, a line of code; None is "no data"
Counts = dict[str, int]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _figures(name: str, metrics: tuple[str, ...], base: type[BaseModel] = Strict, **context) -> type[BaseModel]:
    """A model with one field per vocabulary metric (dotted ones live in nested models) and the named context."""
    fields: dict[str, Any] = {m: (Value, None) for m in metrics if "." not in m}
    return create_model(name, __base__=base, **fields, **context)


TopStack = create_model(
    "TopStack", __base__=Strict,
    **{m.split(".", 1)[1]: (Value, None) for m in REPLICA_METRICS if m.startswith("top_stack.")},
    wait=(str | None, None), when=(Literal["after", "peak"] | None, None),
)
EndpointFigures = _figures("EndpointFigures", CLIENT_METRICS, status=(Counts, {}), redirect_targets=(Counts, {}))
ClientFigures = _figures("ClientFigures", (), EndpointFigures, endpoint=(dict[str, EndpointFigures], {}),
                         public_origin=(str | None, None))
ReplicaFigures = _figures(
    "ReplicaFigures", REPLICA_METRICS,
    failed_by_kind=(Counts, {}), samples=(int, 0), stacks=(dict | None, None), top_stack=(TopStack | None, None),
    accept_error=(str | None, None), has_pprof=(bool, False), has_leakwatch=(bool, False),
)
GatewayFigures = _figures("GatewayFigures", GATEWAY_METRICS, requests=(int, 0), error_log=(Counts, {}),
                          error_log_read=(bool, False), kind=(str, "nginx"),
                          state_samples=(int, 0), state_out_samples=(int, 0))
LoadFigures = _figures("LoadFigures", LOAD_METRICS, model=(Literal["closed", "open"], "closed"), workers=(int, 1),
                       line=(str, ""))
BypassFigures = _figures("BypassFigures", BYPASS_METRICS, unseen=(int, 0))
CrosscheckFigures = _figures(
    "CrosscheckFigures", CROSSCHECK_METRICS, locust_requests=(int, 0), access_log_requests=(int, 0), matched=(int, 0),
    connection_errors_not_logged=(int, 0), unexpected_statuses=(Counts, {}), missing_examples=(list[str], []),
)


class Sampling(Strict):
    longest_gap_s: float | None = None


class VariantSummary(Strict):
    variant: str
    builds: dict[str, str]
    t0: float
    t_end: float
    complete: bool
    client: ClientFigures
    replicas: dict[str, ReplicaFigures]
    gateway: GatewayFigures
    load: LoadFigures | None = None  # None: a summary written before the load was recorded
    bypass: BypassFigures
    crosscheck: CrosscheckFigures
    deaths: list[dict] | dict
    captures: list[dict[str, str]]
    toxic_errors: int
    sampling: Sampling
    leak_checks: dict[str, Any]
    expectations: list[dict[str, Any]]
    verdict: Literal["pass", "fail"]


class RunSummary(Strict):
    scenario: str
    title: str
    run_dir: str
    stack: str = ""  # where it ran: the backend, and the containers' limits and probes
    complete: bool
    stopped: dict | None
    variants_planned: list[str]
    variants: dict[str, VariantSummary]
    verdict: Literal["pass", "fail", "incomplete"]


def checked(summary: dict) -> dict:
    """The summary as written, once it fits RunSummary (a key named nowhere raises)."""
    RunSummary.model_validate(summary)
    return summary


def value_at(summary: dict, path: str):
    """The figure at a metric path such as 'replicas.a.goroutines_left'; None where there is none."""
    node = summary
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
