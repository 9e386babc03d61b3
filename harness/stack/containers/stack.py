"""The docker backend: the same Topology as containers of the local engine.

Same order and same addresses as the local backend (it reuses LocalStack's
start-up), but Toxiproxy, the dependency, every replica and nginx run in
containers built here (images.py) on the host network, bound to 127.0.0.1.
Replicas get the scenario's limits; the kubelet (kubelet.py) probes and
restarts them. PostgreSQL, when a scenario has one, stays a local process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import docker.types

from harness.errors import ScenarioError
from harness.host.procs import free_port
from harness.record import folder as rf
from harness.record.journal import Journal
from harness.scenario.containers import Containers
from harness.stack import leftovers
from harness.stack.containers import engine, images
from harness.stack.containers.cgroups import read as read_cgroup
from harness.stack.gateways import nginx
from harness.stack.local import LocalStack
from harness.stack.topology import Topology
from harness.host.tools import Tools

IMAGE_NAMES = {"toxiproxy": "toxiproxy", "dependency": "dependency", "nginx": "nginx"}  # replica-*: refsvc
NGINX_RELOAD_S = 0.3  # SIGHUP: nginx re-reads its config and starts a new cycle


def _run_id(registry) -> str:
    return registry.data["run"] if registry is not None else f"adhoc-{os.getpid()}-{int(time.time())}"


class DockerStack(LocalStack):
    NGINX_MASTER = True  # readiness and rollouts reload nginx
    def __init__(self, topology: Topology, tools: Tools, folder: Path, journal: Journal, registry=None,
                 containers: Containers | None = None):
        if any(r.service is not None for r in topology.replicas):
            raise ScenarioError("A user's own service (--service) runs on the local backend only: drop --backend docker.")
        super().__init__(topology, tools, folder, journal, registry)
        self.settings = containers or Containers()
        self.client = engine.connect()
        for gone in engine.sweep_orphans(self.client):  # a killed run's, when its reaper could not finish
            journal.write("leftover of an earlier run", detail=f"removed container {gone}")
        self.run_id = _run_id(registry)
        self.prefix = f"gl-{self.run_id}-{topology.variant}"
        self.labels = {engine.RUN: self.run_id, engine.STACK: self.prefix,
                       engine.OWNER: f"{os.getpid()}:{leftovers.started(os.getpid())}"}
        self.generation: dict[str, int] = {}
        self.down: set[str] = set()          # member addresses out of the upstream group (readiness)
        self._gateway_lock = threading.Lock()
        self._reaper: subprocess.Popen | None = None
        self.kubelet = None
        self.cgroups = None

    # -- start-up: LocalStack.start() calls _spawn for each component ---------
    def start(self) -> None:
        if self.registry is not None:
            self.registry.add_containers(self.run_id)
        self._reaper = subprocess.Popen(
            [sys.executable, "-m", "harness.stack.containers.reaper", str(os.getpid()), self.run_id],
            start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self._reaper_log(), "ab"))
        super().start()
        self.addresses["backend"] = "docker"
        self.addresses["containers"] = {name: c.container.name for name, c in self.procs.items()
                                        if isinstance(c, engine.Container)}
        self.save()

    def _reaper_log(self) -> Path:
        (self.folder / rf.LOGS).mkdir(parents=True, exist_ok=True)
        return self.folder / rf.LOGS / "reaper.log"

    def _launch(self, name: str, args: list[str], logs: Path, env: dict[str, str] | None, nofile: int | None,
                cwd: Path | None, **options):
        if name == "postgres":  # stays a local process
            return super()._launch(name, args, logs, env, nofile, cwd, **options)
        return self._container(name, args, env, nofile, logs, generation=1)

    def _discard(self, name: str) -> int | None:
        proc = self.procs[name]
        if not isinstance(proc, engine.Container):
            return super()._discard(name)
        del self.procs[name]
        return proc.stop(0)

    def _container(self, name: str, args: list[str], env: dict | None, nofile: int | None, logs: Path,
                   generation: int) -> engine.Container:
        kind = "refsvc" if name.startswith("replica-") else IMAGE_NAMES[name]
        if kind in self.settings.images:  # a published image the user named
            tag = self.settings.images[kind]
            with self.journal.step("image", component=name, image=tag):
                images.pulled(self.client, tag)
        else:
            with self.journal.step("image", component=name, binary=args[0]):
                tag, built = images.ensure(self.client, Path(args[0]), kind, self.run_id)
            if built:
                self.journal.write("image built", image=tag, binary=args[0])
        resources: dict = {}
        env = dict(env or {})
        if name.startswith("replica-"):
            self.generation[name] = generation
            lim = self.settings.limits
            if lim.memory_mb is not None:
                resources.update(mem_limit=f"{lim.memory_mb}m", memswap_limit=f"{lim.memory_mb}m")
                if lim.go_memory_limit == "auto":
                    env["GOMEMLIMIT"] = f"{int(lim.memory_mb * 0.9)}MiB"
            if lim.cpus is not None:
                resources["nano_cpus"] = int(lim.cpus * 1e9)
            if lim.pids is not None:
                resources["pids_limit"] = lim.pids
        if nofile is not None:
            resources["ulimits"] = [docker.types.Ulimit(name="nofile", soft=nofile, hard=nofile)]
        mounts = [str(self.folder / rf.NGINX)] if name == "nginx" else []
        suffix = "" if generation == 1 else f"-g{generation}"
        log = logs / f"{name}{suffix}.log"
        return engine.Container(self.client, f"{self.prefix}-{name}{suffix}", tag, args, log,
                                {**self.labels, engine.COMPONENT: name}, env=env, mounts=mounts, **resources)

    # -- while running ---------------------------------------------------------
    def watch(self, interval_s: float) -> None:
        """Start the kubelet (probes, restarts, engine events) and the cgroup sampler."""
        from harness.stack.containers.kubelet import CgroupSampler, Kubelet
        self.kubelet = Kubelet(self, self.settings, self.folder / rf.CONTAINERS)
        self.kubelet.start()
        self.cgroups = CgroupSampler(self, interval_s, self.folder / rf.CGROUPS)
        self.cgroups.start()

    def begin_rollout(self) -> None:
        assert self.kubelet is not None, "watch() starts the kubelet"
        self.kubelet.rollout()

    def replica(self, name: str) -> engine.Container:
        return self.procs[f"replica-{name}"]

    def replica_names(self) -> list[str]:
        return [r.name for r in self.topology.replicas]

    def cgroup(self, name: str) -> dict | None:
        c = self.procs.get(f"replica-{name}")
        return read_cgroup(c.pid, c.id) if isinstance(c, engine.Container) else None

    def dead(self):
        """Non-replica components only: the kubelet restarts replicas by the restart policy."""
        return [p for n, p in self.procs.items() if not n.startswith("replica-") and not p.alive()]

    def set_ready(self, replica: str, ready: bool) -> None:
        """Take a replica's member out of the gateway's upstream group, or put it back."""
        member = self.members[replica]
        (self.down.discard if ready else self.down.add)(member)
        self.reload()

    def reload(self, surge: tuple[str, ...] = ()) -> None:
        """nginx's upstream group as it stands now (plus a surge member), re-read by the running nginx."""
        with self._gateway_lock:
            nginx.write(self.topology.gateway, self.gateway_port, [*self.members.values(), *surge], self.folder / rf.NGINX,
                        frozenset(self.down), master=True)
            self.procs["nginx"].signal("SIGHUP")
            time.sleep(NGINX_RELOAD_S)

    def surge(self, replica: str) -> engine.Container:
        """A new container of the replica on new ports, with its own gateway-leg proxy; not yet a member."""
        name = f"replica-{replica}"
        old = self.procs[name]
        gen = self.generation[name] + 1
        http, admin = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        args = list(old.argv)
        args[args.index("-addr") + 1] = http
        args[args.index("-admin-addr") + 1] = admin
        nofile = next(r.nofile for r in self.topology.replicas if r.name == replica)
        new = self._container(name, args, old.env, nofile, self.folder / rf.LOGS, gen)
        new.http, new.admin = http, admin
        proxy = self._proxy(f"gw-{replica}-g{gen}", http, replica, "gateway")
        new.member = proxy
        return new

    def promote(self, replica: str, new: engine.Container) -> engine.Container:
        """The surge container becomes the replica: in the group, sampled, probed. Returns the old one."""
        name = f"replica-{replica}"
        old = self.procs[name]
        self.procs[name] = new
        old_member = self.members[replica]
        self.members[replica] = new.member
        self.down.discard(old_member)
        info = self.addresses["replicas"][replica]
        info.update(http=new.http, admin=new.admin, metrics=f"http://{new.admin}/metrics",
                    pprof=f"http://{new.admin}/debug/pprof", pid=new.pid)
        self.addresses["containers"][name] = new.container.name
        self.save()
        for callback in self.on_move:
            callback(replica, info)
        return old

    def save(self) -> None:
        self.addresses["pids"] = {n: p.pid for n, p in self.procs.items()}
        (self.folder / rf.STACK).write_text(json.dumps(self.addresses, indent=2))

    # -- tear-down -------------------------------------------------------------
    def stop(self) -> None:
        for part in (self.cgroups, self.kubelet):
            if part is not None:
                part.stop()
        self.cgroups = self.kubelet = None
        grace = self.settings.termination_grace_s
        for name in reversed(list(self.procs)):
            proc = self.procs.pop(name)
            if not isinstance(proc, engine.Container):
                self.procs[name] = proc  # postgres: LocalStack stops it below
                continue
            was_alive = proc.alive()
            code = proc.stop(grace if name.startswith("replica-") else 5.0)
            self.journal.write("stop", process=name, container=proc.container.name, exit=code, was_alive=was_alive)
        # whatever a rollout left half-way (a surge container) goes too
        for gone in engine.remove(self.client, {engine.RUN: self.run_id, engine.STACK: self.prefix}):
            self.journal.write("stop", container=gone, detail="left by a rollout")
        super().stop()
        if self._reaper is not None:
            self._reaper.terminate()
            self._reaper.wait(5)
            self._reaper = None
