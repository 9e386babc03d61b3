"""Caddy's records: its JSON log (caddy/caddy.log), the access log ("handled request", one per request)
and reverse_proxy's debug line "upstream roundtrip", one per attempt, with the status or the error.

What Caddy's passive check counts (reverseproxy.go, v2.11.9): every failed round trip (dial, timeout,
reset), a status listed in unhealthy_status, and a response whose headers took unhealthy_latency or
longer. Each failure is forgotten fail_duration after it was counted, and a member is out while
max_fails are remembered. Caddy logs no line when that happens, so the episodes are computed from the
counted attempts by that rule; the gateway's own view (fails per member, from its admin API) is in
gateway.jsonl to check them against.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from harness.analysis.gateways import ATTEMPT_COLUMNS, ERROR_COLUMNS, View, held_out
from harness.scenario import Gateway
from harness.stack.gateways.caddy import HEALTH_PATH, statuses  # the statuses the rendered config counts

LOG = "caddy/caddy.log"
NO_UPSTREAM = "(none)"
_ERRORS = (("timeout awaiting response headers", "timeout"), ("i/o timeout", "timeout"), ("connection refused", "refused"),
           ("connection reset", "reset"), ("EOF", "premature_close"), ("broken pipe", "broken_pipe"))


def read(folder: Path, amap: dict[str, str], gw: Gateway) -> View:
    path = folder / LOG
    handled, trips = parse(path.read_text(errors="replace") if path.exists() else "")
    acc = access(handled)
    att = attempts(acc, trips, amap, gw)
    failures = [(a.end, a.replica) for a in att.itertuples() if a.counted]
    eps = held_out(failures, gw.max_fails, gw.fail_timeout_s) if gw.max_fails > 0 else held_out([], 1, 1)
    return View(access=acc, attempts=att, errors=errors(att), episodes=eps, log_read=path.exists())


def _rid(entry: dict) -> str | None:
    ids = entry.get("request", {}).get("headers", {}).get("X-Request-Id")
    return ids[0] if ids else None


def parse(text: str) -> tuple[list[dict], list[dict]]:
    handled, trips = [], []
    for line in text.splitlines():
        try:
            e = json.loads(line)
        except json.JSONDecodeError:
            continue
        if e.get("msg") == "handled request":
            if e.get("request", {}).get("uri") != HEALTH_PATH:  # the harness's own readiness checks
                handled.append(e)
        elif e.get("msg") == "upstream roundtrip":
            trips.append(e)
    return handled, trips


def access(handled: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "end": e["ts"], "rid": _rid(e), "method": e.get("request", {}).get("method"),
        "uri": e.get("request", {}).get("uri"), "status": int(e.get("status", 0)), "request_time": float(e.get("duration", 0)),
    } for e in handled], columns=["end", "rid", "method", "uri", "status", "request_time"])


def error_kind(error: str) -> str:
    return next((k for needle, k in _ERRORS if needle in error), "error")


def trip_kind(e: dict, gw: Gateway) -> tuple[str, bool]:
    """One round trip -> (kind, counted by the passive check)."""
    checking = gw.max_fails > 0
    if "error" in e:
        return error_kind(e["error"]), checking
    status = int(e.get("status", 0))
    latency = gw.caddy.unhealthy_latency_ms
    slow = latency is not None and e.get("duration", 0) * 1000 >= latency
    counted = checking and (status in statuses(gw) or slow)
    kind = "ok" if status < 400 else f"http_{status}"
    return ("slow" if slow and kind == "ok" else kind), counted


def attempts(acc: pd.DataFrame, trips: list[dict], amap: dict[str, str], gw: Gateway) -> pd.DataFrame:
    rows = []
    by_rid: dict[str | None, list[dict]] = {}
    for e in sorted(trips, key=lambda e: e["ts"]):
        by_rid.setdefault(_rid(e), []).append(e)
    for r in acc.itertuples(index=False):
        mine = by_rid.get(r.rid, [])
        for i, e in enumerate(mine):
            kind, counted = trip_kind(e, gw)
            rows.append({"rid": r.rid, "n": i, "last": i == len(mine) - 1, "addr": e.get("upstream"),
                         "replica": amap.get(e.get("upstream", ""), "?"),
                         "status": int(e["status"]) if "status" in e else None, "response_time": e.get("duration"),
                         "header_time": e.get("duration") if "status" in e else None, "end": e["ts"],
                         "kind": kind, "counted": counted, "method": r.method})
        if r.status == 503 and not mine:  # no member left to try: Caddy's own 503 "no upstreams available"
            rows.append({"rid": r.rid, "n": 0, "last": True, "addr": None, "replica": NO_UPSTREAM, "status": None,
                         "response_time": None, "header_time": None, "end": r.end, "kind": "no_live_upstreams",
                         "counted": False, "method": r.method})
    return pd.DataFrame(rows, columns=ATTEMPT_COLUMNS)


def errors(att: pd.DataFrame) -> pd.DataFrame:
    """Caddy has no error log of its own here: the failed round trips by kind, and the no-upstream answers."""
    bad = att[~att["kind"].isin(["ok", "slow"]) & ~att["kind"].str.startswith("http_")] if len(att) else att
    rows = [{"t": a.end, "level": "debug", "kind": a.kind, "upstream": a.addr, "message": ""} for a in bad.itertuples()]
    return pd.DataFrame(rows, columns=ERROR_COLUMNS)


def out(state: dict, gw: Gateway) -> bool:
    """Caddy's admin API says this member is out: it remembers max_fails failures."""
    return gw.max_fails > 0 and (state.get("fails") or 0) >= gw.max_fails
