"""A container's memory and CPU counters, read from its cgroup (v1 or v2) by the pid of its process.

Files, not the engine's stats API: a read takes microseconds where a stats call
takes a second, so every sampling interval gets its record.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PROC = Path("/proc")
UNLIMITED_V1 = 1 << 60  # v1 reports "no limit" as a huge page-rounded number


def _paths(pid: int, root: Path = ROOT, proc: Path = PROC) -> dict[str, Path]:
    """controller -> the process's cgroup folder; "" holds the v2 unified one."""
    out = {}
    for line in (proc / str(pid) / "cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            base = root / c if c else (root / "unified" if (root / "unified").is_dir() and (root / "memory").is_dir() else root)
            out[c] = base / path.lstrip("/")
    return out


def _stat(path: Path) -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in path.read_text().splitlines() if line.strip())}


def read(pid: int, container_id: str, root: Path = ROOT, proc: Path = PROC) -> dict | None:
    """{mem_bytes, mem_limit_bytes (None: unlimited), cpu_s, periods, throttled_periods, throttled_s}; None when gone.

    A process that was just killed reads as the root cgroup (the whole machine's
    counters): only a cgroup whose path names the container counts.
    """
    try:
        paths = _paths(pid, root, proc)
        if "memory" in paths:  # v1
            mem, cpu = paths["memory"], paths.get("cpu") or paths["cpuacct"]
            if container_id not in str(mem) or container_id not in str(cpu):
                return None
            limit = int((mem / "memory.limit_in_bytes").read_text())
            stat = _stat(cpu / "cpu.stat")
            usage_ns = int(((paths.get("cpuacct") or cpu) / "cpuacct.usage").read_text())
            return {"mem_bytes": int((mem / "memory.usage_in_bytes").read_text()),
                    "mem_limit_bytes": None if limit >= UNLIMITED_V1 else limit, "cpu_s": round(usage_ns / 1e9, 4),
                    "periods": stat.get("nr_periods", 0), "throttled_periods": stat.get("nr_throttled", 0),
                    "throttled_s": round(stat.get("throttled_time", 0) / 1e9, 4)}
        unified = paths[""]
        if container_id not in str(unified):
            return None
        limit = (unified / "memory.max").read_text().strip()
        stat = _stat(unified / "cpu.stat")
        return {"mem_bytes": int((unified / "memory.current").read_text()),
                "mem_limit_bytes": None if limit == "max" else int(limit), "cpu_s": round(stat.get("usage_usec", 0) / 1e6, 4),
                "periods": stat.get("nr_periods", 0), "throttled_periods": stat.get("nr_throttled", 0),
                "throttled_s": round(stat.get("throttled_usec", 0) / 1e6, 4)}
    except (OSError, ValueError, KeyError):
        return None
