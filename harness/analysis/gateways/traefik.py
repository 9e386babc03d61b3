"""Traefik's records: its access log (traefik/access.log, JSON, one line per client request) and its DEBUG
log (traefik/traefik.log, JSON, times to the second).

What its passive check counts (pkg/healthcheck, v3.6.12): an attempt that ends with a status of 500 or
more, its own 502/504 included, or that never reached the server (a failed dial); the failures must be
consecutive (a good answer clears them). A client that gives up first (499) is a success to it.

Exact: each request's last attempt (the access log: ServiceURL, OriginStatus, Duration, to the ns) and
the episodes: from each "Setting status of <url> to DOWN" to the next "... to UP" (the passive check's
own lines; the server comes back after failureWindow on a timer). The log's times are whole seconds, so
an episode starts at the counted failure in the access log that ended within the DOWN line's second (the
check runs as that attempt returns), and ends failureWindow later when the UP line confirms it.
Inferred: the earlier attempts. The access log describes only the last one (RetryAttempts stays 0), and
Traefik retries only dials that failed, which no replica ever sees. Each retry is a DEBUG "New attempt"
line, after the dial's error line (its address); it is given to a request on the same path that was
running in that second and whose last attempt went elsewhere (the earliest such): without the request's
id in those lines, which request is a guess; how many retries, to which server and when are not.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from harness.analysis.gateways import ATTEMPT_COLUMNS, EPISODE_COLUMNS, ERROR_COLUMNS, View
from harness.scenario import Gateway
from harness.stack.gateways.traefik import ACCESS_LOG, DEBUG_LOG, HEALTH_PATH

FOLDER = "traefik"
NO_SERVER = "(none)"
_STATUS = re.compile(r"^Setting status of http://(\S+) to (DOWN|UP)$")
_ATTEMPT = re.compile(r"^New attempt (\d+) for request: (\S+)")
_DIAL = re.compile(r"dial tcp ([\d.]+:\d+)")
_ERRORS = (("timeout awaiting response headers", "timeout"), ("i/o timeout", "timeout"), ("connection refused", "refused"),
           ("connection reset", "reset"), ("EOF", "premature_close"), ("broken pipe", "broken_pipe"),
           ("context canceled", "client_closed"))


def read(folder: Path, amap: dict[str, str], gw: Gateway) -> View:
    access_path, debug_path = folder / FOLDER / ACCESS_LOG, folder / FOLDER / DEBUG_LOG
    lines = parse(debug_path)
    acc = own_answers(access(parse(access_path)), lines)
    att = attempts(acc, retries(lines), amap, gw)
    eps = episodes(lines, att, amap, gw)
    return View(access=acc[["end", "rid", "method", "uri", "status", "request_time", "server", "origin_status"]],
                attempts=att, errors=errors(lines), episodes=eps, log_read=debug_path.exists())


def parse(path: Path) -> list[dict]:
    out = []
    for line in (path.read_text(errors="replace").splitlines() if path.exists() else []):
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut short at the end
    return out


def _t(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def access(entries: list[dict]) -> pd.DataFrame:
    rows = []
    for e in entries:
        if e.get("RequestPath") == HEALTH_PATH:  # the harness's own readiness checks
            continue
        start = _t(e["StartUTC"])
        took = e.get("Duration", 0) / 1e9
        rows.append({"start": start, "end": start + took, "rid": e.get("request_X-Request-Id") or None,
                     "method": e.get("RequestMethod"), "uri": e.get("RequestPath"),
                     "status": int(e.get("DownstreamStatus", 0)), "request_time": took,
                     "server": (e.get("ServiceURL") or "").removeprefix("http://") or None,
                     "origin_status": int(e.get("OriginStatus", 0)), "origin_time": e.get("OriginDuration", 0) / 1e9})
    cols = ["start", "end", "rid", "method", "uri", "status", "request_time", "server", "origin_status", "origin_time"]
    return pd.DataFrame(rows, columns=cols).sort_values("end").reset_index(drop=True)


def own_answers(acc: pd.DataFrame, lines: list[dict]) -> pd.DataFrame:
    """Marks (own: the error's kind) the access rows whose OriginStatus Traefik wrote itself: its proxy logs
    one DEBUG error line ("504 Gateway Timeout", "502 Bad Gateway") per failed attempt, and the access log
    shows that status as the origin's. The last attempts' lines (not followed by a retry) are matched by
    status and second (the log's resolution), earliest first."""
    acc = acc.assign(own=None)
    seconds = acc["end"].astype(int)
    for e in proxy_errors(lines, retried=False):
        t, status = int(_t(e["time"])), int(e["message"][:3])
        hit = acc.index[acc["own"].isna() & (acc["origin_status"] == status) & (seconds >= t) & (seconds <= t + 1)]
        if len(hit):
            acc.loc[hit[0], "own"] = error_kind(e["error"])
    return acc


def proxy_errors(lines: list[dict], retried: bool) -> list[dict]:
    """The proxy's error lines, those a retry followed (the last dial error before each "New attempt") or the others."""
    errs, followed = [], set()
    for i, e in enumerate(lines):
        if "error" in e and re.match(r"^\d{3} ", e.get("message", "")):
            errs.append(i)
        elif _ATTEMPT.match(e.get("message", "")):
            dials = [j for j in errs if j not in followed and _DIAL.search(lines[j]["error"])]
            if dials:
                followed.add(dials[-1])
    return [lines[j] for j in errs if (j in followed) == retried]


def error_kind(error: str) -> str:
    return next((k for needle, k in _ERRORS if needle in error), "error")


def last_kind(r, gw: Gateway) -> tuple[str, bool]:
    """The last attempt of a request -> (kind, counted by the passive check)."""
    checking = gw.max_fails > 0
    if not isinstance(r.server, str):
        return ("no_live_upstreams" if r.status == 503 else f"http_{r.status}"), False
    if isinstance(r.own, str):  # Traefik's own 502/504 (a failed attempt), not the server's
        return r.own, checking and r.origin_status >= 500  # a 499 (the client left) is a success to it
    if r.origin_status:
        s = r.origin_status
        return ("ok" if s < 400 else f"http_{s}"), checking and s >= 500
    if r.status == 504:
        return "timeout", checking
    if r.status == 499:  # the client went away first: a success to the passive check
        return "client_closed", False
    return "error", checking


def retries(lines: list[dict]) -> list[dict]:
    """Each "New attempt" line with the dial error before it: (t, attempt number, path, addr, kind)."""
    out, last_error = [], None
    for e in lines:
        if "error" in e and _DIAL.search(e["error"]) and re.match(r"^\d{3} ", e.get("message", "")):
            last_error = e
        m = _ATTEMPT.match(e.get("message", ""))
        if m:
            err = (last_error or {}).get("error", "")
            dial = _DIAL.search(err)
            out.append({"t": _t(e["time"]), "n": int(m.group(1)) - 1, "path": m.group(2).split("?")[0],
                        "addr": dial.group(1) if dial else None, "kind": error_kind(err) if err else "error"})
            last_error = None
    return out


def attempts(acc: pd.DataFrame, tried: list[dict], amap: dict[str, str], gw: Gateway) -> pd.DataFrame:
    earlier: dict[int, list[dict]] = {}
    for x in tried:  # inferred: see the module's doc
        near = acc[(acc["uri"] == x["path"]) & (acc["start"] < x["t"] + 1) & (acc["end"] >= x["t"])
                   & (acc["server"] != x["addr"])]
        free = [i for i in near.index if len(earlier.get(i, [])) == x["n"] - 1]
        if free:
            earlier.setdefault(free[0], []).append(x)
    rows = []
    for i, r in enumerate(acc.itertuples(index=False)):
        before = earlier.get(i, [])
        for n, x in enumerate(before):
            rows.append({"rid": r.rid, "n": n, "last": False, "addr": x["addr"], "replica": amap.get(x["addr"] or "", "?"),
                         "status": None, "response_time": None, "header_time": None, "end": x["t"], "kind": x["kind"],
                         "counted": gw.max_fails > 0, "method": r.method})
        kind, counted = last_kind(r, gw)
        rows.append({"rid": r.rid, "n": len(before), "last": True, "addr": r.server if isinstance(r.server, str) else None,
                     "replica": amap.get(r.server, "?") if isinstance(r.server, str) else NO_SERVER,
                     "status": r.origin_status or None, "response_time": r.origin_time if isinstance(r.server, str) else None,
                     "header_time": r.origin_time if r.origin_status else None, "end": r.end, "kind": kind,
                     "counted": counted, "method": r.method})
    return pd.DataFrame(rows, columns=ATTEMPT_COLUMNS)


def status_lines(lines: list[dict]) -> list[dict]:
    out = []
    for e in lines:
        m = _STATUS.match(e.get("message", ""))
        if m:
            out.append({"t": _t(e["time"]), "addr": m.group(1), "state": m.group(2), "message": e["message"]})
    return out


def trips(att: pd.DataFrame, gw: Gateway) -> dict[str, list[float]]:
    """Per server address, the moments its passive check had max_fails failures: consecutive (a success
    clears them) and within the last failureWindow, as pkg/healthcheck counts."""
    out: dict[str, list[float]] = {}
    for addr, mine in att[att["addr"].notna()].sort_values("end").groupby("addr"):
        failures: list[float] = []
        for a in mine.itertuples():
            if not a.counted:  # it reached the server and got under 500 (or the client left): cleared
                failures = []
                continue
            failures = [t for t in failures if t > a.end - gw.fail_timeout_s] + [a.end]
            if len(failures) >= gw.max_fails:
                out.setdefault(addr, []).append(a.end)
    return out


def episodes(lines: list[dict], att: pd.DataFrame, amap: dict[str, str], gw: Gateway) -> pd.DataFrame:
    """From each DOWN line to the next UP line of the same server (or the log's end), to the millisecond
    where the access log has the failure that took it out (see the module's doc)."""
    rows, down = [], {}
    last_t = _t(lines[-1]["time"]) if lines else None
    tripped = trips(att, gw) if len(att) and gw.max_fails > 0 else {}
    for s in status_lines(lines):
        if s["state"] == "DOWN" and s["addr"] not in down:
            within = [t for t in tripped.get(s["addr"], []) if s["t"] <= t < s["t"] + 1]
            down[s["addr"]] = within[0] if within else s["t"]
        elif s["state"] == "UP" and s["addr"] in down:
            start = down.pop(s["addr"])
            # the timer's end, failureWindow after the start, when the UP line's second agrees with it
            end = start + gw.fail_timeout_s if s["t"] <= start + gw.fail_timeout_s < s["t"] + 1 else s["t"]
            rows.append({"replica": amap.get(s["addr"], s["addr"]), "start": start, "end": end, "lines": 2})
    for addr, start in down.items():
        rows.append({"replica": amap.get(addr, addr), "start": start, "end": max(last_t or start, start), "lines": 1})
    return pd.DataFrame(rows, columns=EPISODE_COLUMNS).sort_values(["replica", "start"]).reset_index(drop=True)


def errors(lines: list[dict]) -> pd.DataFrame:
    """The status lines (disabled, up) and the proxy's error lines (a failed attempt: timeout, refused...)."""
    rows = []
    for s in status_lines(lines):
        rows.append({"t": s["t"], "level": "debug", "kind": "disabled" if s["state"] == "DOWN" else "up",
                     "upstream": s["addr"], "message": s["message"]})
    for e in lines:
        if "error" in e and re.match(r"^\d{3} ", e.get("message", "")):
            dial = _DIAL.search(e["error"])
            rows.append({"t": _t(e["time"]), "level": e.get("level", "debug"), "kind": error_kind(e["error"]),
                         "upstream": dial.group(1) if dial else None, "message": e["error"]})
    return pd.DataFrame(rows, columns=ERROR_COLUMNS)


def out(state: dict, gw: Gateway) -> bool:
    """Traefik's gauge says this server is out: traefik_service_server_up 0."""
    return state.get("up") == 0
