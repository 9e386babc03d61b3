"""The throw-away PostgreSQL cluster: real initdb and postgres, loopback only, nothing left behind."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from harness.stack import leftovers
from harness.stack import postgres
from harness.errors import ToolMissing
from harness.host.sockets import alive, group_members, listeners
from harness.host.procs import Proc, free_port, wait_until


def _installed() -> bool:
    try:
        postgres.check()
        return True
    except ToolMissing:
        return False


needs_postgres = pytest.mark.skipif(not _installed(), reason="PostgreSQL is not installed: `make setup` as root or "
                                                              "`apt-get install postgresql`")


def test_missing_binaries_say_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("GATEWAYLAB_PG_BIN", str(tmp_path))
    with pytest.raises(ToolMissing) as e:
        postgres.bin_dir()
    assert "apt-get install postgresql" in str(e.value) and "make setup" in str(e.value)


def test_only_our_cluster_folders_are_removable():
    tmp = tempfile.gettempdir()
    assert postgres.removable(f"{tmp}/gatewaylab-pg-abc_123")
    for path in (f"{tmp}/gatewaylab-pg-../etc", "/etc", f"{tmp}/other", f"{tmp}/x/gatewaylab-pg-abc", str(Path.home())):
        assert not postgres.removable(path), path


@needs_postgres
def test_cluster_runs_on_loopback_and_is_removed(tmp_path):
    cluster = postgres.Cluster(tmp_path / "logs")
    proc = None
    try:
        cluster.init()
        if os.geteuid() == 0:  # PostgreSQL refuses root: the folder belongs to the postgres user
            assert cluster.data.stat().st_uid == cluster.user[0] != 0
        port = free_port()
        options = cluster.proc_options()
        proc = Proc("postgres", cluster.argv(port), tmp_path / "logs" / "postgres.log", **options)
        assert wait_until(lambda: postgres.ready(port), 20, proc), proc.tail()
        seen = listeners(group_members({proc.pid}) | {proc.pid})
        assert [a for addrs in seen.values() for a in addrs] == [f"127.0.0.1:{port}"]
        assert any(p.name.startswith(".s.PGSQL.") for p in cluster.folder.iterdir())  # its unix socket: in its folder
        assert proc.stop() == 0  # SIGINT: a fast shutdown, exit 0
        assert "received fast shutdown request" in proc.tail(30)
    finally:
        if proc is not None and proc.alive():
            proc.stop()
        cluster.remove()
    assert not cluster.folder.exists()


@needs_postgres
def test_a_dead_runs_cluster_is_stopped_and_its_folder_removed(tmp_path):
    cluster = postgres.Cluster(tmp_path / "logs")
    cluster.init()
    port = free_port()
    proc = Proc("postgres", cluster.argv(port), tmp_path / "logs" / "postgres.log", **cluster.proc_options())
    try:
        assert wait_until(lambda: postgres.ready(port), 20, proc), proc.tail()
        live = tmp_path / ".live"
        live.mkdir()
        entry = {"name": "postgres", "pid": proc.pid, "start": leftovers.started(proc.pid)}
        (live / "old-run.json").write_text(json.dumps({
            "run": "old-run", "owner": {"pid": 999_999_999, "start": 1},
            "children": {f"postgres:{proc.pid}": entry}, "folders": [str(cluster.folder), "/etc"]}))
        done = leftovers.sweep(tmp_path)
        proc.popen.wait(5)
        assert not alive(proc.pid)
        assert done == [f"stopped postgres (pid {proc.pid}) left by run old-run", f"removed {cluster.folder} left by run old-run"]
        assert not cluster.folder.exists() and Path("/etc").is_dir()
    finally:
        if proc.alive():
            proc.stop()
        cluster.remove()
