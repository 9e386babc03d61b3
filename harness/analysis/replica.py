"""One replica's figures from the samples and nginx's attempts: goroutines, pools, fds, latency, ejections."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import theilslopes

from harness.analysis import leaks

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
    step = max(1, len(t) // max_points)  # pairs grow with the square of the samples
    tt, yy = t.to_numpy(float)[::step], y.to_numpy(float)[::step]
    if np.ptp(tt) == 0:
        return 0.0
    return float(theilslopes(yy, tt).slope)


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
