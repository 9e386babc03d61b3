"""Where the external programs are, and what to do when one is missing."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ToolMissing

ROOT = Path(__file__).resolve().parents[2]
TOXIPROXY_VERSION = "2.12.0"


@dataclass(frozen=True)
class Tools:
    nginx: Path
    toxiproxy: Path
    refsvc: Path
    dependency: Path


def find_nginx() -> Path:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if not found:
        raise ToolMissing(
            "nginx is not installed. On Debian or Ubuntu run `sudo apt-get install nginx-light` "
            "(or run `make setup` as root, which does it); elsewhere install nginx from your "
            "distribution and make sure `nginx` is on PATH."
        )
    return Path(found)


def _built(path: Path, what: str) -> Path:
    if not os.access(path, os.X_OK):
        raise ToolMissing(f"{what} is not built ({path} is missing). Run `make setup` in {ROOT}.")
    return path


def find() -> Tools:
    return Tools(
        nginx=find_nginx(),
        toxiproxy=_built(ROOT / "tools" / f"toxiproxy-server-{TOXIPROXY_VERSION}", f"The Toxiproxy server v{TOXIPROXY_VERSION}"),
        refsvc=_built(ROOT / "bin" / "refsvc", "The reference service"),
        dependency=_built(ROOT / "bin" / "dependency", "The dependency service"),
    )
