"""A run folder's records as tables. Pure: files in (read by harness.record.folder), DataFrames out."""

from __future__ import annotations

import re
from calendar import timegm
from pathlib import Path

import pandas as pd

from harness.record import folder as rf
from harness.record.folder import RunFolder, read_json, read_jsonl
from harness.scenario import Scenario


def scenario(run_dir: Path) -> Scenario:
    return RunFolder(run_dir).scenario()


def planned(run_dir: Path) -> list[str]:
    return RunFolder(run_dir).planned()


def variants(run_dir: Path) -> list[str]:
    """The planned variants that got as far as a folder."""
    return RunFolder(run_dir).variants()


def meta(folder: Path) -> dict:
    return read_json(folder / rf.META, {})


def stack(folder: Path) -> dict:
    return read_json(folder / rf.STACK, {"replicas": {}, "proxies": {}})


def requests(folder: Path) -> pd.DataFrame:
    """What the client saw: one row per request. end = start + latency; location: a 3xx's Location header;
    sched: when the open model had it due (None in a closed model)."""
    df = pd.DataFrame(read_jsonl(folder / rf.REQUESTS),
                      columns=["start", "endpoint", "method", "status", "ms", "rid", "error", "location", "sched"])
    df["status"] = df["status"].fillna(0).astype(int)
    df["ms"] = df["ms"].astype(float)
    df["end"] = df["start"].astype(float) + df["ms"] / 1000.0
    return df


def samples(folder: Path) -> pd.DataFrame:
    df = pd.DataFrame(read_jsonl(folder / rf.SAMPLES))
    if df.empty:
        return pd.DataFrame(columns=["t", "replica"])
    return df


def toxics(folder: Path) -> pd.DataFrame:
    return pd.DataFrame(read_jsonl(folder / rf.TOXICS), columns=["t", "offset_s", "action", "toxic", "proxy", "type", "ok", "error"])


_ACCEPT = re.compile(r"^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) http: Accept error: (.*)$")


def accept_errors(folder: Path, replica: str) -> pd.DataFrame:
    """Go's http.Server "Accept error" lines of a replica (e.g. EMFILE: too many open files).

    The server logs them with Go's log package, in UTC (replicas run with TZ=UTC).
    """
    path = folder / rf.LOGS / f"replica-{replica}.log"
    rows = []
    for line in (path.read_text(errors="replace").splitlines() if path.exists() else []):
        m = _ACCEPT.match(line)
        if m:
            t = timegm(pd.Timestamp(m.group(1).replace("/", "-")).timetuple())
            rows.append({"t": float(t), "error": m.group(2)})
    return pd.DataFrame(rows, columns=["t", "error"])
