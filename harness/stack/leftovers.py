"""A record of the processes a run started, so a later run can stop what survived.

Children normally die with the harness (parent-death signal). This is the
second line: each live run keeps a file listing its own PID and its children's
PIDs with their start times. The next run stops the children of a run
whose harness is gone, but only processes whose PID *and* start time still
match: a PID reused by some other program is never touched. Never by name.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import psutil

from harness.stack import postgres


def started(pid: int) -> float | None:
    """When the process started (seconds since the epoch, to 10 ms); None when it is gone or a zombie."""
    try:
        p = psutil.Process(pid)
        return None if p.status() == psutil.STATUS_ZOMBIE else round(p.create_time(), 2)
    except psutil.Error:
        return None


class Registry:
    """reports/.live/<run>.json for one live run."""

    def __init__(self, reports: Path, run_id: str):
        self.path = reports / ".live" / f"{run_id}.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = os.getpid()
        self.data = {"run": run_id, "owner": {"pid": me, "start": started(me)}, "children": {}, "folders": []}
        self._save()

    def add(self, name: str, pid: int) -> None:
        self.data["children"][f"{name}:{pid}"] = {"name": name, "pid": pid, "start": started(pid)}
        self._save()

    def remove(self, name: str, pid: int) -> None:
        self.data["children"].pop(f"{name}:{pid}", None)
        self._save()

    def add_folder(self, path: Path) -> None:
        """A scratch folder (a database cluster) for a later run to remove if this one dies."""
        self.data["folders"].append(str(path))
        self._save()

    def remove_folder(self, path: Path) -> None:
        if str(path) in self.data["folders"]:
            self.data["folders"].remove(str(path))
            self._save()

    def add_containers(self, label: str) -> None:
        """This run starts containers labelled gatewaylab.run=<label>: a later run removes any it left."""
        if label not in self.data.setdefault("containers", []):
            self.data["containers"].append(label)
            self._save()

    def close(self) -> None:
        self.path.unlink(missing_ok=True)

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1))
        tmp.replace(self.path)


def _same(entry: dict) -> bool:
    return entry.get("start") is not None and started(int(entry["pid"])) == entry["start"]


def sweep(reports: Path) -> list[str]:
    """Stop the children of runs whose harness died; returns what was done, one line each."""
    done = []
    folder = reports / ".live"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
            continue
        if _same(data.get("owner", {})):
            continue  # that run is still going: not ours to touch
        for entry in data.get("children", {}).values():
            if _same(entry):
                try:
                    os.killpg(int(entry["pid"]), signal.SIGKILL)  # each child leads its own group
                    done.append(f"stopped {entry['name']} (pid {entry['pid']}) left by run {data.get('run')}")
                except (ProcessLookupError, PermissionError):
                    pass
        for label in data.get("containers", []):
            from harness.stack.containers.engine import sweep_run  # the docker SDK only when a run used it
            done += [f"removed container {c} left by run {data.get('run')}" for c in sweep_run(label)]
        for folder in data.get("folders", []):
            if postgres.removable(folder) and Path(folder).is_dir():
                shutil.rmtree(folder, ignore_errors=True)
                done.append(f"removed {folder} left by run {data.get('run')}")
        path.unlink(missing_ok=True)
    return done
