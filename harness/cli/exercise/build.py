"""Build refsvc with the participant's file in place of the buggy one.

A copy of goservices/ goes into the run folder and the file is put over the
buggy build's; the binary records that copy's paths, so the goroutine dumps and
the leak profile name `.../patterns/<pkg>/<build>.go:LINE`, the participant's
line numbers, and the report can still read the source from the run folder.
(A `go build -overlay` would record the original path, whose lines are not theirs.)
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from harness.errors import GatewaylabError
from harness.host.tools import ROOT

GO = shutil.which("go") or "/usr/local/go/bin/go"
BUILD_TIMEOUT_S = 300


class CompileError(GatewaylabError):
    """The participant's file does not compile: the compiler's message, exit 2."""


def build(mine: Path, replaces: str, out: Path) -> Path:
    """Copy goservices/ to out/src, put `mine` over `replaces`, build out/refsvc; its path."""
    src = out / "src"
    shutil.copytree(ROOT / "goservices", src / "goservices", ignore=shutil.ignore_patterns("*_test.go", "testdata"))
    target = src / replaces
    shutil.copyfile(mine, target)
    binary = out / "refsvc"
    env = {**os.environ, "GOEXPERIMENT": "goroutineleakprofile",  # as the Makefile builds bin/refsvc: the leak profile
           "GOFLAGS": "-mod=readonly"}  # an import the module lacks is an error, not a download
    try:
        # its own group: on a timeout or a Stop, the compilers `go` started end with it
        proc = subprocess.Popen([GO, "build", "-o", str(binary), "./cmd/refsvc"], cwd=src / "goservices", env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, process_group=0)
    except FileNotFoundError:
        raise GatewaylabError("Go is not installed or not on PATH: install Go 1.26 (see README).") from None
    try:
        text, _ = proc.communicate(timeout=BUILD_TIMEOUT_S)
    except BaseException as e:
        os.killpg(proc.pid, signal.SIGKILL)  # not reaped yet, so the group is still ours
        proc.wait()
        if isinstance(e, subprocess.TimeoutExpired):
            raise GatewaylabError(f"Building your {mine.name} took more than {BUILD_TIMEOUT_S} s; try again when "
                                  "the machine is less busy.") from None
        raise
    (out / "build.log").write_text(text)
    if proc.returncode != 0:
        raise CompileError(compiler_message(text, replaces, mine))
    return binary


def compiler_message(text: str, replaces: str, mine: Path) -> str:
    """The compiler's output with the copy's path of the file replaced by the participant's own."""
    rel = replaces.removeprefix("goservices/")
    pattern = re.compile(r"(?:\S*/)?" + re.escape(rel) + r"(?=:\d)")
    lines = [pattern.sub(str(mine), ln) for ln in text.splitlines() if not ln.startswith("# ")]
    return "\n".join(ln for ln in lines if ln.strip())
