"""A variant's verdict: its expectations and the default leak checks, judged on its summary.

A metric without a value is "no data" and fails, with the reason (which samples
or records were missing); a count is zero only where its source was read.
"""

from __future__ import annotations

from harness.analysis.containers import CGROUP_FIGURES, EVENT_FIGURES

from harness.analysis import leaks
from harness.analysis.figures import value_at
from harness.scenario import Expectation, Scenario


def lookup(summary: dict, path: str):
    got = value_at(summary, path)
    if got is None and _counted(summary, path):
        return 0  # a count nobody saw is zero, if anyone looked
    return got


def _counted(summary: dict, path: str) -> bool:
    """Is path a count whose source has data, so that its absence means zero?"""
    parts = path.split(".")
    if path.startswith("client.status."):
        return bool(summary.get("client", {}).get("requests"))
    if ".failed_by_kind." in path:
        return bool(summary.get("replicas", {}).get(parts[1], {}).get("attempts"))
    if path.startswith("gateway.error_log."):
        return bool(summary.get("gateway", {}).get("error_log_read"))
    return False


def no_data_reason(summary: dict, path: str) -> str:
    """Why a metric has no value: which samples or records were missing."""
    parts = path.split(".")
    if parts[0] == "client" and not summary.get("client", {}).get("requests"):
        return "no client request was recorded (requests.jsonl is empty or missing)"
    if parts[0] == "replicas":
        fig = summary.get("replicas", {}).get(parts[1])
        if fig is None:
            return f"replica {parts[1]} is not in this run"
        if parts[2] in EVENT_FIGURES + CGROUP_FIGURES:
            if parts[2].startswith("first_") and fig.get("restarts") is not None:
                return f"replica {parts[1]}: it never happened in this run (no such event in containers.jsonl)"
            if parts[2] == "throttled_share" and fig.get("cpu_s") is not None:
                return f"replica {parts[1]}: no CPU quota, so no CFS period was counted (set containers.limits.cpus)"
            what = "container events (containers.jsonl)" if parts[2] in EVENT_FIGURES else "cgroup samples (cgroups.jsonl)"
            return f"replica {parts[1]}: no {what}; only the docker backend records them (backend: docker)"
        if not fig.get("samples"):
            return (f"replica {parts[1]}: no /metrics sample was taken "
                    f"({fig.get('scrape_errors', 0)} scrapes failed)")
        if parts[2].startswith(("stacks_grown", "top_stack")):
            return f"replica {parts[1]}: no goroutine dumps before and after the load (no pprof, or a fetch failed)"
        if parts[2] == "leakwatch_flags":
            return f"replica {parts[1]} exports no leakwatch_candidate_stacks"
        if parts[2] == "runtime_leaks":
            return f"replica {parts[1]}: no goroutineleak profile (a build without GOEXPERIMENT=goroutineleakprofile)"
        if parts[2] == "recovered_s":
            return (f"replica {parts[1]}: no toxic on its legs was lifted, or it gave no 2xx answer after the "
                    f"last one was (it never recovered)")
        if parts[2].endswith(("_left", "_after")):
            return (f"replica {parts[1]}: no sample before the load and after its tail "
                    f"({fig.get('samples')} samples, {fig.get('scrape_errors', 0)} scrapes failed)")
        return f"replica {parts[1]} exported no value for {parts[2]} ({fig.get('samples')} samples)"
    if parts[0] == "sampling":
        return "no sample at all was taken during the load"
    if parts[0] == "gateway" and parts[1] == "error_log":
        return "the gateway's log was not read"
    return "the run recorded no value for it"


def check(expect: list[Expectation], summary: dict) -> list[dict]:
    out = []
    for e in expect:
        actual = lookup(summary, e.metric)
        holds = actual is not None and e.holds(actual)
        row = {"metric": e.metric, "op": e.op, "value": e.value, "actual": actual, "holds": holds, "why": e.why}
        if actual is None:
            row["no_data"] = no_data_reason(summary, e.metric)
        out.append(row)
    return out


def steady_sampling(scenario: Scenario) -> Expectation:
    """Every run: the load was measured all along (a machine that stalls measures nothing meanwhile)."""
    limit = max(5.0, 5 * scenario.sampling.interval_s)
    return Expectation(metric="sampling.longest_gap_s", op="<=", value=limit,
                       why="measured all along: no stretch of the load without a sample (the machine did not stall)")


def expectations(scenario: Scenario, variant: str, summary: dict) -> list[Expectation]:
    """The variant's own expectations, then the default leak checks its `leak` setting asks for."""
    v = scenario.variants.get(variant)
    own = (list(v.expect) if v else []) + [steady_sampling(scenario)]
    limits = scenario.leak_checks
    if not limits.enabled or (v is not None and v.leak == "ignore"):
        return own
    tested = [r.name for r in scenario.replicas if r.variant is None]
    figures = summary["replicas"]
    if v is not None and v.leak == "expected":
        return own + [Expectation(metric=f"replicas.{r}.leak_signals", op=">=", value=1.0,
                                  why="the variant leaks: at least one default leak check must fire") for r in tested]
    stated = {e.metric for e in own}  # a variant's own expectation on a metric replaces the default one
    defaults = leaks.default_expectations(limits, tested, figures, during_load=v is None or v.leak != "pile-up")
    return own + [e for e in defaults if e.metric not in stated]
