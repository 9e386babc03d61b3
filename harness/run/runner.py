"""One run: for each variant, start the stack, drive load and faults, record, tear down.

Everything lands in the run folder as it happens; analysis reads only that folder.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.text import Text

from harness.drive import faults
from harness.stack import leftovers
from harness.drive import load
from harness.errors import ComponentDied, StackError
from harness.record.folder import RunFolder
from harness.record.journal import Journal
from harness.record.capture import CAPTURE_S, Capture
from harness.record.sampler import Sampler
from harness.scenario import Scenario, ScenarioError, UserService
from harness.record.snapshots import Snapshots
from harness.stack import gateways
from harness.stack.backends import open_stack
from harness.host.procs import deadline
from harness.host.tools import Tools
from harness.stack.topology import build
from harness.record import folder as rf

FIRST_REQUEST_TIMEOUT_S = 30.0
# Locust's own timer plus its stop timeout, then we stop it ourselves.
LOAD_GRACE_S = 20.0
TAIL_S = 3.0  # keep sampling after the load, so in-flight work drains: what stays is a leak
RESTART_BACKOFF_S = 1.0


class Interrupted(Exception):
    """SIGTERM, turned into an exception so the same clean-up runs as for Ctrl-C."""


def _on_sigterm(signum, frame):
    raise Interrupted("stopped by SIGTERM")


def default_deadline_s(scenario: Scenario, variants: list[str]) -> float:
    """Load, its grace, and a minute per variant for start-up and tear-down."""
    return len(variants) * (scenario.load.duration_s + LOAD_GRACE_S + 60) + 30


class RequestTail:
    """Reads requests.jsonl incrementally, for the live progress line."""

    def __init__(self, path: Path):
        self.path = path
        self.pos = 0
        self.count = 0
        self.errors = 0
        self.slow = 0

    def poll(self, slow_ms: float) -> int:
        if not self.path.exists():
            return 0
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.pos += end
        new = 0
        for line in data[:end].splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            new += 1
            self.errors += r["status"] == 0 or r["status"] >= 500
            self.slow += r["ms"] >= slow_ms
        self.count += new
        return new


class Progress:
    """The live line: redrawn in place on a terminal (rich), every 5 s as plain lines otherwise (CI logs)."""

    def __init__(self, stream=sys.stderr):
        self.console = Console(file=stream, highlight=False, markup=False)  # "[buggy] ..." is text, not markup
        self.live: Live | None = None
        self.last = 0.0

    def show(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if self.console.is_terminal:
            if self.live is None:
                self.live = Live(Text(text), console=self.console, auto_refresh=False)
                self.live.start()
            self.live.update(Text(text), refresh=True)
        elif force or now - self.last >= 5:
            self.console.print(text, soft_wrap=True)
            self.last = now

    def done(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def prepare(scenario: Scenario, variants: list[str], reports: Path) -> Path:
    """The run folder, with the resolved scenario, before anything starts."""
    return RunFolder.create(reports / "runs", scenario, variants).path


def run(scenario: Scenario, variants: list[str], tools: Tools, run_dir: Path, deadline_s: float | None = None,
        capture_kinds: tuple[str, ...] = (), service: UserService | None = None) -> None:
    deadline_s = deadline_s or default_deadline_s(scenario, variants)
    steps = [Step(scenario, v, tools, run_dir, service=service) for v in variants]
    run_steps(steps, run_dir.parent.parent, run_dir.name, deadline_s, capture_kinds)


@dataclass(frozen=True)
class Step:
    """One variant of one run folder; a comparison interleaves the steps of two folders."""
    scenario: Scenario
    variant: str
    tools: Tools
    run_dir: Path
    service: UserService | None = None  # a user's service for the replicas under test
    seed: int | None = None    # the load's random seed (pacing jitter); None: random
    binary: Path | None = None  # another refsvc build for the replicas under test (a git revision)


def run_steps(steps: list[Step], reports: Path, run_id: str, deadline_s: float,
              capture_kinds: tuple[str, ...] = ()) -> None:
    """Run the steps in order, under one deadline; each run folder gets its own journal."""
    for s in steps:
        if s.scenario.pattern == "own-service" and s.service is None:
            raise ScenarioError(f"Scenario {s.scenario.name!r} runs your own service on its replicas: name it with "
                                "--service FILE (gatewaylab run) or --baseline-service/--candidate-service (compare).")

    folders = list(dict.fromkeys(s.run_dir for s in steps))
    journals = {d: Journal(d / rf.JOURNAL) for d in folders}
    for line in leftovers.sweep(reports):
        for j in journals.values():
            j.write("leftover of an earlier run", detail=line)
        print(f"gatewaylab: {line}", file=sys.stderr)
    registry = leftovers.Registry(reports, run_id)
    for d, j in journals.items():
        j.write("run started", scenario=steps[0].scenario.name, variants=[s.variant for s in steps if s.run_dir == d],
                pid=os.getpid())
    old = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with deadline(deadline_s, "The run"):
            for step in steps:
                journal = journals[step.run_dir]
                journal.variant = step.variant
                run_variant(step.scenario, step.variant, step.tools, RunFolder(step.run_dir).variant(step.variant),
                            journal, registry, capture_kinds, service=step.service, seed=step.seed, binary=step.binary)
                journal.variant = None
        for j in journals.values():
            j.write("run finished")
    except BaseException as e:
        for j in journals.values():
            j.variant = None
            j.write("run stopped", "interrupted" if isinstance(e, (KeyboardInterrupt, Interrupted)) else "error",
                    error=f"{type(e).__name__}: {e}")
        raise
    finally:
        signal.signal(signal.SIGTERM, old)
        registry.close()
        for j in journals.values():
            j.close()


def run_variant(scenario: Scenario, variant: str, tools: Tools, folder: Path, journal: Journal,
                registry: leftovers.Registry, capture_kinds: tuple[str, ...] = (), service: UserService | None = None,
                seed: int | None = None, binary: Path | None = None) -> None:
    folder.mkdir(parents=True)
    scenario = scenario.resolve(variant)
    topology = build(scenario, variant, service, binary)
    progress = Progress()
    with open_stack(scenario, topology, tools, folder, journal, registry) as stack:
        replicas = stack.addresses["replicas"]
        sampler = Sampler({n: r["metrics"] for n, r in replicas.items()}, scenario.sampling.interval_s,
                          folder / rf.SAMPLES)
        sampler.start()
        poller = gateways.poller(stack, scenario.sampling.interval_s, folder / rf.GATEWAY_STATE)
        stack.watch(scenario.sampling.interval_s)
        snaps = Snapshots({n: r["pprof"] for n, r in replicas.items() if r.get("pprof")}, folder / rf.GOROUTINES, journal)

        def moved(replica: str, info: dict) -> None:  # a rolling restart replaced the replica's container
            sampler.targets[replica] = info["metrics"]
            if info.get("pprof"):
                snaps.pprofs[replica] = info["pprof"]
        stack.on_move.append(moved)
        rollout = scenario.containers.rollout
        rollout_at = scenario.phase(rollout.phase).start_s if rollout is not None else None
        snaps.start()
        snaps.take("baseline")
        inject = scenario.inject_phase()
        capture = Capture(capture_kinds or (), stack, folder / rf.CAPTURE, journal)
        injector = faults.Injector(stack, faults.schedule(scenario, topology), folder / rf.TOXICS)
        tail = RequestTail(folder / rf.REQUESTS)
        meta: dict = {"variant": variant, "seed": seed, "backend": scenario.backend, "gateway": scenario.gateway.kind,
                      "replicas": {r.name: f"service {r.service.name}" if r.service else r.variant for r in topology.replicas}}
        deaths: list[dict] = []
        meta["deaths"] = deaths
        restarts: dict[str, float] = {}  # replica -> when to restart it (a supervisor's backoff)
        locust = None
        try:
            with journal.step("start load", users=scenario.load.users, rate=scenario.load.rate,
                              duration_s=scenario.load.duration_s):
                locust = load.start(scenario.load, scenario.gateway, len(topology.replicas),
                                    stack.addresses["gateway"], folder / rf.LOCUST, seed=seed)
                registry.add("locust", locust.pid)
                t0 = _first_request(tail, locust)
            meta["t0"] = t0
            meta["loadavg_start"] = os.getloadavg()[0]  # what else ran on the machine (calibration records it)
            meta["locust_pid"] = locust.pid
            journal.write("load running", t0=t0, pids={**stack.addresses["pids"], "locust": locust.pid})
            deadline = scenario.load.duration_s + LOAD_GRACE_S
            elapsed = 0.0
            inject_seen = False
            while locust.alive():
                elapsed = time.time() - t0
                injector.tick(elapsed)
                snaps.tick()
                if inject is not None and not inject_seen and elapsed >= inject.start_s:
                    inject_seen = True
                    snaps.take("inject-start")
                    capture.start(min(inject.duration_s, CAPTURE_S))
                capture.poll()
                if rollout_at is not None and elapsed >= rollout_at:
                    rollout_at = None
                    journal.write("rolling restart", phase=rollout.phase, elapsed_s=round(elapsed, 1))
                    stack.begin_rollout()
                _show(progress, scenario, variant, elapsed, tail, sampler)
                if elapsed > deadline:
                    journal.write("load overran its duration; stopping Locust", "error", elapsed_s=round(elapsed, 1))
                    break
                for p in stack.dead():
                    if any(d["pid"] == p.pid for d in deaths):
                        continue
                    deaths.append({"process": p.name, "pid": p.pid, "t": time.time(), "exit": p.returncode})
                    journal.write("component died", "error", process=p.name, pid=p.pid, exit=p.returncode,
                                  elapsed_s=round(elapsed, 1), log_tail=p.tail(10))
                    policy = scenario.on_component_death
                    if policy == "restart" and p.name.startswith("replica-"):
                        restarts.setdefault(p.name, time.monotonic() + RESTART_BACKOFF_S)
                    elif policy in ("stop", "restart"):
                        raise ComponentDied(f"{p.name} died {elapsed:.0f} s into the load of variant {variant!r} "
                                            f"(exit status {p.returncode}); the scenario says stop. Its log ends with:\n{p.tail(10)}")
                for name, at in list(restarts.items()):
                    if time.monotonic() >= at:
                        del restarts[name]
                        came_back = stack.restart(name)
                        journal.write("restart", "ok" if came_back else "error", process=name,
                                      detail=None if came_back else "died again before it was ready")
                time.sleep(0.2)
            snaps.take("end")
            meta["load_exit"] = locust.stop()
            registry.remove("locust", locust.pid)
            meta["t_end"] = time.time()
            meta["loadavg_end"] = os.getloadavg()[0]
            journal.write("load finished", exit=meta["load_exit"], requests=tail.count)
            injector.clear(time.time() - t0)
            time.sleep(TAIL_S)
            snaps.take("after")  # in-flight work is done: what is left is a leak
        finally:
            progress.done()
            if locust is not None and locust.alive():
                locust.stop()
            capture.stop()
            snaps.finish()
            if injector.pending or injector.active:
                injector.clear(time.time() - meta.get("t0", time.time()))
            sampler.stop()
            poller.stop()
            meta.setdefault("t_end", time.time())
            (folder / rf.META).write_text(json.dumps(meta, indent=2))


def _first_request(tail: RequestTail, locust) -> float:
    deadline = time.monotonic() + FIRST_REQUEST_TIMEOUT_S
    while time.monotonic() < deadline:
        if tail.path.exists() and tail.path.stat().st_size > 0:
            first = json.loads(tail.path.open().readline())
            return first["start"]
        if not locust.alive():
            raise StackError(f"Locust exited (status {locust.returncode}) before sending a request. Its log ends with:\n{locust.tail()}")
        time.sleep(0.05)
    raise StackError(f"Locust sent no request within {FIRST_REQUEST_TIMEOUT_S:g} s. Its log ends with:\n{locust.tail()}")


def _phase_at(scenario: Scenario, elapsed: float) -> str:
    for p in scenario.phases:
        if p.start_s <= elapsed < p.start_s + p.duration_s:
            return p.name
    return "-"


def _show(progress: Progress, scenario: Scenario, variant: str, elapsed: float, tail: RequestTail, sampler: Sampler) -> None:
    before = tail.count
    tail.poll(scenario.analysis.slow_ms)
    gor = " ".join(f"{r}={int(s['goroutines'])}" for r, s in sorted(sampler.latest.items()) if "goroutines" in s)
    rate = (tail.count / elapsed) if elapsed > 1 else tail.count - before
    progress.show(
        f"[{variant}] {_phase_at(scenario, elapsed):<8} {elapsed:5.0f}/{scenario.load.duration_s:g}s "
        f"{rate:6.1f} req/s  requests {tail.count}  5xx/conn-err {tail.errors}  slow {tail.slow}  goroutines {gor}"
    )
