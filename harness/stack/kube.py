"""A Kubernetes Indexed Job that runs a sharded suite, one pod per shard, validated before it is written.

No cluster is reachable from here, so the manifest is checked against the API models of the official
`kubernetes` Python client (pydantic models: unknown keys and missing required fields are refused), then
read back to itself (a key the API would not take under that spelling shows as a difference), then
against what a Job needs that the models do not say (the kind, the enumerations, the counts).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from harness.errors import ScenarioError

CONTAINER = "gatewaylab"
RESULTS = "/results"
LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"   # RFC 1123, as the API checks object names
VERDICT_IS_DATA = 1   # `gatewaylab` exit 1: a verdict failed; the results are written and `merge` judges them
BAD_INPUT = 2         # retrying cannot help: this shard fails at once


@dataclass(frozen=True)
class JobSpec:
    name: str
    image: str
    shards: int
    argv: list[str]          # the gatewaylab command each pod runs, without --shard and --reports
    claim: str
    cpu: str = "2"
    memory: str = "3Gi"
    deadline_s: int = 3600
    suite: str = "catalogue"


def script(spec: JobSpec, python: str) -> str:
    """The pod's shell command: its shard from the index Kubernetes sets, its own results folder."""
    cmd = shlex.join([python, "-m", "harness", *spec.argv])
    return (f'i=$((JOB_COMPLETION_INDEX + 1))\n'
            f'{cmd} --shard "$i/{spec.shards}" --reports "{RESULTS}/shard-$i"\n'
            f'rc=$?\n'
            f'# {VERDICT_IS_DATA}: a verdict failed; the results are written, `gatewaylab merge` judges them\n'
            f'if [ "$rc" -le {VERDICT_IS_DATA} ]; then exit 0; fi\n'
            f'exit "$rc"\n')


def manifest(spec: JobSpec, python: str) -> dict:
    labels = {"app.kubernetes.io/name": "gatewaylab", "app.kubernetes.io/component": spec.suite,
              "gatewaylab.suite": spec.suite}
    container = {
        "name": CONTAINER, "image": spec.image, "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", "-c", script(spec, python)],
        # every process of the stack binds the pod's own 127.0.0.1: no port to expose
        "resources": {"requests": {"cpu": spec.cpu, "memory": spec.memory}, "limits": {"memory": spec.memory}},
        "volumeMounts": [{"name": "results", "mountPath": RESULTS}],
    }
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": spec.name, "labels": labels},
        "spec": {
            "completionMode": "Indexed", "completions": spec.shards, "parallelism": spec.shards,
            # one retry per shard (a pod lost with its node); bad input fails the shard at once;
            # an eviction is not the shard's fault and is not counted
            "backoffLimitPerIndex": 1, "maxFailedIndexes": spec.shards,
            "podFailurePolicy": {"rules": [
                {"action": "FailIndex", "onExitCodes": {"containerName": CONTAINER, "operator": "In",
                                                        "values": [BAD_INPUT]}},
                {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
            ]},
            "activeDeadlineSeconds": spec.deadline_s,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [container],
                    "volumes": [{"name": "results", "persistentVolumeClaim": {"claimName": spec.claim}}],
                },
            },
        },
    }


def _differences(mine, back, where: str = "") -> list[str]:
    if isinstance(mine, dict) and isinstance(back, dict):
        out = []
        for k in mine:
            if k not in back:
                out.append(f"{where}{k}: not a field under that name (the API spells its fields in camelCase)")
            else:
                out += _differences(mine[k], back[k], f"{where}{k}.")
        return out
    if isinstance(mine, list) and isinstance(back, list) and len(mine) == len(back):
        return [d for k, (a, b) in enumerate(zip(mine, back)) for d in _differences(a, b, f"{where[:-1]}[{k}].")]
    return [] if mine == back else [f"{where[:-1]}: {mine!r} reads back as {back!r}"]


def _semantics(job: dict) -> list[str]:
    """What a Job needs that the models' types do not say."""
    out = []
    if job.get("apiVersion") != "batch/v1" or job.get("kind") != "Job":
        out.append("apiVersion/kind: must be batch/v1 Job")
    spec = job.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    name = (job.get("metadata") or {}).get("name") or ""
    if not re.fullmatch(LABEL, name) or len(name) > 63:
        out.append(f"metadata.name: {name!r}: lowercase letters, digits and '-', at most 63 (the pods are named after it)")
    for v in pod.get("volumes") or []:
        claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
        if claim is not None and (not re.fullmatch(rf"{LABEL}(\.{LABEL})*", claim) or len(claim) > 253):
            out.append(f"volumes[{v.get('name')}].persistentVolumeClaim.claimName: {claim!r} is not a valid object name")
    if spec.get("completionMode") not in ("Indexed", "NonIndexed"):
        out.append(f"spec.completionMode: {spec.get('completionMode')!r} is neither Indexed nor NonIndexed")
    if spec.get("completionMode") == "Indexed" and not 1 <= (spec.get("completions") or 0) <= 100000:
        out.append("spec.completions: an Indexed Job needs completions between 1 and 100000")
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        out.append(f"spec.template.spec.restartPolicy: {pod.get('restartPolicy')!r}: a Job takes Never or OnFailure")
    rules = (spec.get("podFailurePolicy") or {}).get("rules") or []
    if rules and pod.get("restartPolicy") != "Never":
        out.append("spec.podFailurePolicy: needs restartPolicy Never")
    if any(r.get("action") == "FailIndex" for r in rules) and spec.get("backoffLimitPerIndex") is None:
        out.append("spec.podFailurePolicy: the FailIndex action needs spec.backoffLimitPerIndex")
    names = {c.get("name") for c in pod.get("containers") or []}
    for r in rules:
        if r.get("action") not in ("FailJob", "FailIndex", "Ignore", "Count"):
            out.append(f"spec.podFailurePolicy: unknown action {r.get('action')!r}")
        on = r.get("onExitCodes") or {}
        if on and (on.get("operator") not in ("In", "NotIn") or on.get("containerName", next(iter(names))) not in names):
            out.append(f"spec.podFailurePolicy: onExitCodes {on} names no container or no operator In/NotIn")
    mounts = {m.get("name") for c in pod.get("containers") or [] for m in c.get("volumeMounts") or []}
    missing = mounts - {v.get("name") for v in pod.get("volumes") or []}
    if missing:
        out.append(f"spec.template.spec.containers: mounts {sorted(missing)}, which no volume provides")
    return out


def validate(job: dict) -> None:
    """Refuse a manifest the API would refuse (or read differently), each problem with its path."""
    import pydantic
    from kubernetes.client import V1Job
    from kubernetes.utils import parse_quantity

    try:
        back = V1Job.model_validate(job).model_dump(by_alias=True, exclude_none=True, mode="json")
    except pydantic.ValidationError as e:
        lines = [f"  {'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors(include_url=False)]
        raise ScenarioError("The Job manifest does not fit the Kubernetes API (models of the `kubernetes` "
                            "client):\n" + "\n".join(lines)) from None
    problems = _differences(job, back) + _semantics(job)
    for c in job["spec"]["template"]["spec"]["containers"]:
        for kind, q in (c.get("resources") or {}).items():
            for res, value in q.items():
                try:
                    parse_quantity(value)
                except ValueError:
                    problems.append(f"containers[{c['name']}].resources.{kind}.{res}: {value!r} is not a quantity")
    if problems:
        raise ScenarioError("The Job manifest is not a valid Kubernetes Job:\n" + "\n".join(f"  {p}" for p in problems))
