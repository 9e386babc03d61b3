"""Listening sockets and liveness of processes, read from /proc (no extra tools)."""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path


def group_members(pgids: set[int]) -> set[int]:
    """Every live process whose process group is one of `pgids` (nginx workers included)."""
    out = set()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp in pgids and state != "Z":
            out.add(int(d.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _addr(hexaddr: str, v6: bool) -> str:
    ip, port = hexaddr.split(":")
    raw = bytes.fromhex(ip)
    if v6:
        raw = b"".join(struct.pack("<I", w) for w in struct.unpack(">4I", raw))
        return f"[{socket.inet_ntop(socket.AF_INET6, raw)}]:{int(port, 16)}"
    return f"{socket.inet_ntop(socket.AF_INET, raw[::-1])}:{int(port, 16)}"


def listeners(pids: set[int]) -> dict[int, list[str]]:
    """pid -> the TCP addresses it listens on."""
    inode_addr = {}
    for name, v6 in (("tcp", False), ("tcp6", True)):
        try:
            lines = Path(f"/proc/net/{name}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A":  # LISTEN
                inode_addr[parts[9]] = _addr(parts[1], v6)
    out: dict[int, list[str]] = {}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inode_addr:
                out.setdefault(pid, []).append(inode_addr[target[8:-1]])
    return out


def non_loopback_listeners(pid: int) -> list[str]:
    """Addresses the process group of `pid` listens on that are not 127.0.0.1."""
    found = listeners(group_members({pid}) | {pid})
    return sorted({a for addrs in found.values() for a in addrs if not a.startswith("127.0.0.1:")})
