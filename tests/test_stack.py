"""The local backend with real binaries: port races, failed starts, tear-down."""

import socket

import pytest

from harness.host import probes, procs
from harness.stack import local as stack_mod
from harness.host import tools
from harness.errors import StackError
from harness.record.journal import Journal, read
from harness.scenario import load
from harness.stack.topology import build
from harness.host.sockets import alive


@pytest.fixture
def local(tmp_path):
    topology = build(load("unclosed-body"), "fixed")
    journal = Journal(tmp_path / "journal.jsonl")
    s = stack_mod.LocalStack(topology, tools.find(), tmp_path, journal)
    yield s
    s.stop()
    journal.close()


def test_a_port_taken_between_choice_and_bind_is_chosen_again(local, tmp_path, monkeypatch):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    taken = busy.getsockname()[1]
    ports = iter([taken])
    real = procs.free_port
    monkeypatch.setattr(stack_mod, "free_port", lambda: next(ports, None) or real())
    try:
        port = local._spawn("dependency", lambda p: [str(local.tools.dependency), "-addr", f"127.0.0.1:{p}"],
                            lambda p: probes.answers(f"http://127.0.0.1:{p}/healthz"), tmp_path / "logs")
    finally:
        busy.close()
    assert port != taken
    assert any(e["step"] == "port taken, choosing again" for e in read(tmp_path / "journal.jsonl"))


def test_a_component_that_cannot_start_is_reported_with_its_log(local, tmp_path):
    with pytest.raises(StackError) as e:
        local._spawn("replica-x", lambda p: [str(local.tools.refsvc), "-variant", "nope", "-addr", f"127.0.0.1:{p}"],
                     lambda p: probes.answers(f"http://127.0.0.1:{p}/healthz"), tmp_path / "logs")
    assert "replica-x exited with status 2" in str(e.value)
    assert "nope" in str(e.value)
    assert not local.procs


def test_stack_starts_and_stops_everything(local):
    with local:
        pids = dict(local.addresses["pids"])
        assert set(pids) == {"toxiproxy", "dependency", "replica-a", "replica-b", "nginx"}
        got = probes.http_get(f"http://{local.addresses['gateway']}/api/item", 5)
        assert got is not None and got[0] == 200
    assert not [p for p in pids.values() if alive(p)]


def test_ports_picked_one_after_another_differ():
    """The kernel can pick the same free port twice in a row (8 repeats in 500 picks here); a replica's
    service and admin ports are two picks, and refsvc refuses to start on one port for both."""
    ports = [procs.free_port() for _ in range(2000)]
    assert len(set(ports)) == len(ports)
