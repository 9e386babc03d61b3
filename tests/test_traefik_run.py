"""A short real run behind Traefik (tests/scenarios/e2e-short.yaml, buggy): the leaking replica is taken out
as Traefik's own gauge says, loopback only, nothing left behind. Needs tools/traefik-3.6.12: `make test`
builds it beside the other tests (scripts/test-with-traefik) and this file, collected last, waits for that
build; a failed build fails here with its log. Run alone without it (plain pytest), the file is skipped,
saying `make traefik`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import psutil

import pytest

from harness.host.sockets import alive, group_members, listeners
from harness.stack.gateways import traefik
from tests.runs import SCENARIOS, start, wait_for

pytestmark = pytest.mark.e2e
BINARY = traefik.ROOT / "tools" / f"traefik-{traefik.VERSION}"
BUILD_WAIT_S = 30 * 60


def building(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def traefik_built() -> None:
    """Wait for the build make test started, if any; then run, fail with the build's log, or skip."""
    given = os.environ.get("GATEWAYLAB_TRAEFIK_BUILD", "")
    if not BINARY.exists() and given:
        pid, _, log = given.partition(":")
        until = time.monotonic() + BUILD_WAIT_S
        while building(int(pid)) and not BINARY.exists() and time.monotonic() < until:
            time.sleep(2)
        if not BINARY.exists():
            tail = "\n".join(Path(log).read_text(errors="replace").splitlines()[-15:]) if Path(log).exists() else ""
            pytest.fail(f"make test's build of Traefik v{traefik.VERSION} did not give {BINARY}; {log} ends with:\n{tail}")
    if not BINARY.exists():
        pytest.skip(f"Traefik v{traefik.VERSION} is not built: run `make traefik` (it builds {BINARY.name} "
                    "from the Go module proxy, about 7-12 minutes on 2 cores), or `make test`, which builds it")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    traefik_built()
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
