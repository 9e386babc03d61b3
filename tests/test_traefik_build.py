"""scripts/test-with-traefik: make test's suites with the Traefik build beside them. What matters here is the
build's process group: passed to the suites, stopped with them, also when the script itself is SIGKILLed.
The build is stood in for by a script that sleeps (the real one takes minutes; it runs in every make test)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def repo(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "test-with-traefik", tmp_path / "scripts")
    build = tmp_path / "scripts" / "ensure-traefik"
    build.write_text("#!/usr/bin/env bash\necho building; exec sleep 300\n")
    build.chmod(0o755)
    return tmp_path


def the_build(given: str) -> psutil.Process:
    """The build's process, once it runs the stand-in (setsid and nice exec into it: one pid)."""
    pid, _, log = given.partition(":")
    assert Path(log).name == "traefik-build.log"
    p = psutil.Process(int(pid))
    until = time.monotonic() + 10
    while p.name() != "sleep" and time.monotonic() < until:
        time.sleep(0.1)
    return p


def gone(p: psutil.Process, within_s: float) -> bool:
    until = time.monotonic() + within_s
    while time.monotonic() < until:
        if not p.is_running() or p.status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.2)
    return False


def test_the_build_is_handed_to_the_suites_and_stopped_with_them(tmp_path):
    r = repo(tmp_path)
    got = subprocess.run([str(r / "scripts" / "test-with-traefik"), "bash", "-c",
                          'echo "$GATEWAYLAB_TRAEFIK_BUILD"; sleep 2; exit 3'], capture_output=True, text=True,
                         timeout=30)
    assert got.returncode == 3, got.stderr  # the suites' exit status is make test's
    pid = int(got.stdout.strip().partition(":")[0])
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert (r / "tools" / "traefik-build.log").read_text().startswith("building")


def test_a_sigkilled_make_test_leaves_no_build_running(tmp_path):
    r = repo(tmp_path)
    proc = subprocess.Popen([str(r / "scripts" / "test-with-traefik"), "bash", "-c",
                             'echo "$GATEWAYLAB_TRAEFIK_BUILD"; exec sleep 60'],
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    build = the_build(proc.stdout.readline().strip())
    assert build.is_running() and os.getpgid(build.pid) == build.pid and build.nice() == 19
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    try:
        assert gone(build, 5), "the build outlived a SIGKILLed make test"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the suites' stand-in (sleep 60), in the session we started
