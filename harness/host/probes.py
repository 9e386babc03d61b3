"""Asking a process on 127.0.0.1 whether it is there: HTTP answers, accepted connections, which build it runs."""

from __future__ import annotations

import hashlib
import shutil
import socket
from pathlib import Path
from typing import Callable

import requests

# Every HTTP call the harness makes goes to 127.0.0.1: never through a proxy from the environment.
SESSION = requests.Session()
SESSION.trust_env = False


def http_get(url: str, timeout_s: float = 1.0) -> tuple[int, bytes] | None:
    """Status and body, or None when nothing answered in time."""
    try:
        r = SESSION.get(url, timeout=timeout_s, allow_redirects=False)
    except (requests.RequestException, ValueError):
        return None
    return r.status_code, r.content


def answers(url: str) -> Callable[[], bool]:
    """A readiness check: the URL answers 200."""
    def check() -> bool:
        got = http_get(url, 0.5)
        return got is not None and got[0] == 200
    return check


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def binary_digest(executable: str | Path, cwd: Path | None = None) -> str | None:
    """The first 16 hex digits of an executable's SHA-256: which binary a run measured (None: not found)."""
    path = Path(executable)
    if not path.is_absolute() and cwd is not None and (cwd / path).exists():
        path = cwd / path
    elif not path.exists():
        found = shutil.which(str(executable))
        path = Path(found) if found else path
    try:
        with path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()[:16]
    except OSError:
        return None
