"""The one run a workshop page starts: `gatewaylab run` (or `gatewaylab exercise check` of a
participant's file) as a child in its own process group.

Stop asks the run to stop the way a terminal would (SIGTERM: the runner turns it into the same
clean-up as Ctrl-C, so its stack is torn down and its folder closed), waits for it, and only if
it does not end in time kills its process group. Nothing is looked up by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from harness.host.tools import ROOT

STOP_WAIT_S = 60.0


class Busy(Exception):
    """A run is already going: one trainer, one machine, one run at a time."""


class Session:
    def __init__(self, reports: Path):
        self.reports = Path(reports)
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.scenario: str | None = None
        self.variants: list[str] = []
        self.run_dir: Path | None = None
        self.stopped = False
        self.kind = "run"  # or "check": an exercise check of the workspace below
        self.workspace: Path | None = None
        self.log: Path | None = None
        self._before: set[str] = set()

    def _runs(self) -> set[str]:
        runs = self.reports / "runs"
        return {p.name for p in runs.iterdir() if p.is_dir()} if runs.is_dir() else set()

    def start(self, scenario: str, variants: list[str]) -> None:
        argv = ["run", scenario, "--reports", str(self.reports)] + (["--variant", ",".join(variants)] if variants else [])
        with self.lock:
            self._spawn(argv, "run", scenario, variants, None)

    def check(self, scenario: str, write_workspace) -> Path:
        """Start `exercise check` on the workspace that write_workspace() makes (only when nothing else runs)."""
        with self.lock:
            self._idle_or_busy()
            ws = write_workspace()
            self._spawn(["exercise", "check", str(ws), "--reports", str(self.reports)], "check", scenario, [], ws)
            return ws

    def _idle_or_busy(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            what = "an exercise check" if self.kind == "check" else "a run"
            raise Busy(f"{what} of {self.scenario} is still going; stop it first")

    def _spawn(self, argv: list[str], kind: str, scenario: str, variants: list[str], ws: Path | None) -> None:
        self._idle_or_busy()
        self.reports.mkdir(parents=True, exist_ok=True)
        self._before = self._runs()
        self.log = self.reports / f"workshop-{kind}.log"
        with open(self.log, "wb") as out:
            # own session: Stop signals this run alone, never the server or the trainer's shell
            self.proc = subprocess.Popen([sys.executable, "-m", "harness", *argv], cwd=ROOT, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.kind, self.workspace = kind, ws
        self.scenario, self.variants, self.run_dir, self.stopped = scenario, variants, None, False

    def folder(self) -> Path | None:
        """The run's folder, once the child has made it (the newest one that was not there before)."""
        if self.run_dir is None and self.proc is not None:
            new = sorted(self._runs() - self._before)
            if new:
                self.run_dir = self.reports / "runs" / new[-1]
        return self.run_dir

    def state(self) -> str:
        if self.proc is None:
            return "idle"
        code = self.proc.poll()
        if code is None:
            return "stopping" if self.stopped else "running"
        return "stopped" if self.stopped else "finished"

    def exit_code(self) -> int | None:
        return self.proc.poll() if self.proc is not None else None

    def log_tail(self, lines: int = 12, size: int = 8192) -> str:
        if self.log is None or not self.log.exists():
            return ""
        with open(self.log, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - size))
            text = f.read().decode(errors="replace")
        return "\n".join(text.replace("\r", "\n").splitlines()[-lines:])

    def stop(self, wait_s: float = STOP_WAIT_S) -> int | None:
        """Stop the run and wait for its clean-up; its exit code (None: there was none)."""
        with self.lock:
            proc = self.proc
            if proc is None or proc.poll() is not None:
                return proc.poll() if proc is not None else None
            self.stopped = True
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            # its clean-up hung: end the group it leads (its own children have their own groups
            # and die with it by their parent-death signal)
            _kill_group(proc.pid)
            return proc.wait(10)

    def wait(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while self.proc is not None and self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.exit_code()


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:  # the group is empty: nothing was left
        pass
