"""A throw-away PostgreSQL cluster for scenarios that query a database.

initdb into a fresh temporary folder, postgres on 127.0.0.1 on a free port,
its unix socket inside that folder, fsync off. PostgreSQL refuses to run as
root: when the harness is root (CI), initdb and postgres run as the
unprivileged `postgres` user of Debian's package (a user switch in the child,
not sudo) and the folder is given to it. Stopped with SIGINT (fast shutdown);
the folder is removed at the end, and recorded so that a later run removes it
if this one was SIGKILLed.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import struct
import tempfile
import time
from pathlib import Path

from harness.errors import StackError, ToolMissing
from harness.host.procs import Proc

USER = "gatewaylab"      # the cluster's superuser (initdb -U); trust auth, loopback only
DBNAME = "postgres"
FOLDER_PREFIX = "gatewaylab-pg-"
INITDB_TIMEOUT_S = 60.0
INSTALL = ("On Debian or Ubuntu run `sudo apt-get install postgresql` (or run `make setup` as root, which does it "
           "and keeps the package's own cluster from starting); elsewhere install the PostgreSQL server and set "
           "GATEWAYLAB_PG_BIN to the folder holding its initdb and postgres.")


def bin_dir() -> Path:
    """The folder with initdb and postgres: $GATEWAYLAB_PG_BIN, else Debian's newest /usr/lib/postgresql/N/bin."""
    given = os.environ.get("GATEWAYLAB_PG_BIN")
    candidates = [Path(given)] if given else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else -1, reverse=True)
    for d in candidates:
        if all(os.access(d / exe, os.X_OK) for exe in ("initdb", "postgres")):
            return d
    where = f"GATEWAYLAB_PG_BIN={given} holds no initdb and postgres" if given else "no /usr/lib/postgresql/*/bin/postgres"
    raise ToolMissing(f"This scenario needs PostgreSQL, and it is not installed ({where}). {INSTALL}")


def run_as() -> tuple[int, int] | None:
    """(uid, gid) to run PostgreSQL as: None unless we are root, then the postgres user."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        raise ToolMissing("PostgreSQL refuses to run as root, and there is no `postgres` user to run it as. "
                          "Debian's postgresql package creates it: " + INSTALL) from None
    return pw.pw_uid, pw.pw_gid


def check() -> None:
    """Raise ToolMissing, saying how to install, unless a cluster can be started here."""
    bin_dir()
    run_as()


def ready(port: int) -> bool:
    """True once the server accepts a session: a startup message answered with AuthenticationOk."""
    params = f"user\0{USER}\0database\0{DBNAME}\0\0".encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)  # protocol 3.0
            first = s.recv(1)
            if first == b"R":
                s.sendall(b"X\0\0\0\4")  # Terminate
            return first == b"R"  # "E": still starting up (or refused)
    except OSError:
        return False


class Cluster:
    """One cluster: `init()`, then start `argv(port)` as a component; `remove()` at the end."""

    def __init__(self, logs: Path):
        self.bin = bin_dir()
        self.user = run_as()
        self.logs = logs
        self.folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
        if self.user:
            os.chown(self.folder, *self.user)
        self.data = self.folder / "data"

    def version(self) -> str:
        return self.bin.parent.name

    def init(self) -> None:
        proc = Proc("initdb", [str(self.bin / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust",
                               "--encoding=UTF8", "--locale=C", "--no-sync"],
                    self.logs / "initdb.log", env=self._env(), cwd=self.folder, user=self.user)
        deadline = time.monotonic() + INITDB_TIMEOUT_S
        while proc.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        code = proc.stop() if proc.alive() else proc.returncode
        if code != 0:
            raise StackError(f"initdb failed (status {code}). Its log ({proc.log}) ends with:\n{proc.tail()}")

    def argv(self, port: int) -> list[str]:
        settings = {
            "listen_addresses": "127.0.0.1", "port": str(port), "unix_socket_directories": str(self.folder),
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
            "shared_buffers": "32MB", "max_connections": "200", "logging_collector": "off",
            "log_min_messages": "warning", "ssl": "off",
        }
        return [str(self.bin / "postgres"), "-D", str(self.data), *(a for k, v in settings.items() for a in ("-c", f"{k}={v}"))]

    def proc_options(self) -> dict:
        return {"env": self._env(), "cwd": self.folder, "user": self.user, "stop_signal": signal.SIGINT}  # fast shutdown

    def dsn(self, addr: str) -> str:
        return f"postgres://{USER}@{addr}/{DBNAME}?sslmode=disable"

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _env(self) -> dict[str, str]:
        return {"LC_ALL": "C", "LANG": "C", "TZ": "UTC", "PGDATA": str(self.data), "HOME": str(self.folder)}


def removable(path: str) -> bool:
    """Only a cluster folder of ours may be removed by a later run's sweep."""
    p = Path(path)
    return p.parent == Path(tempfile.gettempdir()) and bool(re.fullmatch(re.escape(FOLDER_PREFIX) + r"[A-Za-z0-9_]+", p.name))
