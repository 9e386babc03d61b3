"""The local-process backend: a Topology -> processes on 127.0.0.1.

Order: Toxiproxy, dependency, replica->dependency proxies, replicas,
nginx->replica proxies, nginx. Each component is checked ready before the next
starts; anything that fails stops everything started so far.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Callable

import requests
import toxiproxy.api
from toxiproxy import Toxiproxy

from harness.stack import gateways
from harness.stack import postgres
from harness.errors import StackError
from harness.record.journal import Journal
from harness.host.sockets import non_loopback_listeners
from harness.host.probes import accepts, answers, binary_digest
from harness.host.procs import Proc, free_port, wait_until
from harness.host.tools import Tools
from harness.stack.topology import Topology
from harness.record import folder as rf

READY_TIMEOUT_S = 15.0
PORT_TRIES = 3
TOXIPROXY_API_TIMEOUT_S = 5.0
# Go keeps each goroutine's creators' stacks (debug=2 dumps print them), so a leaked
# standard-library goroutine (a connection's readLoop) still names the own line behind it.
TRACEBACK_ANCESTORS = "tracebackancestors=5"


class _Bounded:
    """toxiproxy-python calls requests.get/post/delete without a timeout; give every call one."""

    def __getattr__(self, verb: str):
        call = getattr(requests, verb)
        return lambda *a, **kw: call(*a, **{"timeout": TOXIPROXY_API_TIMEOUT_S, **kw})


toxiproxy.api.requests = _Bounded()  # a hung Toxiproxy API must not hang the run


class LocalStack:
    """Use as a context manager: the exit stops exactly what was started."""

    NGINX_MASTER = False  # see gateways/nginx.render

    def __init__(self, topology: Topology, tools: Tools, folder: Path, journal: Journal, registry=None):
        self.topology = topology
        self.registry = registry  # leftovers.Registry: lets a later run stop what survived a SIGKILL
        self.tools = tools
        self.folder = folder
        self.journal = journal
        self.procs: dict[str, Proc] = {}
        self.addresses: dict = {"replicas": {}, "proxies": {}}
        self.toxiproxy: Toxiproxy | None = None
        self.cluster: postgres.Cluster | None = None
        self.members: dict[str, str] = {}
        self.gateway_port = 0
        self.on_move: list[Callable[[str, dict], None]] = []  # told when a replica moves to new addresses (a rollout)

    # -- lifecycle -----------------------------------------------------------
    def __enter__(self) -> "LocalStack":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        # A second Ctrl-C (or the run deadline) must not cut the tear-down short.
        old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)}
        try:
            self.stop()
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)

    def start(self) -> None:
        logs = self.folder / rf.LOGS
        with self.journal.step("start toxiproxy"):
            port = self._spawn("toxiproxy", lambda p: [str(self.tools.toxiproxy), "-host", "127.0.0.1", "-port", str(p)],
                               lambda p: answers(f"http://127.0.0.1:{p}/version"), logs)
            self.addresses["toxiproxy"] = f"127.0.0.1:{port}"
            self.toxiproxy = Toxiproxy()
            self.toxiproxy.update_api_consumer("127.0.0.1", port)
        if self.topology.database is not None:
            self._start_database(logs)
        with self.journal.step("start dependency"):
            tcp = free_port()  # its raw line-protocol port, for patterns that speak TCP
            port = self._spawn("dependency", lambda p: [str(self.tools.dependency), "-addr", f"127.0.0.1:{p}",
                                                        "-tcp-addr", f"127.0.0.1:{tcp}"],
                               lambda p: lambda: answers(f"http://127.0.0.1:{p}/healthz")() and accepts(tcp), logs)
            self.addresses["dependency"] = f"127.0.0.1:{port}"
            self.addresses["dependency_tcp"] = f"127.0.0.1:{tcp}"
        for r in self.topology.replicas:
            dep = self._proxy(self.topology.proxy("dependency", r.name).name, self.addresses["dependency"], r.name, "dependency")
            dep_tcp = self._proxy(self.topology.proxy("dependency-tcp", r.name).name, self.addresses["dependency_tcp"],
                                  r.name, "dependency-tcp")
            if r.service is not None:
                with self.journal.step("start replica", replica=r.name, build=f"service {r.service.name}"):
                    self._start_service(r, dep, dep_tcp, logs)
                continue
            binary = r.binary or str(self.tools.refsvc)
            with self.journal.step("start replica", replica=r.name, build=r.variant, binary=binary):
                db_args = self._database_args(r.name)
                admin = free_port()
                port = self._spawn(
                    f"replica-{r.name}",
                    lambda p, r=r, admin=admin, dep=dep, dep_tcp=dep_tcp, db_args=db_args, binary=binary: [
                        binary, "-addr", f"127.0.0.1:{p}", "-admin-addr", f"127.0.0.1:{admin}",
                        "-dependency", f"http://{dep}", "-dependency-tcp", dep_tcp,
                        "-pattern", r.pattern, "-variant", r.variant,
                        "-max-conns-per-host", str(r.max_conns_per_host),
                        "-client-timeout", f"{r.client_timeout_ms}ms", "-name", r.name,
                        *(arg for k, v in r.params for arg in ("-param", f"{k}={v}")), *db_args,
                    ],
                    lambda p, admin=admin: lambda: answers(f"http://127.0.0.1:{p}/healthz")()
                    and answers(f"http://127.0.0.1:{admin}/healthz")(),
                    logs, env={"TZ": "UTC", "GODEBUG": TRACEBACK_ANCESTORS}, nofile=r.nofile,
                )
                self.addresses["replicas"][r.name] = {
                    "variant": r.variant, "http": f"127.0.0.1:{port}", "admin": f"127.0.0.1:{admin}",
                    "metrics": f"http://127.0.0.1:{admin}/metrics", "pprof": f"http://127.0.0.1:{admin}/debug/pprof",
                    "pid": self.procs[f"replica-{r.name}"].pid, "binary_digest": binary_digest(binary),
                }
        members = [
            self._proxy(self.topology.proxy("gateway", r.name).name, self.addresses["replicas"][r.name]["http"], r.name, "gateway")
            for r in self.topology.replicas
        ]
        self.members = {r.name: m for r, m in zip(self.topology.replicas, members)}  # replica -> its member address
        gateways.start(self, logs)
        self.addresses["pids"] = {name: p.pid for name, p in self.procs.items()}
        (self.folder / rf.STACK).write_text(json.dumps(self.addresses, indent=2))

    def _start_service(self, r, dep: str, dep_tcp: str, logs: Path) -> None:
        """A user's own service as replica r: the contract of compare.builds.UserService."""
        svc = r.service
        admin = free_port()
        db_args = self._database_args(r.name)  # ["-database", DSN, ...] when the scenario has a database
        values: dict[str, str] = {}

        def argv(p: int) -> list[str]:
            values.update(port=str(p), admin_port=str(admin), dependency=f"http://{dep}", dependency_tcp=dep_tcp,
                          database=db_args[1] if db_args else "", replica=r.name)
            return list(svc.command)

        def ready(p: int) -> Callable[[], bool]:
            argv(p)
            urls = [svc.fill(svc.metrics, values)] + ([svc.fill(svc.health, values)] if svc.health else [])
            return lambda: accepts(p) and all(answers(u)() for u in urls)

        env = {"TZ": "UTC", "GATEWAYLAB_PORT": "{port}", "GATEWAYLAB_ADMIN_PORT": "{admin_port}",
               "GATEWAYLAB_DEPENDENCY": "{dependency}", "GATEWAYLAB_DATABASE": "{database}", "GATEWAYLAB_REPLICA": "{replica}",
               **svc.env}
        # The service's own GODEBUG settings stay; ancestors let a stdlib goroutine name its own creator.
        env["GODEBUG"] = ",".join(x for x in (svc.env.get("GODEBUG", ""), TRACEBACK_ANCESTORS) if x)
        name = f"replica-{r.name}"
        port = self._spawn(name, argv, ready, logs, env=lambda: {k: svc.fill(v, values) for k, v in env.items()},
                           nofile=r.nofile, cwd=svc.folder)
        outside = non_loopback_listeners(self.procs[name].pid)
        if outside:
            proc = self.procs.pop(name)
            proc.stop()
            raise StackError(f"Service {svc.name} listens on {', '.join(outside)}: every process gatewaylab starts must "
                             f"listen on 127.0.0.1 only. Make it bind 127.0.0.1:$PORT (and its admin port likewise).")
        self.addresses["replicas"][r.name] = {
            "variant": f"service {svc.name}", "http": f"127.0.0.1:{port}", "admin": f"127.0.0.1:{admin}",
            "metrics": svc.fill(svc.metrics, values), "pprof": svc.fill(svc.pprof, values) if svc.pprof else None,
            "pid": self.procs[name].pid, "binary_digest": binary_digest(svc.command[0], svc.folder),
        }

    def stop(self) -> None:
        # Reverse order: the gateway first, so no new traffic reaches what stops next.
        for name in reversed(list(self.procs)):
            proc = self.procs.pop(name)
            was_alive = proc.alive()
            code = proc.stop()
            if self.registry:
                self.registry.remove(name, proc.pid)
            self.journal.write("stop", process=name, pid=proc.pid, exit=code, was_alive=was_alive)
        if self.cluster is not None:  # its server is stopped: the throw-away data goes
            self.cluster.remove()
            if self.registry:
                self.registry.remove_folder(self.cluster.folder)
            self.cluster = None

    # -- helpers -------------------------------------------------------------
    def _start_database(self, logs: Path) -> None:
        """A throw-away PostgreSQL cluster (harness/postgres.py), on 127.0.0.1 on a free port."""
        with self.journal.step("start postgres"):
            self.cluster = postgres.Cluster(logs)
            if self.registry:
                self.registry.add_folder(self.cluster.folder)
            self.cluster.init()
            options = self.cluster.proc_options()
            port = self._spawn("postgres", self.cluster.argv, lambda p: lambda: postgres.ready(p), logs,
                               env=options.pop("env"), cwd=options.pop("cwd"), **options)
            outside = non_loopback_listeners(self.procs["postgres"].pid)
            if outside:  # listen_addresses says 127.0.0.1; check what it did
                raise StackError(f"postgres listens on {', '.join(outside)}: every process must listen on 127.0.0.1 only.")
            self.addresses["database"] = {"kind": "postgres", "version": self.cluster.version(),
                                          "addr": f"127.0.0.1:{port}", "folder": str(self.cluster.folder)}

    def _database_args(self, replica: str) -> list[str]:
        """refsvc's -database (through the replica's own Toxiproxy leg) and pool size, when there is a database."""
        if self.topology.database is None:
            return []
        db = self._proxy(self.topology.proxy("database", replica).name, self.addresses["database"]["addr"], replica, "database")
        assert self.cluster is not None
        return ["-database", self.cluster.dsn(db), "-db-max-open", str(self.topology.database.max_open_conns)]

    def _spawn(self, name: str, argv: Callable[[int], list[str]], ready: Callable[[int], Callable[[], bool]],
               logs: Path, env: dict[str, str] | Callable[[], dict[str, str]] | None = None, nofile: int | None = None,
               cwd: Path | None = None, **options) -> int:
        """Start on a free port; if the port was taken in between, choose again.

        env may be a function, called after argv(port): for values that depend on the port.
        """
        for attempt in range(1, PORT_TRIES + 1):
            port = free_port()
            args = argv(port)
            proc = self._launch(name, args, logs, env() if callable(env) else env, nofile, cwd, **options)
            proc.ready = ready(port)
            self.procs[name] = proc
            if wait_until(proc.ready, READY_TIMEOUT_S, proc):
                return port
            tail = proc.tail()
            code = self._discard(name)
            if "address already in use" in tail.lower() and attempt < PORT_TRIES:
                self.journal.write("port taken, choosing again", "retry", process=name, port=port)
                continue
            status = f"exited with status {code}" if code is not None else f"did not answer within {READY_TIMEOUT_S:g} s"
            raise StackError(f"{name} {status}. Its log ({proc.log}) ends with:\n{tail}")
        raise AssertionError("unreachable")

    def _launch(self, name: str, args: list[str], logs: Path, env: dict[str, str] | None, nofile: int | None,
                cwd: Path | None, **options) -> Proc:
        """One component as a local process (a backend of its own overrides this)."""
        proc = Proc(name, args, logs / f"{name}.log", env=env, nofile=nofile, cwd=cwd, **options)  # user, stop_signal
        if self.registry:
            self.registry.add(name, proc.pid)
        return proc

    def _discard(self, name: str) -> int | None:
        """Stop a component that did not come up; its exit status."""
        proc = self.procs.pop(name)
        proc.stop()
        if self.registry:
            self.registry.remove(name, proc.pid)
        return proc.returncode

    def _proxy(self, name: str, upstream: str, replica: str, leg: str) -> str:
        with self.journal.step("create proxy", proxy=name, upstream=upstream):
            assert self.toxiproxy is not None
            created = self.toxiproxy.create(upstream=upstream, name=name, listen="127.0.0.1:0")
            self.addresses["proxies"][name] = {"listen": created.listen, "upstream": upstream, "replica": replica, "leg": leg}
            return created.listen

    def restart(self, name: str) -> bool:
        """Start a dead component again with the same command line (same ports).

        False when it died again before it was ready (the next failing request
        may kill it at once): that is another death for the caller to record.
        """
        old = self.procs[name]
        if self.registry:
            self.registry.remove(name, old.pid)
        proc = Proc(name, old.argv, old.log, env=old.env, nofile=old.nofile, cwd=old.cwd, user=old.user,
                    stop_signal=old.stop_signal)
        proc.ready = old.ready
        self.procs[name] = proc
        if self.registry:
            self.registry.add(name, proc.pid)
        self.addresses["pids"][name] = proc.pid
        if wait_until(proc.ready, READY_TIMEOUT_S, proc):
            return True
        if proc.alive():
            raise StackError(f"{name} did not answer within {READY_TIMEOUT_S:g} s of a restart. Its log ends with:\n{proc.tail()}")
        return False

    def proxy(self, name: str):
        assert self.toxiproxy is not None
        return self.toxiproxy.get_proxy(name)

    def dead(self) -> list[Proc]:
        return [p for p in self.procs.values() if not p.alive()]

    def watch(self, interval_s: float) -> None:
        """Local processes have nothing to watch beyond what the runner samples (containers do)."""
