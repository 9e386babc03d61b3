"""The container backend's settings: limits, probes, restart policy, rolling restart.

Named and defaulted after Kubernetes (a Pod's resources, probes and restartPolicy,
a Deployment's RollingUpdate), with times scaled down for short runs where the
Kubernetes default would not fit in a run: `backoff_factor` says by how much.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from harness.scenario.parts import Name, Strict

ProbePath = Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~/-]{0,100}$")]
# registry/name:tag or name@sha256:digest, as `docker pull` takes it
ImageRef = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._/:-]{0,200}(@sha256:[0-9a-f]{64}|:[A-Za-z0-9._-]{1,128})$")]


class Limits(Strict):
    """Per replica container: memory (swap equal to it: none extra), CPUs, pids; open files is service.nofile."""
    memory_mb: int | None = Field(None, ge=6, le=65_536)
    cpus: float | None = Field(None, ge=0.01, le=64)
    pids: int | None = Field(None, ge=16, le=100_000)
    # auto: GOMEMLIMIT at 90 % of memory_mb, what Go services in containers are told to set.
    go_memory_limit: Literal["none", "auto"] = "none"

    @model_validator(mode="after")
    def _memory_for_auto(self) -> "Limits":
        if self.go_memory_limit == "auto" and self.memory_mb is None:
            raise ValueError("go_memory_limit: auto needs memory_mb (GOMEMLIMIT is set from it)")
        return self


class Probe(Strict):
    """An HTTP probe of the replica's own port, as the kubelet does it (not through the gateway)."""
    path: ProbePath
    period_s: float = Field(1.0, ge=0.1, le=300)          # Kubernetes: 10 s
    timeout_s: float = Field(1.0, ge=0.05, le=60)         # Kubernetes: 1 s
    failure_threshold: int = Field(3, ge=1, le=100)       # Kubernetes: 3
    success_threshold: int = Field(1, ge=1, le=100)       # Kubernetes: 1 (must be 1 for liveness)
    initial_delay_s: float = Field(0.0, ge=0, le=600)     # Kubernetes: 0


class Restart(Strict):
    """restartPolicy and CrashLoopBackOff: 10 s doubling to 300 s, reset after 10 min of running, all times x backoff_factor."""
    policy: Literal["Always", "OnFailure", "Never"] = "Always"
    backoff_factor: float = Field(0.1, gt=0, le=1)


class Rollout(Strict):
    """A rolling restart of every replica under load, one at a time (maxSurge 1, maxUnavailable 0)."""
    phase: Name
    # Kubernetes removes a terminating pod from its Endpoints while the kubelet sends SIGTERM;
    # the gateway learns of it a moment later. That moment, here a fixed delay:
    endpoint_delay_s: float = Field(1.0, ge=0, le=60)
    termination_grace_s: float = Field(10.0, ge=0, le=300)  # Kubernetes: 30 s
    ready_timeout_s: float = Field(30.0, gt=0, le=600)


class Containers(Strict):
    limits: Limits = Limits()
    liveness: Probe | None = None
    readiness: Probe | None = None
    restart: Restart = Restart()
    rollout: Rollout | None = None
    termination_grace_s: float = Field(10.0, ge=0, le=300)  # at the end of a run, before SIGKILL
    # Published images instead of the ones built here (pulled when missing; needs a registry).
    # Each must run the same program with the same flags: its entrypoint is that binary.
    images: dict[Literal["refsvc", "dependency", "toxiproxy", "nginx"], ImageRef] = {}

    @model_validator(mode="after")
    def _kubernetes_rules(self) -> "Containers":
        if self.liveness is not None and self.liveness.success_threshold != 1:
            raise ValueError("liveness.success_threshold must be 1 (as in Kubernetes)")
        return self

    def needs_docker(self) -> list[str]:
        """The settings that only the docker backend can honour (empty: none set)."""
        return [name for name, value in (
            ("limits.memory_mb", self.limits.memory_mb), ("limits.cpus", self.limits.cpus),
            ("limits.pids", self.limits.pids), ("liveness", self.liveness), ("readiness", self.readiness),
            ("rollout", self.rollout),
        ) if value is not None]
