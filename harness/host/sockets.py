"""Listening sockets and liveness of processes (psutil)."""

from __future__ import annotations

import os

import psutil


def _live(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def group_members(pgids: set[int]) -> set[int]:
    """Every live process whose process group is one of `pgids` (nginx workers included)."""
    out = set()
    for p in psutil.process_iter():
        try:
            if os.getpgid(p.pid) in pgids and _live(p):
                out.add(p.pid)
        except OSError:
            continue  # gone meanwhile
    return out


def alive(pid: int) -> bool:
    try:
        return _live(psutil.Process(pid))
    except psutil.Error:
        return False


def listeners(pids: set[int]) -> dict[int, list[str]]:
    """pid -> the TCP addresses it listens on ('127.0.0.1:8080', '[::1]:8080')."""
    out: dict[int, list[str]] = {}
    for pid in pids:
        try:
            conns = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.Error:
            continue
        for c in conns:
            if c.status == psutil.CONN_LISTEN:
                ip = f"[{c.laddr.ip}]" if ":" in c.laddr.ip else c.laddr.ip
                out.setdefault(pid, []).append(f"{ip}:{c.laddr.port}")
    return out


def non_loopback_listeners(pid: int) -> list[str]:
    """Addresses the process group of `pid` listens on that are not 127.0.0.1."""
    found = listeners(group_members({pid}) | {pid})
    return sorted({a for addrs in found.values() for a in addrs if not a.startswith("127.0.0.1:")})
