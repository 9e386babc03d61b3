"""The Docker engine as the stack uses it: one client, labelled containers on the host network.

Every container carries the label RUN=<run id> (and COMPONENT, LOG): whatever
stops them -- this run, the reaper after a SIGKILL, the next run's sweep or
`gatewaylab clean` -- finds them by that label, never by name or image.
"""

from __future__ import annotations

import time
from pathlib import Path

import docker
import docker.errors
import requests

from harness.errors import StackError, ToolMissing

RUN = "gatewaylab.run"
STACK = "gatewaylab.stack"          # one variant's stack within the run
COMPONENT = "gatewaylab.component"
LOG = "gatewaylab.log"        # where the container's output goes when it is removed
OWNER = "gatewaylab.owner"    # pid:start of the harness that started it
HOW_TO_GET = ("As root on Debian, `make docker` (scripts/ensure-docker) installs Debian's docker.io and starts "
              "dockerd on a Unix socket, with no bridge network; elsewhere install Docker Engine, start it, and "
              "make sure `docker info` works for this user. Then run again.")


def connect() -> docker.DockerClient:
    """A client of a running engine, or ToolMissing saying how to get one."""
    try:
        client = docker.from_env(timeout=60)
        client.ping()
        return client
    except (docker.errors.DockerException, requests.RequestException, OSError) as e:
        raise ToolMissing(f"The docker backend needs a running Docker engine, and none answers ({e}). {HOW_TO_GET}") from None


def logs_text(container) -> str:
    try:
        return container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
    except docker.errors.APIError:
        return ""


def listed(client: docker.DockerClient, labels: dict[str, str] | list[str], running_only: bool = False) -> list[dict]:
    """{id, name, labels} of the containers with these labels; one API call, so a container
    another run removes meanwhile cannot fail it (the SDK's list() inspects each one after)."""
    wanted = [f"{k}={v}" for k, v in labels.items()] if isinstance(labels, dict) else labels
    found = client.api.containers(all=not running_only, filters={"label": wanted})
    return [{"id": c["Id"], "name": c["Names"][0].lstrip("/"), "labels": c.get("Labels") or {}} for c in found]


def remove(client: docker.DockerClient, labels: dict[str, str]) -> list[str]:
    """Force-remove every container with these labels, saving its output first; the names removed."""
    done = []
    try:
        found = listed(client, labels)
    except (docker.errors.DockerException, requests.RequestException):
        return done
    for c in found:
        log = c["labels"].get(LOG)
        try:
            if log:
                Path(log).parent.mkdir(parents=True, exist_ok=True)
                Path(log).write_bytes(client.api.logs(c["id"], stdout=True, stderr=True))
            client.api.remove_container(c["id"], force=True)
            done.append(c["name"])
        except docker.errors.NotFound:
            pass  # removed meanwhile
        except OSError:
            client.api.remove_container(c["id"], force=True)
            done.append(c["name"])
        except docker.errors.APIError as e:
            if "already in progress" not in str(e):
                raise
    return done


class Container:
    """One running container, with the small interface of host.procs.Proc the stack and runner use."""

    def __init__(self, client: docker.DockerClient, full_name: str, image: str, argv: list[str], log: Path,
                 labels: dict[str, str], env: dict[str, str] | None = None, mounts: list[str] | None = None,
                 **resources):
        self.client = client
        self.name = labels.get(COMPONENT, full_name)
        self.log = log
        self.argv = argv
        self.env = env
        self.ready = None
        self._exit: int | None = None
        try:
            self.container = client.containers.run(
                image, command=argv[1:], name=full_name, detach=True, network_mode="host",
                environment=env or {}, labels={**labels, LOG: str(log)}, volumes={m: {"bind": m, "mode": "rw"} for m in mounts or []},
                init=False, stop_signal="SIGTERM", **resources,
            )
        except docker.errors.APIError as e:
            raise StackError(f"The Docker engine did not start {full_name} from {image}: {e.explanation or e}") from None
        self.container.reload()
        self.pid = int(self.container.attrs["State"]["Pid"])

    @property
    def id(self) -> str:
        return self.container.id

    def state(self) -> dict:
        try:
            self.container.reload()
            return self.container.attrs["State"]
        except docker.errors.NotFound:
            return {"Running": False, "ExitCode": self._exit if self._exit is not None else -1, "OOMKilled": False}

    def alive(self) -> bool:
        return bool(self.state().get("Running"))

    @property
    def returncode(self) -> int | None:
        s = self.state()
        return None if s.get("Running") else int(s.get("ExitCode", -1))

    def tail(self, lines: int = 15) -> str:
        try:
            return self.container.logs(tail=lines).decode("utf-8", "replace")
        except docker.errors.APIError:
            return ""

    def signal(self, sig: str) -> None:
        try:
            self.container.kill(signal=sig)
        except docker.errors.APIError:
            pass  # it is not running: nothing to signal

    def start_again(self) -> None:
        self.container.start()
        self.container.reload()
        self.pid = int(self.container.attrs["State"]["Pid"])

    def stop(self, grace_s: float = 5.0) -> int | None:
        """SIGTERM, SIGKILL after grace_s; the output saved to the log file; the container removed."""
        s = self.state()
        if s.get("Running"):
            self.signal("SIGTERM")
            deadline = time.monotonic() + grace_s
            while time.monotonic() < deadline and self.alive():
                time.sleep(0.05)
            if self.alive():
                self.signal("SIGKILL")
                self.container.wait(timeout=10)
        code = self.returncode
        self._exit = code
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.write_text(logs_text(self.container))
        try:
            self.container.remove(force=True)
        except docker.errors.NotFound:
            pass
        return code


def sweep_run(label: str) -> list[str]:
    """Remove what a dead run left (its label); nothing when no engine answers (then nothing can run either)."""
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except (docker.errors.DockerException, requests.RequestException, OSError):
        return []
    return remove(client, {RUN: label})


def sweep_orphans(client: docker.DockerClient) -> list[str]:
    """Remove containers of any run whose harness (pid and start time on the OWNER label) is gone."""
    from harness.stack.leftovers import started
    dead = set()
    for c in listed(client, [RUN]):
        pid, _, start = c["labels"].get(OWNER, "").partition(":")
        if not pid.isdigit() or start == "None" or started(int(pid)) != float(start):
            dead.add(c["labels"][RUN])
    return [name for label in sorted(dead) for name in remove(client, {RUN: label})]
