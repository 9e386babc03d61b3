"""The fault schedule: toxics added at their phase's start, removed at its end."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from toxiproxy.exceptions import NotFound

from harness.scenario import Scenario, Toxic
from harness.stack.topology import Topology


@dataclass(frozen=True)
class Event:
    at_s: float          # seconds after the load started
    action: str          # "add" | "remove"
    toxic: Toxic
    proxy: str


def schedule(scenario: Scenario, topology: Topology) -> list[Event]:
    events = []
    for t in scenario.toxics:
        phase = scenario.phase(t.phase)
        targets = [r.name for r in topology.replicas] if t.replicas == "all" else t.replicas
        for replica in targets:
            proxy = topology.proxy(t.leg, replica).name
            events.append(Event(phase.start_s, "add", t, proxy))
            events.append(Event(phase.start_s + phase.duration_s, "remove", t, proxy))
    return sorted(events, key=lambda e: (e.at_s, e.action == "add"))  # removes before adds at one instant


class Injector:
    """Applies due events through toxiproxy-python and records each one."""

    def __init__(self, stack, events: list[Event], out: Path):
        self.stack = stack
        self.pending = list(events)
        self.active: list[Event] = []
        self._out = open(out, "a", encoding="utf-8", buffering=1)

    def tick(self, elapsed_s: float) -> None:
        while self.pending and self.pending[0].at_s <= elapsed_s:
            self._apply(self.pending.pop(0), elapsed_s)

    def clear(self, elapsed_s: float) -> None:
        """Remove whatever is still active (the run ended or was interrupted). Safe to call twice."""
        if self._out.closed:
            return
        for e in list(self.active):
            self._apply(Event(elapsed_s, "remove", e.toxic, e.proxy), elapsed_s)
        self.pending.clear()
        self.active.clear()  # what failed to go is recorded; the stack is torn down next anyway
        self._out.close()

    def _apply(self, e: Event, elapsed_s: float) -> None:
        t = e.toxic
        record = {"t": round(time.time(), 3), "offset_s": round(elapsed_s, 3), "action": e.action, "toxic": t.name,
                  "proxy": e.proxy, "type": t.type, "stream": t.stream, "attributes": t.attributes, "ok": True}
        try:
            proxy = self.stack.proxy(e.proxy)
            if t.type == "down":
                proxy.disable() if e.action == "add" else proxy.enable()
            elif e.action == "add":
                proxy.add_toxic(name=t.name, type=t.type, stream=t.stream, toxicity=t.toxicity, attributes=dict(t.attributes))
            else:
                try:
                    proxy.destroy_toxic(t.name)
                except NotFound:
                    # A removal that timed out may still have happened (Toxiproxy waits for a
                    # bandwidth toxic's streams): a retry's 404 means it is gone.
                    record["note"] = "already gone"
            if e.action == "add":
                self.active.append(e)
            else:
                self.active = [a for a in self.active if not (a.toxic.name == t.name and a.proxy == e.proxy)]
        except Exception as err:  # recorded; the run goes on and the report shows it
            record.update(ok=False, error=f"{type(err).__name__}: {err}")
        self._out.write(json.dumps(record) + "\n")
