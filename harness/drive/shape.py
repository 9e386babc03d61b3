"""The load's rate over time: constant, ramp, step or spike. Pure arithmetic, no imports.

The locustfile loads this file by path (it imports nothing of gatewaylab: Locust
monkey-patches its process), so the schedule Locust follows and the figures the
analysis compares it with come from the same lines.
"""


def rate_at(shape, rate, t):
    """Requests per second asked for t seconds into the load; `shape` is the scenario's load.shape as a dict (or None)."""
    kind = (shape or {}).get("kind", "constant")
    if kind == "ramp":  # from from_rate up (or down) to rate, linearly over over_s seconds, then rate
        over = shape["over_s"]
        return shape["from_rate"] + (rate - shape["from_rate"]) * min(1.0, max(0.0, t) / over)
    if kind == "step":  # rate until the first step; each step holds its rate from at_s on
        now = rate
        for step in sorted(shape["steps"], key=lambda s: s["at_s"]):
            if t >= step["at_s"]:
                now = step["rate"]
        return now
    if kind == "spike":  # rate, and peak_rate from at_s for for_s seconds
        return shape["peak_rate"] if shape["at_s"] <= t < shape["at_s"] + shape["for_s"] else rate
    return rate


def settled_at(shape):
    """Seconds into the load from which the asked rate no longer changes (0 for a constant rate)."""
    kind = (shape or {}).get("kind", "constant")
    if kind == "ramp":
        return shape["over_s"]
    if kind == "step":
        return max(s["at_s"] for s in shape["steps"])
    if kind == "spike":
        return shape["at_s"] + shape["for_s"]
    return 0


def arrivals(shape, rate, duration_s):
    """The scheduled start times (seconds from the load's start) of every request, in order.

    One start every 1/rate_at(t) seconds: a fixed-interval schedule, so a late or missing
    start is a fact about the run, not about chance.
    """
    t, out = 0.0, []
    while t < duration_s:
        out.append(t)
        t += 1.0 / max(rate_at(shape, rate, t), 1e-3)
    return out


def scheduled(shape, rate, duration_s):
    """How many requests the schedule asks for over the whole load."""
    return len(arrivals(shape, rate, duration_s))
