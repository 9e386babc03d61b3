# The load, for Locust (run as its own process: `locust -f harness/drive/locustfile.py`).
# One file for every run: what to send comes from the JSON settings that
# harness/drive/load.py writes into the run folder (GATEWAYLAB_LOAD). Imports
# nothing of gatewaylab: Locust monkey-patches its process with gevent.
import json
import os
import random
import time
import uuid

from locust import FastHttpUser, events

SETTINGS = json.loads(open(os.environ["GATEWAYLAB_LOAD"], encoding="utf-8").read())
_OUT = open(os.environ["GATEWAYLAB_REQUESTS"], "a", buffering=1)
random.seed(os.environ.get("GATEWAYLAB_SEED") or None)  # a comparison gives both builds' trial i the same seed


@events.request.add_listener
def _record(request_type, name, response_time, response, context, exception, start_time=None, **_):
    status = getattr(response, "status_code", None) or 0  # 0: no HTTP answer at all
    row = {
        "start": round(start_time, 6),
        "endpoint": name,
        "method": request_type,
        "status": status,
        "ms": round(response_time, 3),
        "rid": (context or {}).get("rid", ""),
        "error": (type(exception).__name__ + ": " + str(exception))[:200] if exception and not status else None,
    }
    if 300 <= status < 400:  # where the redirect points (never followed), to judge it against the public origin
        row["location"] = ((getattr(response, "headers", None) or {}).get("location") or "")[:300]
    _OUT.write(json.dumps(row) + "\n")


def _endpoint(e):
    def request(user):
        user.started = time.time()
        rid = uuid.uuid4().hex
        # Redirects are never followed: a Location may name any host, and the load goes to 127.0.0.1 only.
        user.client.request(e["method"], e["path"], name=e["name"], data=e["data"],
                            headers={"X-Request-Id": rid, **e["headers"]}, context={"rid": rid}, allow_redirects=False)
    return request


class Client(FastHttpUser):
    network_timeout = SETTINGS["network_timeout"]
    connection_timeout = SETTINGS["connection_timeout"]
    period = 1 / SETTINGS["per_user"]
    started = 0.0
    tasks = {_endpoint(e): e["weight"] for e in SETTINGS["endpoints"]}  # task -> weight

    def on_start(self):
        # Users spawned together would fire together: spread their first requests.
        time.sleep(random.uniform(0, self.period))

    def wait_time(self):
        # Like constant_throughput (at most one request per period, on average), but
        # each interval is drawn from [0.5, 1.5) periods: users that a stall bunched
        # up drift apart again instead of firing in bursts for the rest of the run.
        return max(0.0, self.period * (0.5 + random.random()) - (time.time() - self.started))
