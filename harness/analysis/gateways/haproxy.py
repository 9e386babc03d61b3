"""HAProxy's records: its log (logs/haproxy.log, ISO-dated lines on stdout), one JSON line per request
and the "Server app/<replica> is DOWN / UP" lines that open and close an ejection.

HAProxy logs one line per request, not per attempt: %rc says how many times it retried and %s where the
last try went. The earlier tries are rows with replica "?" (their servers are not logged), not counted:
HAProxy's layer7 observing does not count a failure it retried (measured: 137 response timeouts retried
elsewhere left the server's eresp at 0 and it was never marked down). The last try's kind comes from
the termination state %tsc (first letter: who ended it, s = server timeout, S = server error; second:
when, C = connecting, H = waiting for headers, D = data).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from harness.analysis.gateways import ATTEMPT_COLUMNS, EPISODE_COLUMNS, ERROR_COLUMNS, View
from harness.scenario import Gateway
from harness.stack.gateways.haproxy import HEALTH_PATH

LOG = "logs/haproxy.log"
NO_SERVER = "<NOSRV>"
_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d) (.*)$")
_STATE = re.compile(r"^(?:\[\w+\]\s+\(\d+\) : )?Server \w+/([\w-]+) is (DOWN|UP)\b")
# layer7 observing: every 5xx but these is an error
NOT_ERRORS = {501, 505}


def read(folder: Path, amap: dict[str, str], gw: Gateway) -> View:
    path = folder / LOG
    requests, states, last_t = parse(path.read_text(errors="replace") if path.exists() else "")
    acc = access(requests)
    att = attempts(requests, amap, gw)
    return View(access=acc, attempts=att, errors=errors(states, att), episodes=episodes(states, amap, last_t),
                log_read=path.exists())


def parse(text: str) -> tuple[list[dict], list[dict], float | None]:
    """-> request records, server state changes (t, server, state, message), the last line's time."""
    requests, states, last_t = [], [], None
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue  # HAProxy's own start-up lines on stderr
        t = datetime.fromisoformat(m.group(1)).timestamp()
        last_t = t
        msg = m.group(2)
        if msg.startswith("{"):
            try:
                r = json.loads(msg)
            except json.JSONDecodeError:
                continue
            if r.get("uri") != HEALTH_PATH:  # the harness's own readiness checks
                requests.append(r)
            continue
        s = _STATE.match(msg)
        if s:
            states.append({"t": t, "server": s.group(1), "state": s.group(2), "message": msg})
        elif "has no server available" in msg:
            states.append({"t": t, "server": None, "state": "NONE", "message": msg})
    return requests, states, last_t


def access(requests: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame([{
        "end": r["end_ms"] / 1000, "rid": r.get("rid") or None, "method": r.get("method"), "uri": r.get("uri"),
        "status": int(r.get("status", 0)), "request_time": max(0, r.get("ta_ms", 0)) / 1000,
        "server": r.get("server"), "retries": r.get("retries"), "term": r.get("term"),
    } for r in requests], columns=["end", "rid", "method", "uri", "status", "request_time", "server", "retries", "term"])
    return df


def last_kind(r: dict, gw: Gateway) -> tuple[str, bool]:
    """The last try of a request -> (kind, counted by layer7 observing)."""
    observing = gw.max_fails > 0
    term = (r.get("term") or "--")
    status = int(r.get("status", 0))
    if r.get("server") == NO_SERVER:
        return "no_live_upstreams", False
    if term[0] == "s" and term[1] in "CHD":
        return "timeout", observing
    if term[0] == "S" and term[1] in "CHD":
        return "error", observing
    if r.get("tr_ms", -1) < 0:
        return "error", observing
    if status >= 500:
        return f"http_{status}", observing and status not in NOT_ERRORS
    return ("ok" if status < 400 else f"http_{status}"), False


def attempts(requests: list[dict], amap: dict[str, str], gw: Gateway) -> pd.DataFrame:
    rows = []
    for r in requests:
        retries = int(str(r.get("retries", "0")).lstrip("+") or 0)
        end = r["end_ms"] / 1000
        total = max(0, r.get("ta_ms", 0)) / 1000
        for i in range(retries):  # earlier tries: where and why are not logged
            rows.append({"rid": r.get("rid"), "n": i, "last": False, "addr": None, "replica": "?", "status": None,
                         "response_time": None, "header_time": None, "end": end - total, "kind": "retried",
                         "counted": False, "method": r.get("method")})
        kind, counted = last_kind(r, gw)
        server = r.get("server")
        header = r.get("tr_ms", -1)
        rows.append({"rid": r.get("rid"), "n": retries, "last": True, "addr": server,
                     "replica": "(none)" if server == NO_SERVER else amap.get(server, "?"),
                     "status": None if kind in ("timeout", "error", "no_live_upstreams") else int(r.get("status", 0)),
                     "response_time": total, "header_time": header / 1000 if header >= 0 else None, "end": end,
                     "kind": kind, "counted": counted, "method": r.get("method")})
    return pd.DataFrame(rows, columns=ATTEMPT_COLUMNS)


def episodes(states: list[dict], amap: dict[str, str], last_t: float | None) -> pd.DataFrame:
    """From each "is DOWN" to the next "is UP" of the same server (or the log's end)."""
    rows, down = [], {}
    for s in states:
        if s["state"] == "DOWN" and s["server"] not in down:
            down[s["server"]] = s["t"]
        elif s["state"] == "UP" and s["server"] in down:
            rows.append({"replica": amap.get(s["server"], s["server"]), "start": down.pop(s["server"]), "end": s["t"], "lines": 1})
    for server, start in down.items():
        rows.append({"replica": amap.get(server, server), "start": start, "end": last_t or start, "lines": 1})
    return pd.DataFrame(rows, columns=EPISODE_COLUMNS).sort_values(["replica", "start"]).reset_index(drop=True)


def errors(states: list[dict], att: pd.DataFrame) -> pd.DataFrame:
    """The state lines (disabled, up, no_live_upstreams) and each failed last try by kind (timeout, error)."""
    kinds = {"DOWN": "disabled", "UP": "up", "NONE": "no_live_upstreams"}
    rows = [{"t": s["t"], "level": "notice", "kind": kinds[s["state"]], "upstream": s["server"], "message": s["message"]}
            for s in states]
    bad = att[att["last"] & att["kind"].isin(["timeout", "error"])] if len(att) else att
    rows += [{"t": a.end, "level": "request", "kind": a.kind, "upstream": a.addr, "message": ""} for a in bad.itertuples()]
    return pd.DataFrame(rows, columns=ERROR_COLUMNS)


def out(state: dict, gw: Gateway) -> bool:
    """HAProxy's stats say this server is out: DOWN (or going up again from DOWN, "DOWN 1/2")."""
    return str(state.get("status", "")).startswith(("DOWN", "MAINT"))
