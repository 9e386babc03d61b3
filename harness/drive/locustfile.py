# The load, for Locust (run as its own process: `locust -f harness/drive/locustfile.py`).
# One file for every run: what to send comes from the JSON settings that
# harness/drive/load.py writes into the run folder (GATEWAYLAB_LOAD). Imports
# nothing of gatewaylab: Locust monkey-patches its process with gevent.
import functools
import importlib.util
import json
import os
import random
import time

import gevent
from gevent.pool import Group
from locust import FastHttpUser, LoadTestShape, events, task

SETTINGS = json.loads(open(os.environ["GATEWAYLAB_LOAD"], encoding="utf-8").read())
_OUT = os.open(os.environ["GATEWAYLAB_REQUESTS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
random.seed(os.environ.get("GATEWAYLAB_SEED") or None)  # a comparison gives both builds' trial i the same seed
_spec = importlib.util.spec_from_file_location("gatewaylab_shape", SETTINGS["shape_file"])
shape = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shape)
LATE_MS = 10  # a start this much after its schedule is late: the generator, not the service, fell behind


_ROWS = []  # this process's rows not yet written: flushed every FLUSH_S, and when Locust quits
FLUSH_S = 0.2


@functools.lru_cache(maxsize=256)
def _q(text):
    return json.dumps(text)


@events.request.add_listener
def _record(request_type, name, response_time, response, context, exception, start_time=None, **_):
    # A row per request, formatted by hand: json.dumps of a dict costs more than the request's own bookkeeping.
    status = getattr(response, "status_code", None) or 0  # 0: no HTTP answer at all
    context = context or {}
    error = json.dumps((type(exception).__name__ + ": " + str(exception))[:200]) if exception and not status else "null"
    row = (f'{{"start": {start_time:.6f}, "endpoint": {_q(name)}, "method": {_q(request_type)}, "status": {status}, '
           f'"ms": {response_time:.3f}, "rid": "{context.get("rid", "")}", "error": {error}')
    if "sched" in context:  # open model: when it was due (lateness = start - sched)
        row += f', "sched": {context["sched"]:.6f}'
    if 300 <= status < 400:  # where the redirect points (never followed), to judge it against the public origin
        row += f', "location": {json.dumps(((getattr(response, "headers", None) or {}).get("location") or "")[:300])}'
    _ROWS.append(row + "}\n")


def _flush():
    # One write() per batch on an O_APPEND descriptor: whole lines, never interleaved with another process's.
    if _ROWS:
        data = "".join(_ROWS).encode()
        _ROWS.clear()
        while data:
            data = data[os.write(_OUT, data):]


def _flusher():
    while True:
        gevent.sleep(FLUSH_S)
        _flush()


@events.init.add_listener
def _start_flusher(**_):
    gevent.spawn(_flusher)


@events.quitting.add_listener
def _last_flush(**_):
    _flush()


_RID = {"prefix": os.urandom(8).hex(), "n": 0}
# Locust forks its workers after loading this file: each draws a prefix of its own.
os.register_at_fork(after_in_child=lambda: _RID.update(prefix=os.urandom(8).hex(), n=0))


def _rid():
    """Unique per request: a random prefix per process and a counter."""
    _RID["n"] += 1
    return f'{_RID["prefix"]}{_RID["n"]:016x}'


def _send(client, e, **context):
    rid = _rid()
    # Redirects are never followed: a Location may name any host, and the load goes to 127.0.0.1 only.
    client.request(e["method"], e["path"], name=e["name"], data=e["data"],
                   headers={"X-Request-Id": rid, **e["headers"]}, context={"rid": rid, **context}, allow_redirects=False)


def _endpoint(e):
    def request(user):
        user.started = time.time()
        _send(user.client, e)
    return request


class Client(FastHttpUser):
    """The closed model: each user waits for its answer, then paces its next request."""
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


class Arrivals(FastHttpUser):
    """The open model: one per Locust process. Starts its share of the schedule on time, each
    request in its own greenlet, whatever the earlier ones are doing; counts late and dropped starts."""
    concurrency = SETTINGS["max_inflight"]  # the connection pool never holds a start back
    network_timeout = SETTINGS["network_timeout"]
    connection_timeout = SETTINGS["connection_timeout"]
    wait_time = staticmethod(lambda: 0)  # dispatch() sleeps until the next start itself

    def on_start(self):
        index, n = getattr(self.environment.runner, "worker_index", 0), SETTINGS["workers"]
        self.due = shape.arrivals(SETTINGS["shape"], SETTINGS["rate"], SETTINGS["duration_s"])[index % n::n]
        self.epoch, self.next, self.inflight = time.time(), 0, Group()
        self.endpoints = [e for e in SETTINGS["endpoints"] for _ in range(e["weight"])]
        STARTS.update(scheduled=len(self.due), worker=index)

    @task
    def dispatch(self):
        if self.next >= len(self.due):
            gevent.sleep(0.5)
            return
        sched = self.epoch + self.due[self.next]
        self.next += 1
        gevent.sleep(max(0.0, sched - time.time()))
        if len(self.inflight) >= SETTINGS["max_inflight"]:
            STARTS["dropped"] += 1
            return
        late_ms = (time.time() - sched) * 1000
        STARTS["late"] += late_ms > LATE_MS
        STARTS["max_late_ms"] = max(STARTS["max_late_ms"], round(late_ms, 1))
        STARTS["started"] += 1
        self.inflight.spawn(_send, self.client, random.choice(self.endpoints), sched=sched)

    def on_stop(self):
        self.inflight.join(timeout=5)  # like --stop-timeout: requests under way get to finish


if SETTINGS["model"] == "open":
    del Client  # Locust runs every User class it finds
else:
    del Arrivals

STARTS = {"model": SETTINGS["model"], "worker": 0, "scheduled": 0, "started": 0, "late": 0, "dropped": 0, "max_late_ms": 0.0}


@events.test_stop.add_listener
def _starts(environment, **_):
    """Each process's own figures beside the requests (load/starts-<pid>.json): the analysis sums them."""
    if SETTINGS["model"] != "open" or not STARTS["scheduled"]:
        return  # the closed model has no schedule of starts; a master of workers schedules nothing itself
    path = os.path.join(os.path.dirname(os.environ["GATEWAYLAB_LOAD"]), f"starts-{os.getpid()}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({**STARTS, "pid": os.getpid()}, f)


if SETTINGS["model"] == "closed" and SETTINGS["shape"]["kind"] != "constant":
    class Shape(LoadTestShape):
        """The closed model follows the shape by its number of users (each keeps its pace)."""

        def tick(self):
            t = self.get_run_time()
            if t >= SETTINGS["duration_s"]:
                return None
            users = max(1, round(SETTINGS["users"] * shape.rate_at(SETTINGS["shape"], SETTINGS["rate"], t) / SETTINGS["rate"]))
            return users, max(users, SETTINGS["users"])
