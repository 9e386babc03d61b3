"""Calibration: every expectation of a scenario against repeated measured runs.

Pure: reads run folders and returns the figures that set (or judge) each
threshold: the values measured per variant, min / median / max, how many runs
pass, and the margin, i.e. how far the threshold sits from the nearest measured
value in units of the observed spread. A threshold is trusted when every run
passes with margin; for the pair that `regress` judges (fixed, buggy) the two
ranges must not overlap on the metric that tells them apart.

Runs recorded with other settings (load, phases, toxics, gateway, service) than
the scenario file has now are left out, with the reason: a threshold is never
set from runs of another set-up.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from harness.analysis import records
from harness.analysis.expect import check, expectations, lookup, steady_sampling
from harness.analysis.summary import load_variant, variant_summary
from harness.scenario import Scenario
from harness.record.folder import RunFolder

# Fields that only judge a run: they may differ between the recorded scenario and today's file.
JUDGING = ("title", "description", "default_variants", "compare", "regress", "leak_checks", "analysis")
JUDGING_VARIANT = ("description", "expect", "expect_on", "leak", "leak_on")
MARGIN_OK = 0.25  # a threshold nearer than a quarter of the spread to a measured value is "tight"


def path_of(s: Scenario) -> Path:
    """Where a scenario's calibration figures live: NAME.json behind nginx, NAME@KIND.json behind another gateway."""
    from harness.scenario import SCENARIO_DIR

    suffix = "" if s.gateway.kind == "nginx" else f"@{s.gateway.kind}"
    return SCENARIO_DIR / "calibration" / f"{s.name}{suffix}.json"


def setup_of(s: Scenario, variant: str) -> dict:
    """What a variant's run measured under: everything but the judging fields, and the settings of gateways
    other than the one it ran behind (gateway.caddy does not change an nginx run)."""
    data = s.resolve(variant).model_dump(mode="json")
    for other in {"haproxy", "caddy"} - {data["gateway"]["kind"]}:  # the gateways with a settings block
        data["gateway"].pop(other, None)
    for k in JUDGING:
        data.pop(k, None)
    data["variants"] = {variant: {k: v for k, v in data["variants"][variant].items() if k not in JUDGING_VARIANT}}
    return data


def differences(a: dict, b: dict, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(a.keys() | b.keys()) for d in differences(a.get(k), b.get(k), f"{path}.{k}" if path else k)]
    return [] if a == b else [f"{path}: recorded {a!r}, now {b!r}"]


def collect(scenario: Scenario, run_dirs: list[Path], variants: list[str]) -> tuple[dict[str, list[dict]], list[str]]:
    """variant -> its summaries (judged by today's scenario) from the run folders; and what was left out, why."""
    got: dict[str, list[dict]] = {v: [] for v in variants}
    skipped = []
    for run_dir in run_dirs:
        try:
            recorded = records.scenario(run_dir)
        except Exception as e:  # an unreadable folder is reported, not fatal
            skipped.append(f"{run_dir.name}: unreadable ({type(e).__name__}: {e})")
            continue
        if recorded.name != scenario.name:
            continue
        for v in variants:
            if v not in records.variants(run_dir) or v not in recorded.variants:
                continue
            diff = differences(setup_of(recorded, v), setup_of(scenario, v))
            if diff:
                skipped.append(f"{run_dir.name}/{v}: other settings ({'; '.join(diff[:3])})")
                continue
            if not RunFolder(run_dir).finished(v):
                skipped.append(f"{run_dir.name}/{v}: still running or stopped before its end")
                continue
            data = load_variant(run_dir, v, scenario)
            summary = variant_summary(data, scenario)
            gap = summary["sampling"]["longest_gap_s"]
            if gap is not None and gap > steady_sampling(scenario).value:
                skipped.append(f"{run_dir.name}/{v}: the machine stalled {gap:g} s during the load (no sample, no request): "
                               "nothing of that stretch was measured")
                continue
            if not summary["complete"]:
                skipped.append(f"{run_dir.name}/{v}: incomplete run")
                continue
            summary["run"] = run_dir.name
            summary["loadavg"] = [data.meta.get("loadavg_start"), data.meta.get("loadavg_end")]
            # "build" in folders of 3 December 2026 (format 1), before it was named for what it is
            summary["binaries"] = {r: a.get("binary_digest", a.get("build")) for r, a in records.stack(data.folder).get("replicas", {}).items()}
            got[v].append(summary)
    return got, skipped


def _margin(op: str, value: float, values: list[float]) -> tuple[float | None, float | None]:
    """(distance from the threshold to the nearest measured value, that in units of the spread); < 0: a run fails."""
    if not values or op == "==":
        return None, None
    nearest = min(values) if op in (">", ">=") else max(values)
    dist = nearest - value if op in (">", ">=") else value - nearest
    spread = max(values) - min(values)
    return round(dist, 4), (round(dist / spread, 2) if spread > 0 else None)


def table(scenario: Scenario, got: dict[str, list[dict]]) -> list[dict]:
    """One row per variant and expectation (its own and the default leak checks)."""
    rows = []
    for v, summaries in got.items():
        if not summaries:
            continue
        for e in expectations(scenario.resolve(v), v, summaries[0]):
            results = [check([e], s)[0] for s in summaries]
            actual = [r["actual"] for r in results]
            nums = [float(a) for a in actual if isinstance(a, (int, float)) and not isinstance(a, bool)]
            texts = sorted({str(a) for a in actual if isinstance(a, str)})
            dist, margin = _margin(e.op, float(e.value), nums) if not isinstance(e.value, str) else (None, None)
            rows.append({
                "variant": v, "metric": e.metric, "op": e.op, "value": e.value, "why": e.why,
                "runs": len(results), "passes": sum(r["holds"] for r in results),
                "no_data": sum(a is None for a in actual),
                "values": [a if not isinstance(a, float) else round(a, 4) for a in actual],
                "min": min(nums) if nums else None, "median": statistics.median(nums) if nums else None,
                "max": max(nums) if nums else None, "texts": texts,
                "distance": dist, "margin": margin,
                "tight": margin is not None and margin < MARGIN_OK and dist is not None and dist <= 0,
            })
    return rows


def separation(scenario: Scenario, got: dict[str, list[dict]]) -> list[dict]:
    """For the (fixed, buggy) pair: each judged metric's two measured ranges, and whether they overlap."""
    fixed, buggy = scenario.regress_variants()
    if not (fixed and buggy and got.get(fixed) and got.get(buggy)):
        return []
    metrics = dict.fromkeys(e.metric for v in (fixed, buggy)
                            for e in expectations(scenario.resolve(v), v, got[v][0]) if not isinstance(e.value, str))
    out = []
    for m in metrics:
        ranges = {}
        for role, v in (("fixed", fixed), ("buggy", buggy)):
            nums = [float(x) for s in got[v] if isinstance(x := lookup(s, m), (int, float))]
            ranges[role] = (min(nums), max(nums)) if nums else None
        f, b = ranges["fixed"], ranges["buggy"]
        overlap = None if f is None or b is None else not (f[1] < b[0] or b[1] < f[0])
        # how far apart, in units of the wider of the two spreads (a gap between constants: infinite)
        gap = None if overlap in (None, True) else max(b[0] - f[1], f[0] - b[1])
        spread = max(f[1] - f[0], b[1] - b[0]) if f and b else 0
        out.append({"metric": m, "fixed": f, "buggy": b, "overlap": overlap, "gap": gap,
                    "gap_spreads": None if gap is None else (round(gap / spread, 2) if spread else None)})
    return out


def decisive(rows: list[dict]) -> dict | None:
    """The metric that tells the pair apart most clearly: apart, and the largest gap in spreads."""
    apart = [r for r in rows if r["overlap"] is False]
    return max(apart, key=lambda r: (r["gap_spreads"] is None, r["gap_spreads"] or 0, r["gap"]), default=None)


# Which detector fires on a replica's figures: None when it had no data.
DETECTORS = {
    "left after the drain": lambda f, lim: _any(_over(f, "goroutines_left", lim.goroutines_left),
                                                _over(f, "fds_left", lim.fds_left)),
    "stack diff": lambda f, lim: _over(f, "stacks_grown", lim.stacks_grown),
    "trend": lambda f, lim: _over(f, "goroutine_trend", lim.goroutine_trend),
    "leak-watch": lambda f, lim: _over(f, "leakwatch_flags", 0),
    "Go leak profile": lambda f, lim: _over(f, "runtime_leaks", 0),
}


def _over(fig: dict, key: str, limit: float) -> bool | None:
    v = fig.get(key)
    return None if not isinstance(v, (int, float)) else v > limit


def _any(*xs):
    return None if all(x is None for x in xs) else any(bool(x) for x in xs)


def detectors(scenario: Scenario, got: dict[str, list[dict]]) -> dict[str, dict[str, list]]:
    """variant -> detector -> [fired on any replica under test?] per run (None: no data)."""
    tested = [r.name for r in scenario.replicas if r.variant is None]
    out = {}
    for v, summaries in got.items():
        out[v] = {name: [_any(*(fire(s["replicas"].get(r, {}), scenario.leak_checks) for r in tested)) for s in summaries]
                  for name, fire in DETECTORS.items()}
    return out


def machine() -> dict:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cores": os.cpu_count(), "memory_gb": round(mem, 1), "system": platform.platform()}


def result(scenario: Scenario, got: dict[str, list[dict]], skipped: list[str]) -> dict:
    rows = table(scenario, got)
    skipped = skipped + [f"variant {v}: no complete run to judge" for v, ss in got.items() if not ss]
    sep = separation(scenario, got)
    return {
        "scenario": scenario.name, "gateway": scenario.gateway.kind, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "machine": machine(),
        "runs": {v: [s["run"] for s in ss] for v, ss in got.items()},
        "loadavg": {v: [s["loadavg"] for s in ss] for v, ss in got.items()},
        # runs per binary the replicas ran (sha256 prefixes; None: recorded before digests were)
        "binaries": {v: dict(Counter(json.dumps(s["binaries"], sort_keys=True) for s in ss)) for v, ss in got.items()},
        "expectations": rows, "separation": sep, "decisive": decisive(sep), "skipped": skipped,
        "leak": {v: scenario.variants[v].leak for v in got}, "detectors": detectors(scenario, got),
        "ok": bool(rows) and all(r["passes"] == r["runs"] for r in rows) and all(got.values()),
    }


def save(res: dict, path: Path) -> None:
    """The figures that set a scenario's thresholds, committed beside it (scenarios/calibration/NAME.json)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=1) + "\n")


def recorded_runs(reports: Path, name: str) -> list[Path]:
    """Every run folder of a scenario under reports/runs, oldest first."""
    return sorted(p for p in (reports / "runs").glob(f"*-{name}*") if RunFolder(p).exists())
