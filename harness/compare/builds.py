"""What a "build" is: a reference-service variant, a git revision of this repository, or a user's own service.

A git revision is checked out in a temporary worktree and its goservices/
built there; the worktree is removed once the binaries are out. A user's
service follows the contract of harness.scenario.service.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.errors import GatewaylabError, ScenarioError
from harness.host.tools import Tools
from harness.scenario import UserService

GO = shutil.which("go") or "/usr/local/go/bin/go"
BUILD_TIMEOUT_S = 600


class BuildFailed(GatewaylabError):
    """A build did not compile, or its service did not start: bad environment, exit 2."""


@dataclass(frozen=True)
class Build:
    role: str                       # "baseline" | "candidate"
    variant: str                    # the scenario variant whose settings (and expectations) apply
    tools: Tools
    service: UserService | None = None
    ref: str | None = None
    commit: str | None = None
    # refsvc built from `ref`, for the replicas under test only; pinned replicas (the
    # healthy neighbours) keep this tree's build: they are the test bench, not the build.
    binary: Path | None = None

    def describe(self) -> str:
        if self.service is not None:
            return f"service {self.service.name}"
        if self.ref is not None:
            return f"{self.ref} ({(self.commit or '')[:10]}) variant {self.variant}"
        return f"variant {self.variant}"

    def as_dict(self) -> dict:
        return {"role": self.role, "variant": self.variant, "ref": self.ref, "commit": self.commit,
                "service": None if self.service is None else {**self.service.model_dump(mode="json")},
                "refsvc": str(self.binary or self.tools.refsvc), "describe": self.describe()}


def resolve_commit(repo: Path, ref: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._/@^~+-]{1,200}", ref) or ref.startswith("-"):
        raise ScenarioError(f"{ref!r} is not a git revision name; give a branch, tag or commit (e.g. HEAD, v1.2).")
    got = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                         capture_output=True, text=True)
    if got.returncode != 0:
        raise ScenarioError(f"git revision {ref!r} is not in {repo}. Check the name with `git -C {repo} log --oneline`.")
    return got.stdout.strip()


def build_ref(repo: Path, ref: str, out: Path) -> tuple[Path, str]:
    """Check out `ref` in a temporary worktree and build its refsvc into out/bin: (bin folder, commit).

    The dependency, nginx and Toxiproxy stay this tree's: only the service under test changes.
    """
    commit = resolve_commit(repo, ref)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "build.log"
    src = out / "src"
    bin_dir = out / "bin"
    with open(log, "w") as f:
        _step(["git", "-C", str(repo), "worktree", "add", "--detach", str(src), commit], f, log, f"check out {ref}")
        try:
            if not (src / "goservices" / "go.mod").exists():
                raise BuildFailed(f"{ref} ({commit[:10]}) has no goservices/go.mod: it is not a gatewaylab revision.")
            _step([GO, "build", "-o", str(bin_dir) + "/", "./cmd/refsvc"], f, log,
                  f"build goservices of {ref} ({commit[:10]})", cwd=src / "goservices")
        finally:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(src)], capture_output=True)
            shutil.rmtree(src, ignore_errors=True)
            subprocess.run(["git", "-C", str(repo), "worktree", "prune"], capture_output=True)
    return bin_dir, commit


def build_service(svc: UserService, log: Path) -> None:
    if not svc.build:
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as f:
        _step(svc.build, f, log, f"build service {svc.name}", cwd=svc.folder)


def _step(argv: list[str], out, log: Path, what: str, cwd: Path | None = None) -> None:
    out.write(f"$ {' '.join(argv)}\n")
    out.flush()
    try:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, timeout=BUILD_TIMEOUT_S,
                              env={**os.environ, "GOFLAGS": os.environ.get("GOFLAGS", "-mod=mod")})
    except FileNotFoundError:
        raise BuildFailed(f"Cannot {what}: {argv[0]} is not installed or not on PATH.") from None
    except subprocess.TimeoutExpired:
        raise BuildFailed(f"Cannot {what}: it took more than {BUILD_TIMEOUT_S} s. Its log: {log}") from None
    if done.returncode != 0:
        out.flush()
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise BuildFailed(f"Cannot {what}: exit status {done.returncode}. Its log ({log}) ends with:\n{tail}")
