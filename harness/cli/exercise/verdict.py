"""The exercise's verdict, from a run folder alone: fixed, still leaking, hidden, or no verdict.

The participant's build ran under the fixed variant's expectations and the
default leak checks. Each expectation is either something the gateway or the
client saw (ejections, retries, 5xx, slowness, the bypass figure) or something
only the inside of the replica shows (pool waiters, grown stacks, what was left,
leak-watch). Leak evidence is an inside expectation that failed, or, where
calibrated, a replica that dials a new connection for nearly every request.

- fixed: every expectation holds and there is no leak evidence;
- still leaking: leak evidence, and the gateway sees it too;
- hidden: leak evidence, while everything the gateway and the client saw is as
  with the fixed build;
- not fixed: the gateway sees failures, but no leak was measured.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness.record import folder as rf
from harness.record.folder import read_jsonl
from harness.scenario import SCENARIO_DIR

# Figures the gateway (or its logs) and the client measure; everything else is read inside the replica.
_GATEWAY_SEEN = {"ejection_episodes", "failed_attempts", "failed_by_kind", "attempts", "served", "down_s", "p50_ms",
                 "p99_ms", "first_symptom_s", "recovered_s"}

EXIT = {"fixed": 0, "still leaking": 1, "hidden": 1, "not fixed": 1, "no verdict": 1}


def seen_by_gateway(metric: str) -> bool:
    parts = metric.split(".")
    if parts[0] in ("client", "gateway", "bypass", "crosscheck"):
        return True
    return parts[0] == "replicas" and len(parts) > 2 and parts[2] in _GATEWAY_SEEN


def dials(run_dir: Path, variant: str, fig: dict, replica: str) -> dict | None:
    """Connections the replica dialled during the run against the requests nginx sent it."""
    rows = [r for r in read_jsonl(run_dir / rf.VARIANTS / variant / rf.SAMPLES)
            if r.get("replica") == replica and "pool_dials" in r]
    if not rows or not fig.get("attempts"):
        return None
    n = int(max(r["pool_dials"] for r in rows) - min(r["pool_dials"] for r in rows))
    return {"dials": n, "requests": fig["attempts"], "per_request": round(n / fig["attempts"], 3)}


def references(scenario: str, variant: str) -> dict[str, str]:
    """Per metric, what the fixed build measured in its calibration runs, as words (kept in the run folder)."""
    path = SCENARIO_DIR / "calibration" / f"{scenario}.json"
    try:
        rows = json.loads(path.read_text())["expectations"]
    except (OSError, ValueError, KeyError):
        return {}
    out = {}
    for row in rows:
        if row.get("variant") == variant and row.get("min") is not None:
            span = f"{row['min']:g}" if row["min"] == row["max"] else f"{row['min']:g} to {row['max']:g}"
            out[row["metric"]] = f"the fixed build: {span} in {row['runs']} calibration runs"
    return out


def judge(run_dir: Path, summary: dict) -> dict:
    """The verdict of an exercise run; `summary` is the run's summary.json."""
    meta = json.loads((run_dir / "exercise" / "exercise.json").read_text())
    variant = meta["variant"]
    v = summary["variants"][variant]
    tested = meta["tested"]
    out = {"scenario": summary["scenario"], "run_dir": str(run_dir), "file": meta["workspace_file"],
           "gateway": _gateway(v, tested), "evidence": [], "gateway_failed": [], "stack": None}
    if not summary["complete"]:
        return {**out, "verdict": "no verdict", "why": "the run did not finish (its journal says where it stopped)"}
    rows = v["expectations"]
    blind = [r for r in rows if r.get("no_data") or (r["metric"] == "sampling.longest_gap_s" and not r["holds"])]
    if blind:
        why = "; ".join(f"{r['metric']}: " + (r.get("no_data") or f"no sample for {r['actual']} s") for r in blind)
        return {**out, "verdict": "no verdict", "why": f"the run did not measure everything ({why}); run the check again"}
    for r in rows:
        if r["holds"]:
            continue
        if seen_by_gateway(r["metric"]):
            out["gateway_failed"].append(_row(r))
        else:
            out["evidence"].append({**_row(r), "reference": meta.get("references", {}).get(r["metric"], "")})
    limit = meta.get("dials_per_request_max")  # from the exercise's file (scenarios/exercises/NAME.yaml), where calibrated
    for name in tested:
        d = dials(run_dir, variant, v["replicas"][name], name)
        out.setdefault("dials", {})[name] = d
        # A pool that dials past its own size closes connections instead of keeping them; the buggy
        # build holds its 20 for good, which the other checks show (20 dials for ~57 requests).
        if limit is not None and d and d["per_request"] > limit and d["dials"] > meta.get("pool_size", 0):
            out["evidence"].append({"metric": f"replicas.{name}.dials_per_request", "op": "<=", "value": limit,
                                    "actual": d["per_request"], "why": "the fixed build reuses its pooled connections",
                                    "reference": meta.get("dials_reference", ""), **d})
    out["stack"] = _stack(v, tested, meta, run_dir)
    if not out["evidence"]:
        out["verdict"] = "not fixed" if out["gateway_failed"] else "fixed"
    else:
        out["verdict"] = "still leaking" if out["gateway_failed"] else "hidden"
    return out


def _row(r: dict) -> dict:
    return {k: r[k] for k in ("metric", "op", "value", "actual", "why")}


def _gateway(v: dict, tested: list[str]) -> dict:
    c, g, b = v["client"], v["gateway"], v["bypass"] or {}
    return {"kind": g.get("kind", "nginx"), "requests": c.get("requests"), "errors_5xx": c.get("errors_5xx"),
            "slow": c.get("slow"), "retried": g.get("retried_requests"),
            "ejections": {r: v["replicas"][r].get("ejection_episodes") for r in tested},
            "bypass": b.get("figure"), "bad_requests": b.get("bad_requests"),
            "p50_ms": {r: f.get("p50_ms") for r, f in v["replicas"].items()},
            "inside": {r: {k: v["replicas"][r].get(k) for k in _INSIDE} for r in tested}}


_INSIDE = ("pool_waiters_peak", "goroutines_left", "fds_left", "stacks_grown", "leakwatch_flags")


def _stack(v: dict, tested: list[str], meta: dict, run_dir: Path) -> dict | None:
    """The largest grown own-code stack of a replica under test, its line mapped to the participant's file."""
    for name in tested:
        top = v["replicas"][name].get("top_stack")
        if not top or not top.get("own_frame"):
            continue
        where, _, line = top["own_frame"].rpartition(":")
        mine = where == meta["replaces"] or meta["replaces"].endswith("/" + where)
        text = ""
        if mine and line.isdigit():
            src = (run_dir / "exercise" / "src" / meta["replaces"]).read_text(errors="replace").splitlines()
            text = src[int(line) - 1].strip() if 0 < int(line) <= len(src) else ""
        return {**top, "replica": name, "in_your_file": mine, "line": int(line) if line.isdigit() else None,
                "at": f"{meta['workspace_file']}:{line}" if mine else top["own_frame"], "source": text}
    return None


def _pct(x) -> str:
    return "-" if x is None else f"{x:.0%}"


def _num(x) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


_HEAD = {"fixed": "FIXED: your build behaves like the fixed build under the same load and faults.",
         "still leaking": "STILL LEAKING: the leak is there and the gateway sees it.",
         "hidden": "HIDDEN: the leak is still there, but the gateway no longer sees it.",
         "not fixed": "NOT FIXED: no leak was measured, but the gateway still sees failures."}


def figure(vd: dict) -> str:
    """The one figure that shows a hidden leak: what the gateway let through, or what the pool did."""
    g = vd["gateway"]
    dial = next((e for e in vd["evidence"] if "dials" in e), None)
    if g["bypass"] is not None and g["bypass"] >= 0.9 and g["bad_requests"]:
        p50 = ", ".join(f"{r} {_num(ms)} ms" for r, ms in g["p50_ms"].items() if ms is not None)
        counted = "none of them" if g["bypass"] >= 1 else f"{_pct(1 - g['bypass'])} of them"
        return (f"{g['bad_requests']} requests were slow or failed (median answer: {p50}) and {g['kind']} counted "
                f"{counted}: bypass figure {_pct(g['bypass'])}.")
    if dial:
        return f"{dial['dials']} outbound connections dialled for {dial['requests']} requests: none was reused."
    st = vd["stack"]
    if st:
        return (f"+{st['growth']} goroutines in {st['blocking_call']} from {st['at']} "
                f"({'after the load' if st.get('when') == 'after' else 'at the peak of the load'}).")
    e = vd["evidence"][0]
    return f"{e['metric']} = {_num(e['actual'])} (the fixed build's limit: {e['op']} {_num(e['value'])})."


def text(vd: dict) -> str:
    """The verdict in plain words, with the figures that show it."""
    g = vd["gateway"]
    head = _HEAD.get(vd["verdict"], f"NO VERDICT: {vd.get('why', '')}.")
    out = [f"{vd['scenario']} exercise, {vd['file']}: {head}"]
    if vd["verdict"] == "hidden":
        out.append(f"The figure: {figure(vd)}")
    out.append("")
    ej = ", ".join(f"{n} of {r}" for r, n in g["ejections"].items())
    bad = (f"{_pct(g['bypass'])} of the {g['bad_requests']} slow or failed requests never counted by {g['kind']}"
           if g["bad_requests"] else "no slow or failed request")
    out.append(f"What {g['kind']} and the clients saw: {g['requests']} requests, {g['errors_5xx']} 5xx, "
               f"{g['retried']} retried on another replica, ejections: {ej}, {g['slow']} slow; {bad}.")
    for r in vd["gateway_failed"]:
        out.append(f"  - {r['metric']} {r['op']} {_num(r['value'])} does not hold: measured {_num(r['actual'])}")
    for r, f in g["inside"].items():
        d = (vd.get("dials") or {}).get(r)
        said = [f"at most {_num(f['pool_waiters_peak'])} requests waited for a pooled connection"
                if f["pool_waiters_peak"] is not None else None,
                f"after the load {_num(f['goroutines_left'])} goroutines and {_num(f['fds_left'])} fds more than before"
                if f["goroutines_left"] is not None else None,
                f"{_num(f['stacks_grown'])} own stacks grown" if f["stacks_grown"] is not None else None,
                f"leak-watch flags: {_num(f['leakwatch_flags'])}" if f["leakwatch_flags"] is not None else None,
                f"{d['dials']} connections dialled for {d['requests']} requests" if d else None]
        out.append(f"Inside replica {r}: {'; '.join(x for x in said if x) or 'nothing measured'}.")
    if vd["evidence"]:
        out.append("The leak (what the fixed build does not do):")
    for e in vd["evidence"]:
        if "dials" in e:
            out.append(f"  - {e['per_request']:.2f} dials a request ({e['reference']}): no connection went back to "
                       f"the pool. That is what a request context or a timeout closing a body nobody read looks like "
                       f"(a body closed without being read to the end looks the same).")
        else:
            ref = f"; {e['reference']}" if e.get("reference") else ""
            out.append(f"  - {e['metric']} = {_num(e['actual'])} (limit {e['op']} {_num(e['value'])}{ref})")
    s = vd["stack"]
    if s and vd["verdict"] != "fixed":
        when = "after the load" if s.get("when") == "after" else "at the peak of the load"
        out.append(f"Growing stack ({when}): +{s['growth']} goroutines in {s['blocking_call']} from {s['at']}"
                   f"{'' if s['in_your_file'] else ' (not your file)'}")
        if s["source"]:
            out.append(f"    {s['line']:>4} | {s['source']}")
    return "\n".join(out)
