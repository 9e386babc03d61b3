"""The fault injector's bookkeeping when Toxiproxy's API is slow or says a toxic is gone.

The proxy here is a stand-in for toxiproxy-python's Proxy object: what is
tested is the Injector's record and state, not Toxiproxy (test_stack and the
end-to-end tests drive the real server).
"""

from __future__ import annotations

import json

from toxiproxy.exceptions import NotFound

from harness.drive.faults import Event, Injector
from harness.scenario import Toxic


class GoneProxy:
    """Its toxic was removed by an earlier call that timed out: every removal is a 404."""

    def add_toxic(self, **kw):
        pass

    def destroy_toxic(self, name):
        raise NotFound(b'{"error":"toxic not found","status":404}')


class Stack:
    def proxy(self, name):
        return GoneProxy()


def test_a_toxic_already_gone_counts_as_removed_and_clear_can_run_twice(tmp_path):
    toxic = Toxic(name="slow", phase="inject", leg="gateway", type="bandwidth", attributes={"rate": 2000})
    out = tmp_path / "toxics.jsonl"
    inj = Injector(Stack(), [Event(0, "add", toxic, "gw-a"), Event(5, "remove", toxic, "gw-a")], out)
    inj.tick(1)
    assert len(inj.active) == 1
    inj.clear(3)
    inj.clear(4)  # the run's finally block may call it again: no error, nothing written twice
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(r["action"], r["ok"], r.get("note")) for r in rows] == [("add", True, None), ("remove", True, "already gone")]
    assert not inj.active and not inj.pending
