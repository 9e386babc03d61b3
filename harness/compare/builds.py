"""What a "build" is: a reference-service variant, a git revision of this repository, or a user's own service.

A git revision is checked out in a temporary worktree and its goservices/
built there; the worktree is removed once the binaries are out. A user's
service is described by a small YAML file (the contract, see README
"Your own service"): how to build and start it, which environment variable
carries its port, where its metrics and pprof are.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import GatewaylabError, ScenarioError
from harness.host.tools import Tools

GO = shutil.which("go") or "/usr/local/go/bin/go"
BUILD_TIMEOUT_S = 600
PLACEHOLDERS = ("port", "admin_port", "dependency", "dependency_tcp", "database", "replica")
LOOPBACK_URL = r"^http://127\.0\.0\.1:\{(port|admin_port)\}/[A-Za-z0-9._~/-]*$"


class BuildFailed(GatewaylabError):
    """A build did not compile, or its service did not start: bad environment, exit 2."""


class UserService(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
    # Run in the file's folder before the first trial, e.g. ["go", "build", "-o", "svc", "."].
    build: list[str] | None = Field(None, min_length=1)
    # Started once per replica, in the file's folder. No shell: a list of words.
    command: list[str] = Field(min_length=1)
    # Environment of the service; values may use {port}, {admin_port},
    # {dependency} (http://host:port of its dependency, through Toxiproxy),
    # {dependency_tcp} (host:port), {database} (a postgres:// DSN through
    # Toxiproxy, when the scenario has a database; else empty) and {replica}.
    env: dict[Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")], str] = {"PORT": "{port}"}
    # Where gatewaylab scrapes and dumps; loopback only, on one of the two ports.
    metrics: Annotated[str, Field(pattern=LOOPBACK_URL)] = "http://127.0.0.1:{port}/metrics"
    pprof: Annotated[str, Field(pattern=LOOPBACK_URL)] | None = None
    health: Annotated[str, Field(pattern=LOOPBACK_URL)] | None = None
    folder: Path = Path(".")

    @field_validator("env")
    @classmethod
    def _known_placeholders(cls, env: dict[str, str]) -> dict[str, str]:
        for k, v in env.items():
            for name in re.findall(r"\{([^}]*)\}", v):
                if name not in PLACEHOLDERS:
                    raise ValueError(f"env.{k} uses {{{name}}}; placeholders are {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
        return env

    def fill(self, text: str, values: dict[str, str]) -> str:
        return re.sub(r"\{(" + "|".join(PLACEHOLDERS) + r")\}", lambda m: values[m.group(1)], text)


def load_service(path: str | Path) -> UserService:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ScenarioError(f"Cannot read the service file {path}: {e.strerror}. Give the path of a service YAML.") from None
    except yaml.YAMLError as e:
        raise ScenarioError(f"{path}: this is not valid YAML ({e}).") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a service file is a YAML mapping (name, command, env, metrics, ...); see README.")
    try:
        return UserService.model_validate({**data, "folder": path.resolve().parent})
    except ValidationError as e:
        lines = [f"  {'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg'].removeprefix('Value error, ')}"
                 for err in e.errors(include_url=False)]
        raise ScenarioError(f"{path} is not a valid service file:\n" + "\n".join(lines)
                            + "\nURLs must be http://127.0.0.1:{port}/... or http://127.0.0.1:{admin_port}/...") from None


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
