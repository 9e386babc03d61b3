"""nginx's records: its access log (one JSON line per request, $upstream_* lists with one entry per attempt)
and its error log (at warn: "upstream server temporarily disabled" is an ejection).

The counting rules are nginx's, as measured (shared ground truth §1):
transport failures (refused, reset, timeout, premature close) always count;
an upstream status counts only when listed as http_<code> in
proxy_next_upstream, and for POST/PATCH only with non_idempotent too; 403 and
404 never count.
"""

from __future__ import annotations

import re
from calendar import timegm
from pathlib import Path

import pandas as pd

from harness.analysis.gateways import ATTEMPT_COLUMNS, EPISODE_COLUMNS, ERROR_COLUMNS, View
from harness.record.folder import read_jsonl
from harness.scenario import Gateway

UPSTREAM = "app"  # the upstream group's name: $upstream_addr says it when no server was left
ACCESS_LOG = "nginx/access.log"
ERROR_LOG = "nginx/error.log"


def read(folder: Path, amap: dict[str, str], gw: Gateway) -> View:
    acc = access(folder)
    errors = error_log(folder)
    return View(access=acc, attempts=attempts(acc, amap, gw), errors=errors,
                episodes=episodes(errors, amap, gw.fail_timeout_s), log_read=(folder / ERROR_LOG).exists())


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
    return pd.DataFrame(rows, columns=ATTEMPT_COLUMNS)


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
    return pd.DataFrame(rows, columns=EPISODE_COLUMNS).sort_values(["replica", "start"]).reset_index(drop=True)


def access(folder: Path) -> pd.DataFrame:
    """nginx's view: one row per client request, $upstream_* still as lists."""
    rows = read_jsonl(folder / ACCESS_LOG)
    df = pd.DataFrame(rows, columns=["msec", "rid", "method", "uri", "status", "request_time", "upstream_addr",
                                     "upstream_status", "upstream_response_time", "upstream_connect_time",
                                     "upstream_header_time", "upstream_location", "location"])
    df["end"] = df["msec"].astype(float)
    df["status"] = df["status"].astype(int)
    df["request_time"] = df["request_time"].astype(float)
    return df


_ERR = re.compile(r"^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(\w+)\] \d+#\d+: (?:\*\d+ )?(.*)$")
_UPSTREAM = re.compile(r'upstream: "[a-z]+://([^/"]+)')
_KINDS = (
    ("temporarily disabled", "disabled"),
    ("no live upstreams", "no_live_upstreams"),
    ("timed out", "timeout"),
    ("Connection refused", "refused"),
    ("prematurely closed", "premature_close"),
    ("reset by peer", "reset"),
    ("Broken pipe", "broken_pipe"),
    ("request body is buffered to a temporary file", "body_buffered"),
    ("invalid header", "invalid_header"),
    ("too big header", "too_big_header"),
)


def error_log(folder: Path) -> pd.DataFrame:
    """nginx error log lines -> t (UTC epoch, 1 s resolution), level, kind, upstream addr."""
    path = folder / ERROR_LOG
    rows = []
    text = path.read_text(errors="replace") if path.exists() else ""
    for line in text.splitlines():
        m = _ERR.match(line)
        if not m:
            continue
        stamp, level, msg = m.groups()
        t = timegm(pd.Timestamp(stamp.replace("/", "-")).timetuple())  # nginx runs with TZ=UTC
        kind = next((k for needle, k in _KINDS if needle in msg), "other")
        up = _UPSTREAM.search(msg)
        rows.append({"t": float(t), "level": level, "kind": kind, "upstream": up.group(1) if up else None, "message": msg})
    return pd.DataFrame(rows, columns=ERROR_COLUMNS)


