"""The user-service contract: a small YAML file saying how to build and start a service of your own.

Which environment variable carries its port, where its metrics and pprof are;
gatewaylab starts one copy per replica under test (see README "Your own service").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import ScenarioError

PLACEHOLDERS = ("port", "admin_port", "dependency", "dependency_tcp", "database", "replica")
LOOPBACK_URL = r"^http://127\.0\.0\.1:\{(port|admin_port)\}/[A-Za-z0-9._~/-]*$"


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
