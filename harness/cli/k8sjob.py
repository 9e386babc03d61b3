"""`gatewaylab k8s-job`: a sharded suite as a Kubernetes Indexed Job, one pod per shard, and the image it runs.

Each pod runs `gatewaylab catalogue --shard I/N` (or `calibrate`) with the whole loopback stack inside it
and writes to its own folder of a PersistentVolumeClaim; `gatewaylab merge` joins the folders afterwards.
Scenarios with `backend: docker` need a Docker engine, which a pod does not have: they stay out, said so.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
from pathlib import Path

import yaml

from harness import scenario as scenarios
from harness.cli import catalogue, parallel
from harness.errors import ScenarioError
from harness.scenario import shards
from harness.stack import kube

PLACEHOLDER = "gatewaylab/harness:unbuilt"


def add_parser(sub) -> None:
    p = sub.add_parser("k8s-job", help="write a Kubernetes Indexed Job running a suite's shards in parallel pods "
                                       "(and build the image it runs)")
    p.add_argument("names", nargs="*", metavar="SCENARIO",
                   help="catalogue: only these scenarios (names or YAML files; default every one a pod can run); "
                        "calibrate: the one scenario")
    p.add_argument("--shards", type=int, required=True, metavar="N", help="pods, one shard each")
    p.add_argument("--suite", choices=("catalogue", "calibrate"), default="catalogue", help="what the pods run (default catalogue)")
    p.add_argument("--all-variants", action="store_true", help="catalogue: every variant, not only the defaults")
    p.add_argument("--runs", type=int, help="calibrate: runs of each variant, shared by the shards (default 5)")
    p.add_argument("--variant", action="append", metavar="NAME", help="calibrate: variants (as `gatewaylab calibrate`)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="where job.yaml goes")
    p.add_argument("--results-claim", default="gatewaylab-results", metavar="NAME",
                   help="the PersistentVolumeClaim the pods write to, /results/shard-I each (default gatewaylab-results; "
                        "ReadWriteMany when the pods may land on several nodes)")
    p.add_argument("--image", metavar="REF", help="the image the cluster pulls (with --build-image: the built image is tagged so)")
    p.add_argument("--build-image", action="store_true", help="build the harness image here with the local Docker engine")
    p.add_argument("--name", default=None, help="the Job's name (default gatewaylab-<suite>)")
    p.add_argument("--cpu", default="2", help="CPU each pod requests (default 2: what one stack is measured on)")
    p.add_argument("--memory", default="3Gi", help="memory each pod requests and is limited to (default 3Gi)")


def _selection(args) -> tuple[list[str], list[Path], dict[str, str], float]:
    """The pod's gatewaylab arguments, the scenario files to bake in, what stays out and why, the heaviest shard's seconds."""
    from harness.stack.containers.harness_image import SCENARIOS_EXTRA

    if args.suite == "calibrate" and len(args.names) != 1:
        raise ScenarioError("--suite calibrate takes one scenario: `gatewaylab k8s-job NAME --suite calibrate --runs R`.")
    files = [Path(n) for n in args.names if n.endswith((".yaml", ".yml")) or "/" in n]
    if len({f.name for f in files}) < len(files):
        raise ScenarioError("Two scenario files with one file name: they go into the image side by side; rename one.")
    in_pod = {n: f"{SCENARIOS_EXTRA}/{Path(n).name}" if Path(n) in files else n for n in args.names}
    catalogue.chosen_scenarios(args.names)  # every one valid, each name once
    loaded = {g: scenarios.load(g) for g in args.names or scenarios.available()}
    left, why = {}, {}
    for given, s in loaded.items():
        reason = _not_in_pod(s)
        if reason:
            why[s.name] = reason
        else:
            left[given] = s
    if args.names and why:  # asked for by name: refuse rather than drop
        raise ScenarioError("; ".join(f"{n} cannot run in a pod: {r}" for n, r in why.items())
                            + ". Run it here (`gatewaylab run NAME`) and leave it out of the Job.")
    if args.suite == "calibrate":
        if args.all_variants:
            raise ScenarioError("--all-variants is for the catalogue; a calibration takes --variant all.")
        args.runs = 5 if args.runs is None else args.runs
        given, s = next(iter(left.items()))
        if not 1 <= args.runs <= 100 or args.shards > args.runs:
            raise ScenarioError(f"--runs {args.runs} with --shards {args.shards}: give 1 to 100 runs, at least one per shard.")
        wanted = [v.strip() for item in args.variant or [] for v in item.split(",") if v.strip()]
        variants = scenarios.pick_variants(s, wanted or None)
        cost = sum(shards.variant_cost(s, v) for v in variants) * math.ceil(args.runs / args.shards)
        argv = ["calibrate", in_pod.get(given, given), "--runs", str(args.runs), *(["--variant", ",".join(wanted)] if wanted else [])]
        return argv, files, why, cost
    if args.variant or args.runs is not None:
        raise ScenarioError("--variant and --runs are for --suite calibrate; the catalogue runs each scenario's "
                            "defaults once (or --all-variants).")
    costs = {s.name: sum(shards.variant_cost(s, v) for v in (s.variants if args.all_variants else s.default_variants))
             for s in left.values()}
    if not 1 <= args.shards <= min(len(costs), shards.MAX_SHARDS):
        raise ScenarioError(f"--shards {args.shards}: give 1 to {min(len(costs), shards.MAX_SHARDS)} "
                            f"(one shard at least per scenario; {len(costs)} scenarios run in the pods).")
    heaviest = max(sum(costs[u] for u in s) for s in shards.assign(costs, args.shards))
    # side by side as on a machine of the pod's CPUs (the node's core count says nothing about the pod's share)
    from kubernetes.utils import parse_quantity

    try:
        cores = float(parse_quantity(str(args.cpu)))
    except ValueError:
        cores = 1.0  # not a quantity: the manifest's validation refuses it, naming --cpu
    argv = ["catalogue", *(in_pod.get(g, g) for g in left), *(["--all-variants"] if args.all_variants else []),
            "--jobs", str(max(1, min(parallel.MAX_JOBS, int(2 * cores + 1))))]
    return argv, files, why, heaviest


def _not_in_pod(s) -> str | None:
    from harness.stack.containers import harness_image

    if s.backend == "docker":
        return "backend: docker needs a Docker engine, and a pod has none"
    if s.database is not None and not harness_image.has_postgres():
        return "it needs PostgreSQL, which is not installed here, so not in the image"
    return None


def _spec(args, argv: list[str], image: str, heaviest_s: float) -> kube.JobSpec:
    return kube.JobSpec(name=args.name or f"gatewaylab-{args.suite}", image=image, shards=args.shards, argv=argv,
                        claim=args.results_claim, cpu=args.cpu, memory=args.memory, suite=args.suite,
                        deadline_s=int(2 * heaviest_s + 600))  # twice the planned load, plus start-up: a stuck pod ends


def _dump(job: dict) -> str:
    class Dumper(yaml.SafeDumper):
        pass
    Dumper.ignore_aliases = lambda self, data: True  # the labels twice, spelled out: no YAML anchors
    Dumper.add_representer(str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None))
    return yaml.dump(job, Dumper=Dumper, sort_keys=False)


def run(args: argparse.Namespace) -> int:
    from harness.stack.containers import harness_image

    if not 1 <= args.shards <= shards.MAX_SHARDS:
        raise ScenarioError(f"--shards {args.shards}: give a number from 1 to {shards.MAX_SHARDS}.")
    argv, files, left_out, heaviest = _selection(args)
    if files and not args.build_image:
        raise ScenarioError("Scenario files named by path go into the image: add --build-image.")
    if not args.build_image and not args.image:
        raise ScenarioError("Name the image the cluster pulls (--image REF) or build it here (--build-image).")
    kube.validate(kube.manifest(_spec(args, argv, args.image or PLACEHOLDER, heaviest), harness_image.PYTHON))
    built = None
    if args.build_image:
        from harness.stack.containers import engine

        built = harness_image.ensure(engine.connect(), files)
        if args.image:
            import docker.errors
            from docker.utils import parse_repository_tag

            try:
                engine.connect().images.get(built["tag"]).tag(*parse_repository_tag(args.image))
            except docker.errors.APIError as e:
                raise ScenarioError(f"--image {args.image}: the engine will not tag the image so "
                                    f"({e.explanation or e}); give a reference like registry.example/gatewaylab:1.") from None
    image = args.image or built["tag"]
    job = kube.manifest(_spec(args, argv, image, heaviest), harness_image.PYTHON)
    kube.validate(job)
    path = args.out / "job.yaml"
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(".job.yaml.tmp")
        tmp.write_text(_dump(job))
        os.replace(tmp, path)  # never a half-written manifest
    except OSError as e:
        raise ScenarioError(f"--out {args.out}: cannot write job.yaml there ({e}); give a folder you can write.") from None
    _say(args, job, path, built, left_out, argv)
    return 0


def _say(args, job: dict, path: Path, built: dict | None, left_out: dict[str, str], argv: list[str]) -> None:
    name, image = job["metadata"]["name"], job["spec"]["template"]["spec"]["containers"][0]["image"]
    print(f"Wrote {path}: Job {name}, {args.shards} pods (Indexed, one shard each), validated against the "
          f"Kubernetes API models of the `kubernetes` client.")
    if built:
        made = f"built in {built['seconds']} s" if built["built"] else "already here"
        print(f"Image {built['tag']}: {built['size_mb']} MB, {made} (FROM scratch; runtime {built['runtime']}).")
    print("Each pod runs: " + shlex.join(["gatewaylab", *argv]) + " --shard I/N --reports /results/shard-I")
    for reason in dict.fromkeys(left_out.values()):
        print(f"Not in the Job ({reason}): {', '.join(n for n, r in left_out.items() if r == reason)}.")
    results = "results"
    merge = (f"gatewaylab merge {results}/shard-*/catalogue/*/" if args.suite == "catalogue" else
             f"gatewaylab calibrate {args.names[0]} --from {results}/shard-*/runs/*/ --save")
    print("\nThen:")
    if not args.image or built:
        print(f"  # the cluster must be able to pull {image}: `docker push` it to a registry it reads "
              f"(or `kind load docker-image {image}`)")
    print(f"  kubectl apply -f {path}")
    print(f"  kubectl wait --for=condition=complete --timeout={job['spec']['activeDeadlineSeconds']}s job/{name}")
    print(f"  # copy /results/shard-1 .. shard-{args.shards} of the claim {args.results_claim} to ./{results}/ "
          f"(e.g. `kubectl cp` from a pod that mounts it), then:")
    print(f"  {merge}")
    sys.stdout.flush()

