"""How a scenario judges a run: expectations, the default leak checks, compare's thresholds, regress's pair."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from harness.scenario.parts import Name, Strict
from harness.scenario.vocabulary import COMPARE_KINDS, OPS, TEXT_OPS


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
