"""What the kubelet and the Endpoints controller do to a Pod's containers, for the replicas of one stack.

- restartPolicy with CrashLoopBackOff: the first restart at once, then 10 s, 20 s,
  40 s ... capped at 300 s, reset after 10 min of running; every time x backoff_factor.
- liveness probe: failure_threshold failures in a row -> SIGTERM, SIGKILL after the
  grace period; the exit then restarts it like a crash (and counts toward the back-off).
- readiness probe, and a container that is not running: out of the gateway's
  upstream group (nginx `down`, reloaded) until success_threshold successes.
- rolling restart: one replica at a time, maxSurge 1 / maxUnavailable 0.
Every step is a line in containers.jsonl; OOM kills come from the engine's events.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.host.probes import http_get
from harness.host.procs import wait_until
from harness.scenario.containers import Containers, Probe
from harness.stack.containers import engine

K8S_BACKOFF_S, K8S_BACKOFF_CAP_S, K8S_BACKOFF_RESET_S = 10.0, 300.0, 600.0
EXIT_POLL_S = 1.0  # besides the engine's die event, in case an event is lost
OOM_EVENT_WAIT_S = 2.0  # how long an exit with code 137 waits for the engine's late oom event


@dataclass
class ReplicaState:
    crashes: int = 0                 # since the back-off was last reset
    restarts: int = 0                # the Pod's restartCount
    started: float = field(default_factory=time.monotonic)
    ready: bool = True
    paused: bool = False             # a rollout is replacing it
    died: threading.Event = field(default_factory=threading.Event)
    oom: threading.Event = field(default_factory=threading.Event)  # the engine's oom event since the last start


def backoff_s(crashes: int) -> float:
    """Kubernetes' wait before restart number crashes+1 (unscaled)."""
    return 0.0 if crashes == 0 else min(K8S_BACKOFF_S * 2 ** (crashes - 1), K8S_BACKOFF_CAP_S)


class Kubelet:
    def __init__(self, stack, settings: Containers, out: Path):
        self.stack = stack
        self.settings = settings
        self._out = open(out, "a", encoding="utf-8", buffering=1)
        self._write = threading.Lock()
        self.halt = threading.Event()
        self.state = {r: ReplicaState() for r in stack.replica_names()}
        self.threads: list[threading.Thread] = []
        self._events = None

    def record(self, replica: str, event: str, **fields) -> None:
        c = self.stack.procs.get(f"replica-{replica}")
        line = {"t": round(time.time(), 3), "replica": replica, "container": c.container.name if c else None,
                "event": event, **fields}
        with self._write:
            if not self._out.closed:
                self._out.write(json.dumps(line) + "\n")

    def start(self) -> None:
        for r in self.state:
            self.record(r, "start", generation=self.stack.generation[f"replica-{r}"], restart_count=0)
        self._events = self.stack.client.events(decode=True, filters={"label": f"{engine.STACK}={self.stack.prefix}"})
        self._spawn(self._watch_events, "engine-events")
        for r in self.state:
            self._spawn(lambda r=r: self._supervise(r), f"kubelet-{r}")

    def _spawn(self, target, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self.threads.append(t)

    def stop(self) -> None:
        self.halt.set()
        if self._events is not None:
            self._events.close()
        for t in self.threads:
            t.join(15)
        with self._write:
            self._out.close()

    # -- the engine's view -----------------------------------------------------
    def _watch_events(self) -> None:
        try:
            for ev in self._events:
                attrs = ev.get("Actor", {}).get("Attributes", {})
                component = attrs.get(engine.COMPONENT, "")
                if ev.get("Type") != "container" or not component.startswith("replica-"):
                    continue
                replica, action = component.removeprefix("replica-"), ev.get("Action", "")
                if action == "oom":
                    self.record(replica, "oom", engine_container=attrs.get("name"))
                    self.state[replica].oom.set()
                elif action == "die" and attrs.get("name") == self.stack.procs[component].container.name:
                    self.state[replica].died.set()
        except Exception:  # the stream closes at stop(); the exit poll covers a lost stream
            pass

    # -- one replica -------------------------------------------------------------
    def _supervise(self, replica: str) -> None:
        st, s = self.state[replica], self.settings
        now = time.monotonic()
        due = {"liveness": now + (s.liveness.initial_delay_s if s.liveness else 0),
               "readiness": now + (s.readiness.initial_delay_s if s.readiness else 0), "exit": now + EXIT_POLL_S}
        fails = {"liveness": 0, "readiness": 0}
        oks = 0
        while not self.halt.is_set():
            now = time.monotonic()
            if st.paused:
                self.halt.wait(0.1)
                continue
            c = self.stack.replica(replica)
            if st.died.is_set() or (now >= due["exit"] and not c.alive()):
                st.died.clear()
                if not self._exited(replica, c, st):
                    return  # restartPolicy says no
                now = time.monotonic()
                due.update(liveness=now + (s.liveness.initial_delay_s if s.liveness else 0),
                           readiness=now + (s.readiness.initial_delay_s if s.readiness else 0))
                fails.update(liveness=0, readiness=0)
                oks = 0
                continue
            if now >= due["exit"]:
                due["exit"] = now + EXIT_POLL_S
            if s.liveness is not None and now >= due["liveness"]:
                due["liveness"] = now + s.liveness.period_s
                ok, detail = self._probe(replica, s.liveness)
                fails["liveness"] = 0 if ok else fails["liveness"] + 1
                if not ok:
                    self.record(replica, "liveness-failed", consecutive=fails["liveness"], detail=detail)
                    if fails["liveness"] >= s.liveness.failure_threshold:
                        self.record(replica, "liveness-kill", consecutive=fails["liveness"])
                        fails["liveness"] = 0
                        self._terminate(replica, c, s.termination_grace_s)
                        due["liveness"] = now + s.termination_grace_s + s.liveness.period_s
            if s.readiness is not None and now >= due["readiness"]:
                due["readiness"] = now + s.readiness.period_s
                ok, detail = self._probe(replica, s.readiness)
                fails["readiness"], oks = (0, oks + 1) if ok else (fails["readiness"] + 1, 0)
                if st.ready and fails["readiness"] >= s.readiness.failure_threshold:
                    self._set_ready(replica, st, False, detail)
                elif not st.ready and oks >= s.readiness.success_threshold:
                    self._set_ready(replica, st, True, "readiness probe passed")
            self.halt.wait(0.05)

    def _probe(self, replica: str, probe: Probe) -> tuple[bool, str]:
        url = f"http://{self.stack.addresses['replicas'][replica]['http']}{probe.path}"
        got = http_get(url, probe.timeout_s)
        if got is None:
            return False, f"no answer within {probe.timeout_s:g} s"
        return 200 <= got[0] < 400, f"HTTP {got[0]}"

    def _set_ready(self, replica: str, st: ReplicaState, ready: bool, detail: str) -> None:
        if st.ready == ready:
            return
        st.ready = ready
        self.stack.set_ready(replica, ready)
        self.record(replica, "ready" if ready else "unready", detail=detail)

    def _terminate(self, replica: str, c: engine.Container, grace_s: float) -> None:
        self.record(replica, "terminate", grace_s=grace_s)
        pid = c.pid  # a restart in place reuses the container: only this process may be killed
        c.signal("SIGTERM")

        def kill_late() -> None:
            if not self.halt.wait(grace_s) and c.pid == pid and c.alive() and self.stack.replica(replica) is c:
                self.record(replica, "kill")
                c.signal("SIGKILL")
        self._spawn(kill_late, f"grace-{replica}")

    def _exited(self, replica: str, c: engine.Container, st: ReplicaState) -> bool:
        """Record the exit; restart after the back-off if the policy says so. False: it stays down."""
        state = c.state()
        code, oom = int(state.get("ExitCode", -1)), bool(state.get("OOMKilled"))
        if not oom and code == 137:
            # cgroup v2 engines may deliver the oom event after the exit and leave OOMKilled unset
            oom = st.oom.wait(OOM_EVENT_WAIT_S)
        st.oom.clear()
        self.record(replica, "exit", exit_code=code, oom_killed=oom, restart_count=st.restarts)
        self._set_ready(replica, st, False, f"container exited ({code})")  # not running: not Ready
        policy = self.settings.restart.policy
        if policy == "Never" or (policy == "OnFailure" and code == 0):
            return False
        factor = self.settings.restart.backoff_factor
        if time.monotonic() - st.started >= K8S_BACKOFF_RESET_S * factor:
            st.crashes = 0
        k8s = backoff_s(st.crashes)
        st.crashes += 1
        self.record(replica, "backoff", delay_s=round(k8s * factor, 3), k8s_delay_s=k8s, restart_count=st.restarts)
        if self.halt.wait(k8s * factor):
            return False
        c.start_again()
        st.restarts += 1
        st.started = time.monotonic()
        name = f"replica-{replica}"
        self.stack.generation[name] += 1
        self.record(replica, "restart", restart_count=st.restarts)
        self.record(replica, "start", generation=self.stack.generation[name], restart_count=st.restarts)
        self.stack.save()
        if self.settings.readiness is None:
            self._set_ready(replica, st, True, "running (no readiness probe)")
        return True

    # -- a Deployment's rolling restart ---------------------------------------------
    def rollout(self) -> None:
        self._spawn(self._rollout, "rollout")

    def _rollout(self) -> None:
        r, s = self.settings.rollout, self.settings
        assert r is not None
        for replica in self.stack.replica_names():
            if self.halt.is_set():
                return
            st = self.state[replica]
            st.paused = True
            try:
                self.record(replica, "rollout", step="begin")
                new = self.stack.surge(replica)
                gen = self.stack.generation[f"replica-{replica}"]
                self.record(replica, "rollout", step="surge-started", generation=gen, surge_container=new.container.name)
                path = s.readiness.path if s.readiness else "/healthz"
                up = wait_until(lambda: (got := http_get(f"http://{new.http}{path}", 1.0)) is not None and got[0] == 200,
                                r.ready_timeout_s, new)
                if not up:
                    self.record(replica, "rollout", step="failed", detail=f"new container not ready in {r.ready_timeout_s:g} s")
                    new.stop(0)
                    return  # a Deployment stalls here (progressDeadlineSeconds); the old one keeps serving
                self.record(replica, "rollout", step="surge-ready", generation=gen)
                self.stack.reload(surge=(new.member,))  # beside the old one for a moment
                old = self.stack.promote(replica, new)
                self.record(replica, "terminate", grace_s=r.termination_grace_s, old_container=old.container.name)
                old.signal("SIGTERM")  # at the same moment as the Endpoints change, which the gateway sees later
                self.halt.wait(r.endpoint_delay_s)
                self.stack.reload()
                self.record(replica, "rollout", step="terminating", generation=gen)
                if not wait_until(lambda: not old.alive(), r.termination_grace_s, interval_s=0.1):
                    self.record(replica, "kill", old_container=old.container.name)
                code = old.stop(0)
                self.record(replica, "rollout", step="terminated", exit_code=code, old_container=old.container.name)
                st.crashes, st.restarts, st.started, st.ready = 0, 0, time.monotonic(), True
            finally:
                st.died.clear()
                st.paused = False
        self.record(self.stack.replica_names()[-1], "rollout", step="end")


class CgroupSampler(threading.Thread):
    """Every interval, each running replica container's cgroup counters into cgroups.jsonl."""

    def __init__(self, stack, interval_s: float, out: Path):
        super().__init__(name="cgroups", daemon=True)
        self.stack, self.interval_s, self.out = stack, interval_s, out
        self._halt = threading.Event()

    def run(self) -> None:
        with open(self.out, "a", encoding="utf-8", buffering=1) as f:
            next_at = time.monotonic()
            while not self._halt.is_set():
                for replica in self.stack.replica_names():
                    name = f"replica-{replica}"
                    c = self.stack.procs.get(name)
                    got = self.stack.cgroup(replica)
                    if got is not None and c is not None:
                        f.write(json.dumps({"t": round(time.time(), 3), "replica": replica, "container": c.container.name,
                                            "generation": self.stack.generation[name], **got}) + "\n")
                next_at += self.interval_s
                self._halt.wait(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        self._halt.set()
        self.join(5)
