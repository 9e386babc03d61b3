"""Each gateway's own records -> the same tables: one module per gateway, each with read(folder, amap, gw) -> View.

access:   one row per client request (end, rid, method, uri, status, request_time, ...)
attempts: one row per upstream attempt (rid, n, last, addr, replica, status, response_time, header_time, end,
          kind, counted: whether the gateway's passive check counted it as a failure)
errors:   the gateway's own lines about failures (t, level, kind, upstream, message)
episodes: when the gateway kept a replica out (replica, start, end, lines)
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.scenario import Gateway

ATTEMPT_COLUMNS = ["rid", "n", "last", "addr", "replica", "status", "response_time", "header_time", "end", "kind",
                   "counted", "method"]
ERROR_COLUMNS = ["t", "level", "kind", "upstream", "message"]
EPISODE_COLUMNS = ["replica", "start", "end", "lines"]


@dataclass
class View:
    access: pd.DataFrame
    attempts: pd.DataFrame
    errors: pd.DataFrame
    episodes: pd.DataFrame
    log_read: bool  # its log about failures was there to read (a count of 0 then means none)


def read(folder: Path, amap: dict[str, str], gw: Gateway) -> View:
    return importlib.import_module(f"harness.analysis.gateways.{gw.kind}").read(folder, amap, gw)


def agreement(folder: Path, episodes: pd.DataFrame, amap: dict[str, str], gw: Gateway) -> dict:
    """The episodes against the gateway's own view, polled into gateway.jsonl (where it has an API):
    the share of polled moments on which both say the same about a member (in or out)."""
    from harness.record.folder import GATEWAY_STATE, read_jsonl

    module = importlib.import_module(f"harness.analysis.gateways.{gw.kind}")
    rows = read_jsonl(folder / GATEWAY_STATE) if (folder / GATEWAY_STATE).exists() else []
    if not rows or not hasattr(module, "out"):
        return {"state_samples": 0, "state_agreement": None, "state_out_samples": 0}
    same = outs = 0
    for row in rows:
        replica = amap.get(row["member"], row["member"])
        mine = episodes[episodes["replica"] == replica]
        ours = bool(((mine["start"] <= row["t"]) & (mine["end"] >= row["t"])).any())
        theirs = module.out(row, gw)
        outs += theirs
        same += ours == theirs
    return {"state_samples": len(rows), "state_agreement": round(same / len(rows), 4), "state_out_samples": outs}


def held_out(counted: list[tuple[float, str]], max_fails: int, window_s: float) -> pd.DataFrame:
    """Episodes of a sliding-window check: each failure is remembered window_s after it was counted,
    and a member is out while max_fails or more are remembered (Caddy's rule).

    counted: (time, replica) of each counted failure.
    """
    rows = []
    by_replica: dict[str, list[float]] = {}
    for t, replica in counted:
        by_replica.setdefault(replica, []).append(t)
    for replica, times in by_replica.items():
        events = sorted([(t, 1) for t in times] + [(t + window_s, -1) for t in times], key=lambda e: (e[0], e[1]))
        live, start, lines = 0, None, 0
        for t, step in events:
            live += step
            lines += step > 0 and start is not None
            if start is None and live >= max_fails:
                start, lines = t, max_fails
            elif start is not None and live < max_fails:
                rows.append({"replica": replica, "start": start, "end": t, "lines": lines})
                start = None
    return pd.DataFrame(rows, columns=EPISODE_COLUMNS).sort_values(["replica", "start"]).reset_index(drop=True)
