"""The metrics a comparison judges, read from each trial's variant summary.

Each is lower-is-better. Thresholds are the smallest difference worth a
verdict; the defaults sit above what two runs of the same build differ by on
this kind of machine (measured: see README, "Comparing two builds").
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analysis.figures import value_at
from harness.scenario import COMPARE_KINDS

# metric kind -> default threshold (absolute, in the metric's unit)
DEFAULT_THRESHOLDS = {
    "goroutine_slope": 0.05,    # goroutines per second after the warm-up (Theil-Sen; fixed builds: <= 0.041 in 113 runs)
    "pool_waiters_peak": 3.0,   # requests waiting for an outbound connection
    "rate_5xx": 0.005,          # share of client requests, per status code and in all
    "p99_ms": None,             # None: 30% of the baseline's p99, at least 25 ms
    "ejection_episodes": 0.5,   # any consistent difference in whole episodes
    "bypass": 0.1,              # share of bad requests nginx never noticed
}
P99_RELATIVE, P99_FLOOR_MS = 0.30, 25.0
assert tuple(DEFAULT_THRESHOLDS) == COMPARE_KINDS


@dataclass(frozen=True)
class Metric:
    key: str      # e.g. "replicas.a.goroutine_slope", "client.rate_5xx.502"
    kind: str     # a DEFAULT_THRESHOLDS key
    label: str


def under_test(scenario) -> list[str]:
    """Replicas that run the build being compared (the pinned ones are fixed neighbours)."""
    return [r.name for r in scenario.replicas if r.variant is None]


def metrics_for(replicas: list[str], summaries: list[dict]) -> list[Metric]:
    out = []
    for r in replicas:
        out.append(Metric(f"replicas.{r}.goroutine_trend", "goroutine_slope", f"replica {r}: goroutine slope (/s, Theil-Sen, >= 0)"))
        if any(value_at(s, f"replicas.{r}.pool_waiters_peak") is not None for s in summaries):
            out.append(Metric(f"replicas.{r}.pool_waiters_peak", "pool_waiters_peak", f"replica {r}: peak pool waiters"))
    out.append(Metric("client.rate_5xx", "rate_5xx", "client 5xx rate, all codes"))
    codes = sorted({c for s in summaries for c in s["client"]["status"] if c.isdigit() and int(c) >= 500})
    out += [Metric(f"client.rate_5xx.{c}", "rate_5xx", f"client {c} rate") for c in codes]
    out.append(Metric("client.p99_ms", "p99_ms", "client p99 latency (ms)"))
    out.append(Metric("gateway.ejection_episodes", "ejection_episodes", "ejection episodes (all replicas)"))
    out.append(Metric("bypass.figure", "bypass", "bypass figure (bad requests nginx never noticed)"))
    return out


def value(summary: dict, key: str) -> float | None:
    if key.startswith("client.rate_5xx."):
        code = key.rsplit(".", 1)[1]
        n = summary["client"]["requests"]
        return summary["client"]["status"].get(code, 0) / n if n else None
    got = value_at(summary, key)
    if not isinstance(got, (int, float)):
        return None
    if key.endswith(".goroutine_trend"):
        # Growth is what leaks; a count that falls as a fault lifts is not "better than none".
        # Without this, two runs of one build differ by up to 0.13/s of harmless decline.
        return max(0.0, float(got))
    return float(got)


def threshold(m: Metric, baseline_values: list[float | None], overrides: dict[str, float]) -> float:
    for name in (m.key, m.kind):
        if name in overrides:
            return float(overrides[name])
    t = DEFAULT_THRESHOLDS[m.kind]
    if t is None:  # p99: relative to the baseline
        vals = [v for v in baseline_values if v is not None]
        return max(P99_FLOOR_MS, P99_RELATIVE * (sum(vals) / len(vals))) if vals else P99_FLOOR_MS
    return t
