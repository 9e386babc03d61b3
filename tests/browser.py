"""Debian's Chromium driven by Playwright for Python, and the workshop server, for the browser tests.

Playwright never downloads a browser here: it starts /usr/bin/chromium (make browser installs it)
with the flags that keep it off the network, in a fresh profile.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "docs" / "workshop"  # the README's screenshots, remade by every run of these tests
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def chromium(width: int = 1400, height: int = 1000):
    """A browser context in a fresh profile; fails (never skips) when the browser is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium (the browser tests need it).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="gatewaylab-chromium-") as profile:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=str(CHROMIUM), args=FLAGS, headless=True,
                                                   viewport={"width": width, "height": height})
        try:
            yield ctx
        finally:
            ctx.close()


def _as_from_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def workshop(reports: Path):
    """`gatewaylab workshop` on a free port: (its process, its URL); stopped (SIGTERM) afterwards."""
    proc = subprocess.Popen([sys.executable, "-m", "harness", "workshop", "--reports", str(reports)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_as_from_a_terminal, start_new_session=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("gatewaylab workshop: http://127.0.0.1:"), f"no URL printed: {line!r}"
        yield proc, line.split()[2]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def shot(target, name: str, **kw) -> Path:
    """A screenshot of a page or an element into docs/workshop/ (kw: Playwright's, e.g. clip)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    target.screenshot(path=str(path), **kw)
    return path
