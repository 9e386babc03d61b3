"""The docker backend with the real engine: verdicts, records, limits, and nothing left behind.

`make test` starts the engine first (scripts/ensure-docker); without one these tests fail, they do not skip.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import docker
import psutil
import pytest

from harness.scenario import ScenarioError, load, on_backend, parse
from harness.host.sockets import listeners
from harness.stack.containers import engine
from tests.runs import ROOT, SCENARIOS, start, wait_for

pytestmark = pytest.mark.e2e
SHORT = SCENARIOS / "e2e-short.yaml"


@pytest.fixture(scope="module")
def client():
    return engine.connect()


def running(client, run_id: str) -> list[str]:
    return [c["name"] for c in engine.listed(client, {engine.RUN: run_id}, running_only=True)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every short docker run of this module, all at once: each waits on its load most of the time."""
    started = {}
    for name, extra in (("e2e-short", ("--backend", "docker")), ("oom-short", ()), ("containers-short", ()),
                        ("rollout-short", ())):
        reports = tmp_path_factory.mktemp(name)
        started[name] = (start(SCENARIOS / f"{name}.yaml", reports, *extra), reports)
    done = {}
    try:
        for name, (proc, reports) in started.items():
            out, _ = proc.communicate(timeout=600)
            done[name] = (proc.returncode, out, next((reports / "runs").iterdir()))
    finally:
        for proc, _ in started.values():
            if proc.poll() is None:
                proc.kill()
    return done


def test_a_short_run_in_containers_passes_the_same_expectations(runs, client):
    code, out, run_dir = runs["e2e-short"]
    assert code == 0, out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"] == "pass"
    for variant in ("buggy", "fixed"):
        folder = run_dir / "variants" / variant
        stack = json.loads((folder / "stack.json").read_text())
        assert stack["backend"] == "docker" and set(stack["containers"]) >= {"toxiproxy", "dependency", "nginx", "replica-a"}
        samples = [json.loads(x) for x in (folder / "cgroups.jsonl").read_text().splitlines()]
        assert {s["replica"] for s in samples} == {"a", "b"} and all(s["mem_bytes"] > 0 for s in samples)
        starts = [json.loads(x) for x in (folder / "containers.jsonl").read_text().splitlines()]
        assert {e["replica"] for e in starts if e["event"] == "start"} == {"a", "b"}
        assert (folder / "logs" / "replica-a.log").read_text().strip(), "the container's output is kept"
    buggy = summary["variants"]["buggy"]["replicas"]["a"]
    assert buggy["pool_in_use_peak"] == 20 and buggy["ejection_episodes"] >= 1
    assert running(client, run_dir.name) == []


def test_after_sigkill_no_container_of_the_run_runs_10_s_later(tmp_path, client):
    proc = start(SHORT, tmp_path, "--backend", "docker", "--variant", "fixed")
    try:
        run_dir, _ = wait_for(tmp_path, proc, "load running", timeout=180)
        before = running(client, run_dir.name)
        assert len(before) >= 5, before  # toxiproxy, dependency, two replicas, nginx
        # every process in every container listens on 127.0.0.1 only (host network: their sockets are the host's)
        pids = {int(client.api.inspect_container(c["id"])["State"]["Pid"]) for c in engine.listed(client, {engine.RUN: run_dir.name})}
        found = listeners({p.pid for pid in pids for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]})
        assert found and all(addr.startswith("127.0.0.1:") for addrs in found.values() for addr in addrs), found
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while running(client, run_dir.name) and time.monotonic() < deadline:
            time.sleep(0.25)
        assert running(client, run_dir.name) == [], "containers outlived the harness by 10 s"
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 10  # the reaper removes them one by one after they stop
    while engine.listed(client, {engine.RUN: run_dir.name}) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert engine.listed(client, {engine.RUN: run_dir.name}) == [], "stopped containers are removed too"
    assert (run_dir / "variants" / "fixed" / "logs" / "replica-a.log").exists(), "the reaper keeps their output"


def test_ctrl_c_stops_every_container_and_keeps_the_records(tmp_path, client):
    proc = start(SHORT, tmp_path, "--backend", "docker", "--variant", "fixed")
    try:
        run_dir, _ = wait_for(tmp_path, proc, "load running", timeout=180)
        time.sleep(2)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out
    assert engine.listed(client, {engine.RUN: run_dir.name}) == []
    folder = run_dir / "variants" / "fixed"
    assert (folder / "cgroups.jsonl").read_text() and (folder / "logs" / "replica-a.log").read_text()
    assert json.loads((run_dir / "summary.json").read_text())["verdict"] == "incomplete"


def test_no_engine_exits_2_with_how_to_get_one_and_starts_nothing(tmp_path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    out = subprocess.run([sys.executable, "-m", "harness", "run", str(SHORT), "--backend", "docker",
                          "--reports", str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out.stderr
    assert "needs a running Docker engine" in out.stderr and "make docker" in out.stderr
    assert not (tmp_path / "runs").exists()


def test_limits_without_the_docker_backend_are_refused_naming_the_field():
    text = SHORT.read_text() + "containers:\n  limits: {memory_mb: 64}\n"
    with pytest.raises(ScenarioError, match=r"containers sets limits.memory_mb, which only the docker backend"):
        parse(text, "x.yaml")
    with_docker = parse(text + "backend: docker\n", "x.yaml")
    with pytest.raises(ScenarioError, match="--backend local"):
        on_backend(with_docker, "local")
    assert on_backend(load(str(SHORT)), "docker").backend == "docker"


def test_images_are_built_once_per_content(client, tmp_path):
    from harness.stack.containers import images
    tag, _ = images.ensure(client, ROOT / "bin" / "dependency", "dependency", "test")
    again, built = images.ensure(client, ROOT / "bin" / "dependency", "dependency", "test")
    assert (again, built) == (tag, False)
    copy = tmp_path / "dependency"
    copy.write_bytes((ROOT / "bin" / "dependency").read_bytes() + b"\0")  # one byte more: another image
    copy.chmod(0o755)
    other, built = images.ensure(client, copy, "dependency", "test")
    assert other != tag and built
    client.images.remove(other)
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(other)


def test_clean_removes_containers_whose_harness_is_gone_and_spares_live_ones(client, tmp_path):
    from harness.host.procs import free_port
    from harness.stack.containers import images
    from harness.stack.leftovers import started

    tag, _ = images.ensure(client, ROOT / "bin" / "dependency", "dependency", "test")
    me = f"{os.getpid()}:{started(os.getpid())}"
    made = {}
    for run, owner in (("test-orphan", "999999:1.0"), ("test-live", me)):
        made[run] = engine.Container(client, f"gl-{run}", tag, ["dependency", "-addr", f"127.0.0.1:{free_port()}",
                                     "-tcp-addr", f"127.0.0.1:{free_port()}"], tmp_path / f"{run}.log",
                                     {engine.RUN: run, engine.OWNER: owner, engine.COMPONENT: "dependency"})
    try:
        out = subprocess.run([sys.executable, "-m", "harness", "clean", "--reports", str(tmp_path)], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "removed container gl-test-orphan" in out.stdout and "gl-test-live" not in out.stdout
        assert running(client, "test-orphan") == [] and running(client, "test-live") == ["gl-test-live"]
        assert (tmp_path / "test-orphan.log").exists(), "its output is kept where its label says"
    finally:
        made["test-live"].stop(0)


def _events(run_dir, variant: str, name: str = "containers.jsonl") -> list[dict]:
    return [json.loads(x) for x in (run_dir / "variants" / variant / name).read_text().splitlines() if x.strip()]


@pytest.fixture(scope="module")
def oom_run(runs):
    return runs["oom-short"]


def test_an_oom_kill_is_recorded_and_restarted_after_crashloop_backoff(oom_run):
    code, out, run_dir = oom_run
    assert code == 0, out
    events = _events(run_dir, "buggy")
    a = [e for e in events if e["replica"] == "a"]
    exits = [e for e in a if e["event"] == "exit"]
    assert exits and all(e["oom_killed"] and e["exit_code"] == 137 for e in exits)
    assert any(e["event"] == "oom" for e in a), "the engine's own oom event"
    # CrashLoopBackOff x0.1: the first restart at once, then 1 s, 2 s, ...; each restart waits at least that long
    backoffs = [e for e in a if e["event"] == "backoff"]
    assert [b["k8s_delay_s"] for b in backoffs][:3] == [0.0, 10.0, 20.0][:len(backoffs)]
    restarts = [e for e in a if e["event"] == "restart"]
    for b, r in zip(backoffs, restarts):
        assert r["t"] - b["t"] >= b["delay_s"] - 0.05
    cg = [s for s in _events(run_dir, "buggy", "cgroups.jsonl") if s["replica"] == "a"]
    assert {s["mem_limit_bytes"] for s in cg} == {48 * 1024 * 1024}
    assert max(s["mem_bytes"] for s in cg) > 40 * 1024 * 1024
    assert len({s["generation"] for s in cg}) >= 2, "a sample from each container generation"
    summary = json.loads((run_dir / "summary.json").read_text())["variants"]["buggy"]["replicas"]
    assert summary["a"]["oom_kills"] == len(exits) and summary["b"]["oom_kills"] == 0
    assert 'id="containers"' in (run_dir / "report.html").read_text()


@pytest.fixture(scope="module")
def probes_run(runs):
    return runs["containers-short"]


def test_a_failing_liveness_probe_restarts_the_stuck_replica(probes_run):
    code, out, run_dir = probes_run
    assert code == 0, out
    a = [e["event"] for e in _events(run_dir, "liveness") if e["replica"] == "a"]
    kill = a.index("liveness-kill")
    probes = [e for e in a[:kill] if e.startswith("liveness")]
    assert probes[-2:] == ["liveness-failed", "liveness-failed"], "failure_threshold 2, in a row"
    assert "terminate" in a[kill:] and "restart" in a[kill:]
    assert a.count("exit") == a.count("liveness-kill"), "every exit was a liveness kill's (no stray SIGKILL of the next process)"
    assert "liveness-kill" not in [e["event"] for e in _events(run_dir, "liveness") if e["replica"] == "b"]


def test_a_failing_readiness_probe_takes_the_replica_out_of_nginx_without_a_restart(probes_run):
    code, out, run_dir = probes_run
    events = [e for e in _events(run_dir, "readiness") if e["replica"] == "a"]
    assert "unready" in [e["event"] for e in events] and "restart" not in [e["event"] for e in events]
    stack = json.loads((run_dir / "variants" / "readiness" / "stack.json").read_text())
    member = next(p["listen"] for p in stack["proxies"].values() if p["replica"] == "a" and p["leg"] == "gateway")
    conf = (run_dir / "variants" / "readiness" / "nginx" / "nginx.conf").read_text()
    assert f"server {member} " in conf and f"{member} max_fails" in conf
    assert [line for line in conf.splitlines() if member in line][0].rstrip().endswith("down;")


@pytest.fixture(scope="module")
def rollout_run(runs):
    return runs["rollout-short"]


def test_a_rolling_restart_replaces_every_replica_and_only_the_graceful_build_loses_nothing(rollout_run):
    code, out, run_dir = rollout_run
    assert code == 0, out
    for variant in ("buggy", "fixed"):
        steps = [(e["replica"], e["step"]) for e in _events(run_dir, variant) if e["event"] == "rollout"]
        for r in ("a", "b"):
            assert [s for x, s in steps if x == r][:5] == ["begin", "surge-started", "surge-ready", "terminating", "terminated"]
        stack = json.loads((run_dir / "variants" / variant / "stack.json").read_text())
        assert {"gw-a-g2", "gw-b-g2"} <= set(stack["proxies"]), "the new containers' proxies, mapped to their replica"
        assert stack["containers"]["replica-a"].endswith("-g2")
        # the sampler followed the new container: samples of a after its rollout answer
        done = next(e["t"] for e in _events(run_dir, variant) if e["event"] == "rollout" and e["step"] == "terminated"
                    and e["replica"] == "a")
        later = [s for s in _events(run_dir, variant, "samples.jsonl") if s["replica"] == "a" and s["t"] > done + 1]
        assert later and all("error" not in s for s in later)
    summary = json.loads((run_dir / "summary.json").read_text())["variants"]
    assert summary["fixed"]["client"]["errors_5xx"] == 0
    assert summary["buggy"]["client"]["endpoint"]["post-item"]["errors_5xx"] >= 1


def test_a_named_image_that_is_here_is_used_without_a_pull(client):
    from harness.stack.containers import images
    tag, _ = images.ensure(client, ROOT / "bin" / "dependency", "dependency", "test")
    client.images.get(tag).tag("example.test/dependency", "local")  # as if pulled before
    try:
        images.pulled(client, "example.test/dependency:local")  # no registry is asked: it is here
    finally:
        client.images.remove("example.test/dependency:local")
