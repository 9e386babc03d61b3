"""What any gateway did, from its per-attempt records: the bypass figure, the cross-check with the client.

Each gateway's own records become those tables in analysis/gateways/<kind>.py.
"""

from __future__ import annotations

import pandas as pd


def addr_map(stack: dict) -> dict[str, str]:
    """What a gateway logs for a member -> replica name: the gateway-leg proxy's listen address (nginx's
    $upstream_addr, Caddy's upstream) and the replica's own name (HAProxy's server name)."""
    amap = {p["listen"]: p["replica"] for p in stack.get("proxies", {}).values() if p.get("leg") == "gateway"}
    return {**{r: r for r in amap.values()}, **amap}


def bypass(req: pd.DataFrame, att: pd.DataFrame, slow_ms: float) -> dict:
    """Bad requests (5xx, no answer, or slow) that the gateway's passive health check never noticed.

    noticed: one of its attempts counted toward max_fails; no_live: the gateway had no
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
    """Every request Locust recorded should be in the gateway's access log, and back."""
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
