"""Time to verdict: how many seconds of load a recorded variant needed before its verdict settled.

The variant is judged again on its records cut at T seconds of load, for T on a grid; it has
settled at the first T from which every expectation holds (or fails) as it does on the whole
run. What is read after the load (goroutine dumps, the drained samples, the container engine's
events) is not cut: this measures how long the load must last, not the tail after it.
Pure: a run folder in, seconds out.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from harness.analysis import records
from harness.analysis.summary import load_variant, variant_summary


def cut(data, seconds: float):
    """The variant's records as if the load had stopped `seconds` after it started."""
    end = data.t0 + seconds
    req = data.requests[data.requests["start"] < end]
    t_end = float(data.meta.get("t_end", end))
    # the samples after the load (the drain) stay: "left after the load" is read from them
    samples = data.samples[(data.samples["t"] < end) | (data.samples["t"] > t_end)] if "t" in data.samples else data.samples
    access = data.access[data.access["end"] < end] if "end" in data.access else data.access
    att = data.attempts[data.attempts["rid"].isin(set(access["rid"]))] if "rid" in access else data.attempts
    errors = data.errors[data.errors["t"] < end] if "t" in data.errors else data.errors
    episodes = data.episodes[data.episodes["start"] < end].copy()
    episodes["end"] = episodes["end"].clip(upper=end)
    toxics = data.toxics[data.toxics["t"] < end] if "t" in data.toxics else data.toxics
    return dataclasses.replace(data, requests=req, samples=samples, access=access, attempts=att, errors=errors,
                               episodes=episodes, toxics=toxics, meta={**data.meta, "t_end": end})


def outcomes(data, scenario) -> dict[str, bool]:
    return {f"{e['metric']} {e['op']} {e['value']}": e["holds"] for e in variant_summary(data, scenario)["expectations"]}


def settle(run_dir: Path, variant: str, step_s: float = 5.0) -> dict:
    """{'settled_s': T (the whole duration when the last step still changed it), 'duration_s', 'verdict',
    'last_to_settle': the expectation that changed last (None: settled at the first step)}."""
    scenario = records.scenario(run_dir)
    data = load_variant(run_dir, variant, scenario)
    duration = float(data.meta.get("t_end", data.t0)) - data.t0
    final = outcomes(data, scenario)
    settled, last = duration, None
    t = duration - step_s
    while t > 0:  # walk back from the end: the verdict settled where the first difference appears, one step later
        differ = [k for k, v in outcomes(cut(data, t), scenario).items() if final.get(k) != v]
        if differ:
            last = differ[0]
            break
        settled, t = t, t - step_s
    return {"variant": variant, "settled_s": round(settled, 1), "duration_s": round(duration, 1),
            "verdict": "pass" if all(final.values()) else "fail", "last_to_settle": last}
