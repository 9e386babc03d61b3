"""From a run folder to the figures of each variant, and the verdict.

Pure functions: they read the folder and return tables and dicts; nothing runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.record import capture
from harness.analysis import containers, gateway, gateways, leaks, records
from harness.analysis.expect import check, expectations
from harness.analysis import stacks as stacks_mod
from harness.record.journal import read as read_journal
from harness.analysis.client import client, per_endpoint, per_second, public_origin, rewritten_redirects
from harness.analysis.figures import checked
from harness.analysis.gateway import bypass, crosscheck
from harness.analysis.offered import offered
from harness.drive import shape as shapes
from harness.analysis.replica import longest_gap, replica
from harness.scenario import Scenario
from harness.record import folder as rf
from harness.record.folder import RunFolder
from harness.stack.gateways import plugin

__all__ = ["VariantData", "load_variant", "variant_summary", "summarize", "per_second"]


@dataclass
class VariantData:
    name: str
    folder: Path
    meta: dict
    requests: pd.DataFrame
    samples: pd.DataFrame
    access: pd.DataFrame
    attempts: pd.DataFrame
    errors: pd.DataFrame
    episodes: pd.DataFrame
    toxics: pd.DataFrame
    addr_to_replica: dict[str, str]
    log_read: bool = True

    @property
    def t0(self) -> float:
        if "t0" in self.meta:
            return float(self.meta["t0"])
        return float(self.requests["start"].min()) if len(self.requests) else 0.0


def load_variant(run_dir: Path, variant: str, scenario: Scenario) -> VariantData:
    scenario = scenario.resolve(variant) if variant in scenario.variants else scenario
    folder = RunFolder(run_dir).variant(variant)
    stack = records.stack(folder)
    amap = gateway.addr_map(stack)
    view = gateways.read(folder, amap, scenario.gateway)
    return VariantData(
        name=variant, folder=folder, meta=records.meta(folder), requests=records.requests(folder),
        samples=records.samples(folder), access=view.access, attempts=view.attempts, errors=view.errors,
        episodes=view.episodes, toxics=records.toxics(folder), addr_to_replica=amap, log_read=view.log_read,
    )


def detection(data: VariantData, name: str, slow_ms: float) -> dict:
    """When leak-watch first flagged the replica vs when the gateway first showed a symptom (s after t0)."""
    s = data.samples
    flagged = None
    if "leak_candidates" in s:
        mine = s[(s["replica"] == name) & (s["leak_candidates"] > 0)]
        flagged = round(float(mine["t"].min() - data.t0), 1) if len(mine) else None
    a = data.attempts
    bad = a[(a["replica"] == name) & (a["counted"] | (a["status"].fillna(0) >= 500)
                                      | (a["response_time"].fillna(0) * 1000 >= slow_ms))]
    symptom = round(float(bad["end"].min() - data.t0), 1) if len(bad) else None
    return {"leak_flagged_s": flagged, "first_symptom_s": symptom}


def recovery(data: VariantData, name: str) -> dict:
    """Seconds from the removal of the last toxic on the replica's legs to its first good answer after it:
    how long the fix (a breaker, an ejection) keeps a healthy replica out. None: no toxic was lifted, or it
    never answered well again."""
    tx, a = data.toxics, data.attempts
    lifted = tx[(tx["action"] == "remove") & tx["proxy"].astype(str).str.endswith(f"-{name}")] if len(tx) else tx
    if not len(lifted) or not len(a):
        return {"recovered_s": None}
    t = float(lifted["t"].max())
    ok = a[(a["replica"] == name) & (a["kind"] == "ok") & (a["end"] >= t)]
    return {"recovered_s": round(float(ok["end"].min() - t), 1) if len(ok) else None}


def variant_summary(data: VariantData, scenario: Scenario) -> dict:
    scenario = scenario.resolve(data.name) if data.name in scenario.variants else scenario
    slow_ms = scenario.analysis.slow_ms
    t0 = data.t0
    t_end = float(data.meta.get("t_end", data.requests["end"].max() if len(data.requests) else t0))
    att = data.attempts
    reqs = data.access
    retried = int((att.groupby("rid")["n"].max() > 0).sum()) if len(att) else 0
    stack_info = records.stack(data.folder)
    origin = public_origin(scenario.gateway, stack_info.get("gateway"))
    summary = {
        "variant": data.name,
        "builds": data.meta.get("replicas", {}),
        "t0": t0, "t_end": t_end,
        "complete": "t_end" in data.meta and "load_exit" in data.meta,
        "client": {**client(data.requests, slow_ms, origin), "endpoint": per_endpoint(data.requests, slow_ms, origin),
                   "public_origin": origin},
        "replicas": {
            r: replica(data.samples, att, data.episodes, r, t0, t_end, steady_after(scenario))
            for r in data.meta.get("replicas", sorted(set(data.addr_to_replica.values())))
        },
        "gateway": {
            "requests": len(reqs),
            "retried_requests": retried,
            "no_live_upstreams": int((att["kind"] == "no_live_upstreams").sum()),
            # attempts counted toward max_fails, every replica together
            "failed_attempts": int(att["counted"].astype(bool).sum()) if len(att) else 0,
            # upstream attempts per client request the gateway handled (retries multiply the load on replicas)
            "attempts_per_request": round(int((att["kind"] != "no_live_upstreams").sum()) / len(reqs), 2) if len(reqs) and len(att) else None,
            "ejection_episodes": len(data.episodes),
            "rewritten_redirects": rewritten_redirects(reqs),
            "error_log": {k: int(v) for k, v in data.errors["kind"].value_counts().items()},
            "error_log_read": data.log_read,
            "kind": scenario.gateway.kind,
            **gateways.agreement(data.folder, data.episodes, data.addr_to_replica, scenario.gateway),
        },
        "load": offered(data.folder, scenario.load, len(data.requests)),
        "bypass": bypass(data.requests, att, slow_ms),
        "crosscheck": crosscheck(data.requests, reqs),
        "deaths": data.meta.get("deaths", {}),
        "captures": [{"file": str(f), "open": cmd} for f, cmd in capture.files(data.folder / rf.CAPTURE)],
        "toxic_errors": int((data.toxics["ok"] == False).sum()) if len(data.toxics) else 0,  # noqa: E712
        "sampling": {"longest_gap_s": longest_gap(data.samples, t0, t_end)},
    }
    boxed = containers.figures(data.folder, list(summary["replicas"]), t0, t_end)  # all None without the container backend
    for r, fig in summary["replicas"].items():
        stacks = stacks_mod.growth(data.folder / rf.GOROUTINES, r)
        fig["stacks"] = stacks
        fig["stacks_grown"] = stacks["stacks_grown"] if stacks and "stacks_grown" in stacks else None
        top, when = None, None
        for key, label in (("top", "after"), ("peak_top", "peak")):
            own = [g for g in (stacks or {}).get(key, []) if g["own_frame"]]
            if own:
                top, when = own[0], label
                break
        if top is None and stacks and stacks.get("top"):
            top, when = stacks["top"][0], "after"
        fig["top_stack"] = {**{k: top[k] for k in ("growth", "blocking_call", "own_frame", "wait")}, "when": when} if top else None
        fig.update(detection(data, r, slow_ms))
        fig.update(recovery(data, r))
        acc = records.accept_errors(data.folder, r)
        fig["accept_errors"] = len(acc)
        fig["first_accept_error_s"] = round(float(acc["t"].min() - t0), 1) if len(acc) else None
        fig["accept_error"] = acc["error"].iloc[0] if len(acc) else None
        fig["deaths"] = sum(1 for d in data.meta.get("deaths", []) if d.get("process") == f"replica-{r}")
        fig.update(leaks.runtime_profile(data.folder / rf.GOROUTINES, r))
        fig["has_pprof"] = bool(stack_info.get("replicas", {}).get(r, {}).get("pprof"))
        fig["has_leakwatch"] = fig.get("leakwatch_flags") is not None
        fig.update(boxed[r])
        fig["leak_signals"] = leaks.signals(scenario.leak_checks, fig)
    summary["leak_checks"] = scenario.leak_checks.model_dump()
    summary["expectations"] = check(expectations(scenario, data.name, summary), summary)
    summary["verdict"] = "pass" if all(e["holds"] for e in summary["expectations"]) else "fail"
    return summary


def gateway_line(gw) -> str:
    """The gateway and its passive check (in its plug-in's words), so nobody takes one gateway's figures for another's."""
    check = plugin(gw.kind).passive_check(gw)
    return f"{gw.kind} ({check}, read timeout {gw.read_timeout_s:g} s, retries on {' '.join(gw.proxy_next_upstream)})"


def stack_line(scenario: Scenario) -> str:
    """One line on where the stack ran: local processes, or containers with their limits and probes."""
    gateway = gateway_line(scenario.gateway)
    if scenario.backend == "local":
        return f"local processes behind {gateway}"
    c = scenario.containers
    parts = [f"{k} {v}" for k, v in (("memory", f"{c.limits.memory_mb} MB" if c.limits.memory_mb else None),
                                      ("cpus", c.limits.cpus), ("pids", c.limits.pids)) if v is not None]
    if c.limits.go_memory_limit == "auto":
        parts.append("GOMEMLIMIT 90 %")
    for name, probe in (("liveness", c.liveness), ("readiness", c.readiness)):
        if probe is not None:
            parts.append(f"{name} {probe.path} every {probe.period_s:g} s, {probe.failure_threshold} failures")
    parts.append(f"restart {c.restart.policy}, CrashLoopBackOff x{c.restart.backoff_factor:g}")
    if c.rollout is not None:
        parts.append(f"rolling restart in phase {c.rollout.phase}")
    return f"Docker containers ({'; '.join(parts)}) behind {gateway}"


def summarize(run_dir: Path) -> tuple[dict, dict[str, VariantData]]:
    scenario = records.scenario(run_dir)
    names = records.variants(run_dir)
    data = {v: load_variant(run_dir, v, scenario) for v in names}
    per_variant = {v: variant_summary(d, scenario) for v, d in data.items()}
    journal = read_journal(run_dir / rf.JOURNAL)
    finished = any(j["step"] == "run finished" for j in journal)
    stopped = next((j for j in journal if j["step"] == "run stopped"), None)
    planned = records.planned(run_dir)
    complete = finished and all(s["complete"] for s in per_variant.values()) and len(names) == len(planned)
    verdict = "pass" if complete and all(s["verdict"] == "pass" for s in per_variant.values()) else "fail"
    return checked({
        "scenario": scenario.name,
        "title": scenario.title,
        "run_dir": str(run_dir),
        "stack": stack_line(scenario),
        "complete": complete,
        "stopped": stopped,
        "variants_planned": planned,
        "variants": per_variant,
        "verdict": verdict if complete else "incomplete",
    }), data


MIN_STEADY_S = 5  # a trend from fewer seconds of samples says nothing


def steady_after(scenario: Scenario) -> float:
    """Where the replicas' trends start: analysis.steady_after_s, or later, once a shaped load stops
    changing its rate (more load legitimately holds more goroutines; a trend across a step would
    call that a leak). A load that never settles long enough keeps steady_after_s."""
    settled = shapes.settled_at(scenario.load.shape.model_dump())
    if settled > scenario.analysis.steady_after_s and scenario.load.duration_s - settled >= MIN_STEADY_S:
        return float(settled)
    return scenario.analysis.steady_after_s
