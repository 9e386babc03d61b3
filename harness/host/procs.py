"""Child processes: started in their own process group, stopped by that group.

Children die with the harness (parent-death signal) and are never looked up by
name: we stop exactly the PIDs we started.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import socket
import subprocess
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path

from harness.errors import RunDeadline

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if os.name == "posix" else None


def _child_setup(nofile: int | None):
    def setup() -> None:
        # Runs in the child between fork and exec. Spawn only from the main thread:
        # the parent-death signal fires when the spawning *thread* exits.
        if _libc is not None:
            _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    return setup


@contextmanager
def deadline(seconds: float | None, what: str):
    """RunDeadline (from the main thread's SIGALRM) once `seconds` have passed inside the block; None: no deadline."""
    def expired(signum, frame):
        raise RunDeadline(f"{what} hit its deadline of {seconds:g} s and was stopped. "
                          "Pass a longer --deadline if it really needs more time.")

    old = signal.signal(signal.SIGALRM, expired)
    if seconds:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


_HANDED: deque[int] = deque(maxlen=4096)  # ports this process gave out lately


def free_port() -> int:
    """A port free on 127.0.0.1 now and not one this process gave out lately: the kernel can pick
    the same free port twice in a row (8 repeats in 500 picks here), and a replica's service and
    admin ports, chosen one after the other, must differ."""
    for _ in range(64):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED:
            break
    _HANDED.append(port)
    return port


class Proc:
    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None,
                 nofile: int | None = None, user: tuple[int, int] | None = None, stop_signal: int = signal.SIGTERM):
        """user: (uid, gid) to run as, set before the parent-death signal (a credential
        change would clear it); stop_signal: what asks it to stop (PostgreSQL: SIGINT)."""
        self.name = name
        self.argv = argv
        self.log = log
        self.env = env
        self.nofile = nofile
        self.cwd = cwd
        self.user = user
        self.stop_signal = stop_signal
        self.ready = None  # the readiness check, kept for a restart
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_child_setup(nofile),
                env={**os.environ, **(env or {})},
                cwd=cwd,
                **({"user": user[0], "group": user[1], "extra_groups": []} if user else {}),
            )
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace_s: float = 5.0) -> int | None:
        """SIGTERM (or its stop_signal) to the group, then SIGKILL; returns the exit status."""
        if self.alive():
            self._signal(self.stop_signal)
            try:
                self.popen.wait(grace_s)
            except subprocess.TimeoutExpired:
                pass
        # The group may hold children (nginx workers) after the leader is gone.
        self._signal(signal.SIGKILL)
        try:
            self.popen.wait(grace_s)
        except subprocess.TimeoutExpired:
            pass
        return self.popen.poll()

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def wait_until(check, timeout_s: float, proc: Proc | None = None, interval_s: float = 0.05) -> bool:
    """Poll `check` until it is true; give up early if `proc` exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        if proc is not None and not proc.alive():
            return False
        time.sleep(interval_s)
    return check()
