"""From a run folder to the figures of each variant, and the verdict.

Pure functions: they read the folder and return tables and dicts; nothing runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from harness.record import capture
from harness.analysis import gateway, leaks, records
from harness.analysis.expect import check, expectations
from harness.analysis import stacks as stacks_mod
from harness.record.journal import read as read_journal
from harness.scenario import CLIENT_METRICS, Gateway, Scenario

REJECTED = (403, 421)  # a service turning the request away: forbidden, misdirected (wrong host)
DEFAULT_PORTS = {"http": "80", "https": "443"}


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

    @property
    def t0(self) -> float:
        if "t0" in self.meta:
            return float(self.meta["t0"])
        return float(self.requests["start"].min()) if len(self.requests) else 0.0


def load_variant(run_dir: Path, variant: str, scenario: Scenario) -> VariantData:
    scenario = scenario.resolve(variant) if variant in scenario.variants else scenario
    folder = run_dir / "variants" / variant
    stack = records.stack(folder)
    amap = gateway.addr_map(stack)
    access = records.access(folder)
    errors = records.error_log(folder)
    return VariantData(
        name=variant, folder=folder, meta=records.meta(folder), requests=records.requests(folder),
        samples=records.samples(folder), access=access, attempts=gateway.attempts(access, amap, scenario.gateway),
        errors=errors, episodes=gateway.episodes(errors, amap, scenario.gateway.fail_timeout_s),
        toxics=records.toxics(folder), addr_to_replica=amap,
    )


def _pct(values: pd.Series, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if len(values) else None


def public_origin(gw: Gateway, gateway_addr: str | None) -> str | None:
    """The origin clients use: gateway.public_scheme + public_host, else the gateway's own address."""
    host = gw.public_host or gateway_addr
    return f"{gw.public_scheme}://{host}" if host else None


def redirect_target(location, public_scheme: str = "http") -> str:
    """A Location header -> 'relative', 'none' (no header), or its origin, e.g. 'http://app'.

    A relative reference resolves against the origin the client used, so it is
    always right; a scheme-relative one (//host/x) takes the client's scheme.
    Default ports are dropped and the host lower-cased, so equal origins compare equal.
    """
    if not isinstance(location, str) or not location.strip():
        return "none"
    loc = location.strip()
    if loc.startswith("//"):
        loc = f"{public_scheme}:{loc}"
    try:
        parts = urlsplit(loc)
        port = parts.port
    except ValueError:
        return "unparsable"
    if not parts.scheme or not parts.netloc:
        return "relative"
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port_part = f":{port}" if port is not None and str(port) != DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{host}{port_part}"


def redirects(req: pd.DataFrame, origin: str | None) -> dict:
    """3xx answers and where they point; wrong: an absolute Location off the public origin."""
    r = req[(req["status"] >= 300) & (req["status"] < 400)]
    scheme = origin.split("://", 1)[0] if origin else "http"
    expected = redirect_target(origin, scheme) if origin else None
    targets = pd.Series([redirect_target(loc, scheme) for loc in r["location"]], dtype=object)
    wrong = int((~targets.isin(["relative", "none", expected])).sum()) if expected else None
    n, rejected = len(req), int(req["status"].isin(REJECTED).sum())
    return {
        "redirects": len(r),
        "wrong_redirects": wrong,
        "wrong_redirect_rate": round(wrong / len(r), 4) if wrong is not None and len(r) else 0.0,
        "redirect_targets": {k: int(v) for k, v in targets.value_counts().items()},
        "rejected": rejected,
        "rejected_rate": round(rejected / n, 4) if n else 0.0,
    }


def client(req: pd.DataFrame, slow_ms: float, origin: str | None = None) -> dict:
    n = len(req)
    if n == 0:  # no request recorded: every figure is "no data", never a zero that passes
        return {"requests": 0, "status": {}, **{m: None for m in CLIENT_METRICS if m != "requests"}}
    duration = (req["end"].max() - req["start"].min()) if n else 0.0
    errors = int((req["status"] >= 500).sum())
    slow = int((req["ms"] >= slow_ms).sum())
    return {
        "requests": n,
        "rps": round(n / duration, 2) if duration > 0 else 0.0,
        "status": {str(k): int(v) for k, v in req["status"].value_counts().sort_index().items()},
        "errors_5xx": errors,
        "rate_5xx": round(errors / n, 4) if n else 0.0,
        "conn_errors": int((req["status"] == 0).sum()),
        "slow": slow,
        "slow_share": round(slow / n, 4) if n else 0.0,
        "p50_ms": _pct(req["ms"], 50), "p90_ms": _pct(req["ms"], 90), "p99_ms": _pct(req["ms"], 99),
        "max_ms": round(float(req["ms"].max()), 1) if n else None,
        **redirects(req, origin),
    }


def outcome(status: int, ms: float, slow_ms: float | None) -> str:
    """A client request's outcome label: its status, 'no answer', or '<status> slow'."""
    if status == 0:
        return "no answer"
    if slow_ms is not None and status < 400 and ms >= slow_ms:
        return f"{status} slow"
    return str(status)


def endpoint_key(endpoint: str) -> str:
    """'GET /api/item' -> 'api-item': a name that fits a metric path."""
    path = endpoint.split(" ", 1)[-1]
    return path.strip("/").replace("/", "-") or "root"


def per_endpoint(req: pd.DataFrame, slow_ms: float, origin: str | None = None) -> dict:
    return {endpoint_key(name): client(group, slow_ms, origin) for name, group in req.groupby("endpoint")}


def rewritten_redirects(access: pd.DataFrame) -> int:
    """Redirects whose Location nginx changed on the way (proxy_redirect): the replica's vs the client's."""
    def present(col: str) -> pd.Series:
        return access[col].fillna("").astype(str).replace("-", "") if col in access else pd.Series("", index=access.index)
    up, sent = present("upstream_location"), present("location")
    return int(((up != "") & (up != sent)).sum())


def per_second(req: pd.DataFrame, t0: float, slow_ms: float | None = None) -> pd.DataFrame:
    """Client-visible outcomes per second of the run (by completion time)."""
    if req.empty:
        return pd.DataFrame()
    sec = np.floor(req["end"] - t0).astype(int)
    labels = [outcome(s, m, slow_ms) for s, m in zip(req["status"], req["ms"])]
    counts = pd.crosstab(sec, pd.Series(labels, index=req.index, name="outcome")).sort_index()
    lat = req.groupby(sec)["ms"].quantile([0.5, 0.99]).unstack()
    counts["p50_ms"] = lat[0.5]
    counts["p99_ms"] = lat[0.99]
    return counts


def longest_gap(samples: pd.DataFrame, t0: float, t_end: float) -> float | None:
    """The longest stretch of the load without any sample (any replica, even a failed scrape).

    The sampler is one thread on a fixed interval: a long gap means the whole machine
    stalled (seen: 16 s in which the sampler, Locust and the run loop all stood still),
    so nothing of that stretch was measured.
    """
    if "t" not in samples or not len(samples):
        return None
    t = np.sort(np.concatenate([[t0], samples["t"].to_numpy(float), [t_end]]))
    t = t[(t >= t0) & (t <= t_end)]
    return round(float(np.diff(t).max()), 1) if len(t) > 1 else None


def slope(t: pd.Series, y: pd.Series) -> float:
    """Least-squares slope of y over t, per second."""
    if len(t) < 2 or float(t.max() - t.min()) == 0:
        return 0.0
    return float(np.polyfit(t.astype(float), y.astype(float), 1)[0])


def trend(t: pd.Series, y: pd.Series, max_points: int = 600) -> float:
    """Theil-Sen slope of y over t (the median of the slopes between every two samples), per second.

    Robust where the least-squares slope is not: a fixed build's goroutines step up
    when a fault adds latency and down when it lifts, which tilts a least-squares
    line either way; most pairs of samples lie on the flat parts and say 0. A leak
    that grows, even in steps, tilts most pairs.
    """
    if len(t) < 2:
        return 0.0
    step = max(1, len(t) // max_points)
    tt, yy = t.to_numpy(float)[::step], y.to_numpy(float)[::step]
    i, j = np.triu_indices(len(tt), k=1)
    dt = tt[j] - tt[i]
    ok = dt > 0
    return float(np.median((yy[j] - yy[i])[ok] / dt[ok])) if ok.any() else 0.0


def _last(s: pd.DataFrame, col: str) -> float | None:
    values = s[col].dropna() if col in s else pd.Series(dtype=float)
    return round(float(values.iloc[-1]), 1) if len(values) else None


def replica(samples: pd.DataFrame, att: pd.DataFrame, eps: pd.DataFrame, name: str,
            t0: float, t_end: float, steady_after_s: float = 0.0) -> dict:
    s = samples[(samples["replica"] == name)] if "replica" in samples else samples
    scrape_errors = int(s["error"].notna().sum()) if "error" in s else 0
    if "goroutines" in s:
        s = s[s["goroutines"].notna()]
    window = s[(s["t"] >= t0) & (s["t"] <= t_end)] if len(s) else s
    steady = window[window["t"] >= t0 + steady_after_s] if len(window) else window
    # The baseline: the last sample before the load (the sampler starts first).
    before = s[s["t"] < t0] if len(s) else s
    base = None
    if "goroutines" in s and len(s):
        base = int((before if len(before) else s)["goroutines"].iloc[-1 if len(before) else 0])
    a = att[att["replica"] == name]

    def peak(col: str, scale: float = 1.0) -> float | None:
        return round(float(s[col].max()) / scale, 1) if col in s and len(s) else None

    mine = eps[eps["replica"] == name]
    failed = a[a["counted"].astype(bool)]  # an empty log gives an object column: index by a boolean one
    return {
        "goroutine_slope": round(slope(steady["t"], steady["goroutines"]), 3) if "goroutines" in steady else None,
        "goroutine_trend": round(trend(steady["t"], steady["goroutines"]), 3) if "goroutines" in steady else None,
        "goroutine_growth": int(window["goroutines"].iloc[-1] - base) if base is not None and len(window) else None,
        "goroutines_start": base,
        "goroutines_peak": peak("goroutines"),
        "inflight_peak": peak("inflight"),
        "pool_in_use_peak": peak("pool_in_use"),
        "pool_waiters_peak": peak("pool_waiters"),
        "open_fds_peak": peak("open_fds"),
        "rss_peak_mb": peak("rss_bytes", 1024 * 1024),
        # database/sql's pool (DB.Stats()); wait count and wait seconds are counters, so their
        # largest sample is the total; in use "after": the last sample, when the load is over.
        "db_in_use_peak": peak("db_in_use"),
        "db_in_use_after": _last(s, "db_in_use"),
        "db_open_peak": peak("db_open"),
        "db_max_open": peak("db_max_open"),
        "db_wait_count": peak("db_wait_count"),
        "db_wait_s": peak("db_wait_s"),
        "scrape_errors": scrape_errors,
        "attempts": len(a),
        "failed_attempts": len(failed),
        "failed_by_kind": {k: int(v) for k, v in failed["kind"].value_counts().items()},
        "served": int((a["last"] & (a["kind"] == "ok")).sum()),
        "p50_ms": round(float(a["response_time"].median()) * 1000, 1) if a["response_time"].notna().any() else None,
        "p99_ms": round(float(a["response_time"].quantile(0.99)) * 1000, 1) if a["response_time"].notna().any() else None,
        "ejection_episodes": len(mine),
        "down_s": round(float((mine["end"] - mine["start"]).sum()), 1),
        "samples": len(s),
        **leaks.drained(s, t0, t_end),
    }


def bypass(req: pd.DataFrame, att: pd.DataFrame, slow_ms: float) -> dict:
    """Bad requests (5xx, no answer, or slow) that nginx's health check never noticed.

    noticed: one of its attempts counted toward max_fails; no_live: nginx had no
    server left to try; bypassed: it reached a replica and nothing was counted.
    """
    bad = req[(req["status"] >= 500) | (req["status"] == 0) | (req["ms"] >= slow_ms)]
    by_rid = att.groupby("rid").agg(counted=("counted", "any"), no_live=("kind", lambda k: (k == "no_live_upstreams").all()))
    joined = bad.join(by_rid, on="rid")
    noticed = int(joined["counted"].fillna(False).astype(bool).sum())
    no_live = int((~joined["counted"].fillna(False).astype(bool) & joined["no_live"].fillna(False).astype(bool)).sum())
    unseen = int(joined["counted"].isna().sum())  # never reached nginx's access log
    bypassed = len(bad) - noticed - no_live - unseen
    return {
        "bad_requests": len(bad), "noticed": noticed, "no_live": no_live, "bypassed": bypassed, "unseen": unseen,
        "figure": round(bypassed / len(bad), 4) if len(bad) else 0.0,
    }


def crosscheck(req: pd.DataFrame, access: pd.DataFrame) -> dict:
    """Every request Locust recorded should be in nginx's access log, and back."""
    locust_ids = set(req["rid"])
    nginx_ids = set(access["rid"])
    missing = req[~req["rid"].isin(nginx_ids)]
    unexpected = access[~access["rid"].isin(locust_ids)]
    return {
        "locust_requests": len(req),
        "access_log_requests": len(access),
        "matched": len(locust_ids & nginx_ids),
        "missing_in_access_log": int((missing["status"] != 0).sum()),
        "connection_errors_not_logged": int((missing["status"] == 0).sum()),
        "unexpected_in_access_log": len(unexpected),
        "unexpected_statuses": {str(k): int(v) for k, v in unexpected["status"].value_counts().items()},
        "missing_examples": missing["rid"].head(5).tolist(),
    }


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
            r: replica(data.samples, att, data.episodes, r, t0, t_end, scenario.analysis.steady_after_s)
            for r in data.meta.get("replicas", sorted(set(data.addr_to_replica.values())))
        },
        "gateway": {
            "requests": len(reqs),
            "retried_requests": retried,
            "no_live_upstreams": int((att["kind"] == "no_live_upstreams").sum()),
            "ejection_episodes": len(data.episodes),
            "rewritten_redirects": rewritten_redirects(reqs),
            "error_log": {k: int(v) for k, v in data.errors["kind"].value_counts().items()},
            "error_log_read": (data.folder / "nginx" / "error.log").exists(),
        },
        "bypass": bypass(data.requests, att, slow_ms),
        "crosscheck": crosscheck(data.requests, reqs),
        "deaths": data.meta.get("deaths", {}),
        "captures": [{"file": str(f), "open": cmd} for f, cmd in capture.files(data.folder / "capture")],
        "toxic_errors": int((data.toxics["ok"] == False).sum()) if len(data.toxics) else 0,  # noqa: E712
        "sampling": {"longest_gap_s": longest_gap(data.samples, t0, t_end)},
    }
    for r, fig in summary["replicas"].items():
        stacks = stacks_mod.growth(data.folder / "goroutines", r)
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
        acc = records.accept_errors(data.folder, r)
        fig["accept_errors"] = len(acc)
        fig["first_accept_error_s"] = round(float(acc["t"].min() - t0), 1) if len(acc) else None
        fig["accept_error"] = acc["error"].iloc[0] if len(acc) else None
        fig["deaths"] = sum(1 for d in data.meta.get("deaths", []) if d.get("process") == f"replica-{r}")
        fig.update(leaks.runtime_profile(data.folder / "goroutines", r))
        fig["has_pprof"] = bool(stack_info.get("replicas", {}).get(r, {}).get("pprof"))
        fig["has_leakwatch"] = fig.get("leakwatch_flags") is not None
        fig["leak_signals"] = leaks.signals(scenario.leak_checks, fig)
    summary["leak_checks"] = scenario.leak_checks.model_dump()
    summary["expectations"] = check(expectations(scenario, data.name, summary), summary)
    summary["verdict"] = "pass" if all(e["holds"] for e in summary["expectations"]) else "fail"
    return summary


def summarize(run_dir: Path) -> tuple[dict, dict[str, VariantData]]:
    scenario = records.scenario(run_dir)
    names = records.variants(run_dir)
    data = {v: load_variant(run_dir, v, scenario) for v in names}
    per_variant = {v: variant_summary(d, scenario) for v, d in data.items()}
    journal = read_journal(run_dir / "journal.jsonl")
    finished = any(j["step"] == "run finished" for j in journal)
    stopped = next((j for j in journal if j["step"] == "run stopped"), None)
    planned = records.planned(run_dir)
    complete = finished and all(s["complete"] for s in per_variant.values()) and len(names) == len(planned)
    verdict = "pass" if complete and all(s["verdict"] == "pass" for s in per_variant.values()) else "fail"
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "run_dir": str(run_dir),
        "complete": complete,
        "stopped": stopped,
        "variants_planned": planned,
        "variants": per_variant,
        "verdict": verdict if complete else "incomplete",
    }, data
