"""What the client saw: figures over its requests, per endpoint and per second; where redirects pointed."""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from harness.scenario import CLIENT_METRICS, Gateway

REJECTED = (403, 421)  # a service turning the request away: forbidden, misdirected (wrong host)
DEFAULT_PORTS = {"http": "80", "https": "443"}


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
