"""A short real run behind Traefik (tests/scenarios/e2e-short.yaml, buggy): the leaking replica is taken out
as Traefik's own gauge says, loopback only, nothing left behind. Runs when tools/traefik-3.6.12 is built:
`make traefik` (about 12 minutes of CPU on 2 cores once, so it is not a prerequisite of `make test`)."""

from __future__ import annotations

import json
import time

import pytest

from harness.host.sockets import alive, group_members, listeners
from harness.stack.gateways import traefik
from tests.runs import SCENARIOS, start, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not (traefik.ROOT / "tools" / f"traefik-{traefik.VERSION}").exists(),
    reason=f"Traefik v{traefik.VERSION} is not built: run `make traefik` (it builds tools/traefik-{traefik.VERSION} "
           f"from the Go module proxy, about 12 minutes on 2 cores)")]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    reports = tmp_path_factory.mktemp("traefik")
    proc = start(SCENARIOS / "e2e-short.yaml", reports, "--gateway", "traefik", "--variant", "buggy")
    try:
        _, running = wait_for(reports, proc, "load running", 1)
        time.sleep(2)
        pids = set(running[-1]["pids"].values())
        seen = listeners(group_members(pids))
        text, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    run_dir = next((reports / "runs").glob("*"))
    return {"code": proc.returncode, "out": text, "pids": pids, "listeners": seen, "run_dir": run_dir,
            "summary": json.loads((run_dir / "summary.json").read_text())}


def test_traefik_takes_the_leaking_replica_out_as_its_gauge_says(run):
    assert run["code"] == 0, run["out"]
    s = run["summary"]
    assert s["verdict"] == "pass" and s["stack"].startswith("local processes behind traefik (")
    g = s["variants"]["buggy"]["gateway"]
    assert g["kind"] == "traefik" and g["ejection_episodes"] >= 1
    assert g["state_out_samples"] >= 1, "traefik_service_server_up never showed a server out"
    assert g["state_agreement"] >= 0.9, g  # polled once a second: an edge may fall between two polls
    assert s["variants"]["buggy"]["crosscheck"]["missing_in_access_log"] == 0


def test_loopback_only_and_nothing_left(run):
    addrs = [a for per_pid in run["listeners"].values() for a in per_pid]
    assert addrs and all(a.startswith("127.0.0.1:") for a in addrs), addrs
    assert not [p for p in run["pids"] if alive(p)]
