"""Gateways as plug-ins: one module per gateway, each with the same small interface.

A module has:
  KIND, TITLE            its name in scenario files, and in prose ("nginx 1.22.1")
  binary()               the program (ToolMissing with the fix when it is not there)
  refusals(gw)           the settings it cannot express, each a sentence (checked before anything starts)
  passive_check(gw)      its passive health check in words (the report's stack line)
  launch(gw, port, members, prefix, binary) -> Launch: config written, command line, readiness URL
  state(addresses)       optional: the gateway's own view of its members now (admin API, stats socket)
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

KINDS = ("nginx", "haproxy", "caddy", "traefik")


@dataclass
class Launch:
    argv: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    admin: str | None = None  # 127.0.0.1:port or a socket path the gateway's state() reads
    conf: Path | None = None


def plugin(kind: str) -> ModuleType:
    if kind not in KINDS:
        raise ValueError(f"unknown gateway {kind!r}; known: {', '.join(KINDS)}")
    return importlib.import_module(f"harness.stack.gateways.{kind}")


def start(stack, logs: Path) -> None:
    """The gateway the topology names, as a component of `stack` (LocalStack or a subclass), through its plug-in."""
    from harness.errors import StackError
    from harness.host.probes import answers
    from harness.host.sockets import non_loopback_listeners

    gw = stack.topology.gateway
    module = plugin(gw.kind)
    program = stack.tools.nginx if gw.kind == "nginx" else module.binary()
    prefix = stack.folder / gw.kind  # its config, and the logs it writes itself
    prefix.mkdir(parents=True, exist_ok=True)
    launched: dict = {}

    def argv(port: int) -> list[str]:
        stack.gateway_port = port
        options = {"master": stack.NGINX_MASTER} if gw.kind == "nginx" else {}
        launched["it"] = module.launch(gw, port, stack.members, prefix, program, **options)
        return launched["it"].argv

    with stack.journal.step(f"start {gw.kind}", binary=str(program)):
        # TZ=UTC: log times in UTC, like every other record.
        port = stack._spawn(gw.kind, argv, lambda p: answers(launched["it"].health_url), logs,
                            env=lambda: {"TZ": "UTC", **launched["it"].env})
        outside = non_loopback_listeners(stack.procs[gw.kind].pid)
        if outside:
            raise StackError(f"{gw.kind} listens on {', '.join(outside)}: every process must listen on 127.0.0.1 only.")
    stack.addresses.update(gateway=f"127.0.0.1:{port}", gateway_kind=gw.kind, gateway_version=module.version(),
                           gateway_admin=launched["it"].admin)


def poller(stack, interval_s: float, out: Path):
    """Polls the gateway's own state into `out` where it has an API (not nginx: its error log says it)."""
    from harness.record.gateway_state import StatePoller

    admin = stack.addresses.get("gateway_admin")
    module = plugin(stack.addresses.get("gateway_kind", "nginx"))
    it = StatePoller((lambda: module.state(admin)) if admin else None, interval_s, out)
    it.start()
    return it


def check(scenario, variants: list[str]) -> None:
    """Before anything starts: every variant's gateway settings can be expressed, and the gateway is installed."""
    from harness.errors import ScenarioError

    problems = []
    kinds = set()
    for v in variants:
        gw = scenario.resolve(v).gateway
        kinds.add(gw.kind)
        problems += [f"  variant {v}: {p}" for p in plugin(gw.kind).refusals(gw)]
    if problems:
        raise ScenarioError(f"Scenario {scenario.name!r} asks for what its gateway cannot do:\n" + "\n".join(problems)
                            + "\nChange the setting, run another gateway (--gateway), or leave the variant out.")
    for kind in sorted(kinds):
        plugin(kind).binary()  # ToolMissing, with the fix, when it is not installed
