"""Optional deep capture during the inject phase (`--capture trace`, `--capture tcpdump`).

trace: a runtime/trace of each replica from its admin port's /debug/pprof/trace.
tcpdump: the loopback traffic on the nginx->replica ports, when tcpdump is
installed and we may capture (root). Both are off by default; what could not be
captured is said in the journal, and the run goes on.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import requests

from harness.host.probes import SESSION
from harness.host.procs import Proc

CAPTURE_S = 5.0
KINDS = ("trace", "tcpdump")


class Capture:
    def __init__(self, kinds: tuple[str, ...], stack, folder: Path, journal):
        self.kinds = kinds
        self.stack = stack
        self.folder = folder
        self.journal = journal
        self.threads: list[threading.Thread] = []
        self.tcpdump: Proc | None = None
        self.tcpdump_until = 0.0

    def start(self, seconds: float) -> None:
        if not self.kinds:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        seconds = max(1, int(seconds))
        if "trace" in self.kinds:
            for replica, r in self.stack.addresses["replicas"].items():
                if not r.get("pprof"):
                    self.journal.write("capture trace", "skipped", replica=replica, reason="no pprof address")
                    continue
                t = threading.Thread(target=self._trace, args=(replica, r["pprof"], seconds), daemon=True)
                t.start()
                self.threads.append(t)
        if "tcpdump" in self.kinds:
            self._start_tcpdump(seconds)

    def _trace(self, replica: str, pprof: str, seconds: int) -> None:
        out = self.folder / f"{replica}.trace"
        try:
            r = SESSION.get(f"{pprof}/trace?seconds={seconds}", timeout=seconds + 10)
            r.raise_for_status()
            out.write_bytes(r.content)
            self.journal.write("capture trace", replica=replica, file=str(out), seconds=seconds)
        except (requests.RequestException, OSError) as e:
            self.journal.write("capture trace", "error", replica=replica, error=str(e))

    def _start_tcpdump(self, seconds: int) -> None:
        tcpdump = shutil.which("tcpdump") or (os.access("/usr/sbin/tcpdump", os.X_OK) and "/usr/sbin/tcpdump")
        if not tcpdump or os.geteuid() != 0:
            why = "tcpdump is not installed (apt-get install tcpdump)" if not tcpdump else "capturing needs root"
            self.journal.write("capture tcpdump", "skipped", reason=why)
            return
        ports = [p["listen"].rsplit(":", 1)[1] for p in self.stack.addresses["proxies"].values() if p["leg"] == "gateway"]
        ports += [r["http"].rsplit(":", 1)[1] for r in self.stack.addresses["replicas"].values()]
        expr = " or ".join(f"tcp port {p}" for p in ports)
        out = self.folder / "gateway-replicas.pcap"
        self.tcpdump = Proc("tcpdump", [tcpdump, "-i", "lo", "-U", "-w", str(out), expr], self.folder / "tcpdump.log")
        self.tcpdump_until = time.monotonic() + seconds
        self.journal.write("capture tcpdump", file=str(out), seconds=seconds, filter=expr)

    def poll(self) -> None:
        if self.tcpdump is not None and time.monotonic() >= self.tcpdump_until:
            self.tcpdump.stop()
            self.tcpdump = None

    def stop(self) -> None:
        if self.tcpdump is not None:
            self.tcpdump.stop()
            self.tcpdump = None
        for t in self.threads:
            t.join(CAPTURE_S + 15)


def files(folder: Path) -> list[tuple[Path, str]]:
    """What a run captured, each with the command that opens it."""
    out = []
    for f in sorted(folder.glob("*.trace")) if folder.is_dir() else []:
        out.append((f, f"go tool trace {f}"))
    for f in sorted(folder.glob("*.pcap")) if folder.is_dir() else []:
        out.append((f, f"tshark -r {f}   (or open it in Wireshark)"))
    return out
