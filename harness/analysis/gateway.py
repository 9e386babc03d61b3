"""What nginx did: per-attempt outcomes, what max_fails counted, ejection episodes.

The counting rules are nginx's, as measured (shared ground truth §1):
transport failures (refused, reset, timeout, premature close) always count;
an upstream status counts only when listed as http_<code> in
proxy_next_upstream, and for POST/PATCH only with non_idempotent too; 403 and
404 never count.
"""

from __future__ import annotations

import re

import pandas as pd

from harness.stack.gateways.nginx import UPSTREAM
from harness.scenario import Gateway

COUNTABLE_STATUSES = {500, 502, 503, 504, 429}
NON_IDEMPOTENT = {"POST", "PATCH", "LOCK"}
_SPLIT = re.compile(r", | : ")


def _items(value) -> list[str | None]:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return []
    return [None if v in ("-", "") else v for v in _SPLIT.split(str(value))]


def _float(v: str | None) -> float | None:
    try:
        return float(v) if v is not None else None
    except ValueError:
        return None


def attempt_kind(addr: str | None, status: int | None, header_time: float | None, method: str,
                 gw: Gateway) -> tuple[str, bool]:
    """-> (kind, counted toward max_fails)."""
    if addr == UPSTREAM:
        return "no_live_upstreams", False
    if header_time is None:  # no response header from the replica
        return ("timeout" if status == 504 else "error"), True
    if status is None or status < 400:
        return "ok", False
    listed = f"http_{status}" in gw.proxy_next_upstream and status in COUNTABLE_STATUSES
    if listed and (method not in NON_IDEMPOTENT or "non_idempotent" in gw.proxy_next_upstream):
        return f"http_{status}", True
    return f"http_{status}", False


def attempts(access: pd.DataFrame, addr_to_replica: dict[str, str], gw: Gateway) -> pd.DataFrame:
    """One row per upstream attempt. Times: the attempt's estimated end (epoch s)."""
    rows = []
    for r in access.itertuples(index=False):
        addrs = _items(r.upstream_addr)
        statuses = _items(r.upstream_status)
        rtimes = _items(r.upstream_response_time)
        htimes = _items(r.upstream_header_time)
        start = r.end - r.request_time
        elapsed = 0.0
        for i, addr in enumerate(addrs):
            status = int(statuses[i]) if i < len(statuses) and statuses[i] and statuses[i].isdigit() else None
            rt = _float(rtimes[i]) if i < len(rtimes) else None
            ht = _float(htimes[i]) if i < len(htimes) else None
            elapsed += rt or 0.0
            kind, counted = attempt_kind(addr, status, ht, r.method, gw)
            rows.append({
                "rid": r.rid, "n": i, "last": i == len(addrs) - 1, "addr": addr,
                "replica": addr_to_replica.get(addr or "", "(none)" if addr == UPSTREAM else "?"),
                "status": status, "response_time": rt, "header_time": ht, "end": start + elapsed,
                "kind": kind, "counted": counted, "method": r.method,
            })
    return pd.DataFrame(rows, columns=["rid", "n", "last", "addr", "replica", "status", "response_time", "header_time",
                                       "end", "kind", "counted", "method"])


def episodes(errors: pd.DataFrame, addr_to_replica: dict[str, str], fail_timeout_s: float) -> pd.DataFrame:
    """Periods a replica was marked down.

    nginx logs "temporarily disabled" on every failure once fails >= max_fails
    and keeps the server down for fail_timeout after the latest one. Lines inside
    that window extend the episode; a line after it closed (a failed trial
    request) starts a new one.
    """
    rows = []
    disabled = errors[errors["kind"] == "disabled"]
    for addr, group in disabled.groupby("upstream"):
        replica = addr_to_replica.get(addr, addr)
        start = last = None
        lines = 0
        for t in sorted(group["t"]):
            if start is not None and t <= last + fail_timeout_s:
                last, lines = t, lines + 1
                continue
            if start is not None:
                rows.append({"replica": replica, "start": start, "end": last + fail_timeout_s, "lines": lines})
            start = last = t
            lines = 1
        if start is not None:
            rows.append({"replica": replica, "start": start, "end": last + fail_timeout_s, "lines": lines})
    return pd.DataFrame(rows, columns=["replica", "start", "end", "lines"]).sort_values(["replica", "start"]).reset_index(drop=True)


def addr_map(stack: dict) -> dict[str, str]:
    """Gateway-leg proxy listen address -> replica name (what $upstream_addr shows)."""
    return {p["listen"]: p["replica"] for p in stack.get("proxies", {}).values() if p.get("leg") == "gateway"}


def bypass(req: pd.DataFrame, att: pd.DataFrame, slow_ms: float) -> dict:
    """Bad requests (5xx, no answer, or slow) that nginx's health check never noticed.

    noticed: one of its attempts counted toward max_fails; no_live: nginx had no
    server left to try; bypassed: it reached a replica and nothing was counted.
    """
    bad = req[(req["status"] >= 500) | (req["status"] == 0) | (req["ms"] >= slow_ms)]
    # vectorised: a Python function per request took 25 s on a 20-minute run
    by_rid = (att.assign(live=att["kind"] != "no_live_upstreams").groupby("rid")
              .agg(counted=("counted", "any"), some_live=("live", "any")))
    by_rid["no_live"] = ~by_rid.pop("some_live").astype(bool)
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
