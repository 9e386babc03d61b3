"""`gatewaylab k8s-job`: the Job manifest validates against the Kubernetes API models (a typo is refused),
and its shards, run as parallel containers of the harness image on the local engine -- the pod's own
command, its index in JOB_COMPLETION_INDEX, one results folder as the claim -- merge into the table one
unsharded catalogue of the same runs gives. Real engine, real image: no cluster is reachable here.
"""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path

import pytest
import yaml
from kubernetes.client import V1Job

from harness.cli.main import main
from harness.errors import ScenarioError
from harness.stack import kube, leftovers
from harness.stack.containers import engine
from tests.runs import SCENARIOS
from tests.test_shards import gl

DOCKER_SCENARIOS = ("cpu-throttle", "liveness-lies", "oom-kill", "rolling-restart")


def test_the_catalogue_job_validates_and_leaves_the_docker_scenarios_out_saying_why(tmp_path):
    out = gl("k8s-job", "--shards", "3", "--image", "registry.example/gatewaylab:1", "--out", tmp_path)
    assert out.returncode == 0, out.stderr
    job = yaml.safe_load((tmp_path / "job.yaml").read_text())
    assert V1Job.model_validate(job).spec.completion_mode == "Indexed"
    spec = job["spec"]
    assert spec["completions"] == spec["parallelism"] == 3 and spec["template"]["spec"]["restartPolicy"] == "Never"
    pod = spec["template"]["spec"]
    script = pod["containers"][0]["command"][2]
    assert '--shard "$i/3" --reports "/results/shard-$i"' in script and "JOB_COMPLETION_INDEX" in script
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "gatewaylab-results"
    assert pod["containers"][0]["resources"]["requests"]["cpu"] == "2"
    for name in DOCKER_SCENARIOS:
        assert f" {name} " not in script and name in out.stdout
    assert "backend: docker needs a Docker engine" in out.stdout
    assert "kubectl apply -f" in out.stdout and "gatewaylab merge results/shard-*/catalogue/*/" in out.stdout


def test_a_calibration_job_shares_the_runs(tmp_path):
    out = gl("k8s-job", "unclosed-body", "--suite", "calibrate", "--runs", "6", "--shards", "3",
             "--image", "x/gatewaylab:1", "--out", tmp_path, "--name", "calib")
    assert out.returncode == 0, out.stderr
    script = yaml.safe_load((tmp_path / "job.yaml").read_text())["spec"]["template"]["spec"]["containers"][0]["command"][2]
    assert "calibrate unclosed-body --runs 6 --shard" in script
    assert "gatewaylab calibrate unclosed-body --from results/shard-*/runs/*/ --save" in out.stdout


def test_a_manifest_with_a_typo_is_refused_naming_the_field():
    job = kube.manifest(kube.JobSpec(name="j", image="i:1", shards=2, argv=["catalogue"], claim="c"), "/python")
    kube.validate(job)
    for change, says in (
        (lambda j: j["spec"]["template"]["spec"]["containers"][0].update(imagePulPolicy="Never"), "imagePulPolicy"),
        (lambda j: j["spec"].update(completionMode="Indexd"), "completionMode"),
        (lambda j: j["spec"].update(completions="2"), "spec.completions"),
        (lambda j: j["spec"]["template"]["spec"].update(restartPolicy="Always"), "restartPolicy"),
        (lambda j: j["spec"]["template"]["spec"]["containers"][0].pop("name"), "name: Field required"),
        (lambda j: j["spec"]["template"]["spec"]["volumes"][0].update(name="other"), "no volume provides"),
    ):
        bad = copy.deepcopy(job)
        change(bad)
        with pytest.raises(ScenarioError, match=says):
            kube.validate(bad)


IMAGE = ("--image", "x/gatewaylab:1")


def test_an_out_folder_that_cannot_be_one_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert main(["k8s-job", "--shards", "2", *IMAGE, "--out", str(tmp_path / "file")]) == 2
    assert "cannot write job.yaml there" in capsys.readouterr().err


@pytest.mark.parametrize("args,says", [
    (("--shards", "0", *IMAGE), "--shards 0"),
    (("--shards", "40", *IMAGE), "--shards 40: give 1 to"),
    (("oom-kill", "--shards", "1", *IMAGE), "oom-kill cannot run in a pod"),
    (("tiny", "--shards", "1", *IMAGE), "no scenario called 'tiny'"),
    (("unclosed-body", "tiny-x", "--suite", "calibrate", "--shards", "1", *IMAGE), "takes one scenario"),
    (("--shards", "2", "--name", "Bad_Name", *IMAGE), "metadata.name"),
    (("--shards", "2", "--cpu", "2 cores", *IMAGE), "is not a quantity"),
    (("--shards", "2", "--results-claim", "My Claim", *IMAGE), "claimName"),
    (("--shards", "2"), "--build-image"),
    (("--shards", "2", "--runs", "3", *IMAGE), "are for --suite calibrate"),
    (("unclosed-body", "--suite", "calibrate", "--runs", "2", "--shards", "3", *IMAGE), "at least one per shard"),
    (("unclosed-body", "--suite", "calibrate", "--variant", "nope", "--shards", "1", *IMAGE), "no variant 'nope'"),
    ((str(SCENARIOS / "tiny.yaml"), "--shards", "1", *IMAGE), "go into the image: add --build-image"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, args, says):
    code = main(["k8s-job", *args, "--out", str(tmp_path / "job")])
    err = capsys.readouterr().err
    assert code == 2 and says in err, err
    assert not (tmp_path / "job").exists()


def _variant(tmp: Path, name: str) -> Path:
    text = (SCENARIOS / "tiny.yaml").read_text().replace("name: tiny", f"name: {name}")
    (tmp / f"{name}.yaml").write_text(text)
    return tmp / f"{name}.yaml"


def _rows(folder: Path) -> list[dict]:
    # the run's own figures; `unit` and `report` name where it ran (a pod's /results, or this folder)
    return [{k: v for k, v in r.items() if k not in ("unit", "report")} for r in json.loads((folder / "catalogue.json").read_text())]


@pytest.mark.e2e
def test_the_job_shards_as_parallel_containers_merge_into_the_unsharded_table(tmp_path):
    files = [_variant(tmp_path, f"fanout-{k}") for k in (1, 2, 3)]
    made = gl("k8s-job", *files, "--shards", "3", "--build-image", "--out", tmp_path / "job")
    assert made.returncode == 0, made.stderr
    job = yaml.safe_load((tmp_path / "job" / "job.yaml").read_text())
    pod = job["spec"]["template"]["spec"]["containers"][0]
    results = tmp_path / "results"  # the claim
    results.mkdir()
    client = engine.connect()
    label = {engine.RUN: f"k8s-fanout-{os.getpid()}", engine.OWNER: f"{os.getpid()}:{leftovers.started(os.getpid())}"}
    t0 = time.monotonic()
    try:
        pods = [client.containers.run(pod["image"], entrypoint=pod["command"][:2], command=pod["command"][2:],
                                      environment={"JOB_COMPLETION_INDEX": str(i)}, network_mode="host",
                                      volumes={str(results): {"bind": "/results", "mode": "rw"}}, labels=label,
                                      detach=True) for i in range(3)]
        codes = [p.wait(timeout=300)["StatusCode"] for p in pods]
        logs = [p.logs().decode()[-3000:] for p in pods]
    finally:
        engine.remove(client, label)
    wall = time.monotonic() - t0
    assert codes == [0, 0, 0], logs
    assert not engine.listed(client, label), "every container removed"
    slices = sorted(results.glob("shard-*/catalogue/*"))
    assert [json.loads((s / "shard.json").read_text())["shard"] for s in slices] == [[1, 3], [2, 3], [3, 3]]
    merged = gl("merge", *slices, "--reports", tmp_path / "merged")
    runs = sorted(results.glob("shard-*/runs/*"))
    whole = gl("catalogue", "--from", *runs, "--reports", tmp_path / "whole")
    assert merged.returncode == whole.returncode, merged.stdout + merged.stderr
    merged_dir = next((tmp_path / "merged" / "catalogue").iterdir())
    assert [r["scenario"] for r in _rows(merged_dir)] == ["fanout-1", "fanout-2", "fanout-3"]
    one = sorted(_rows(next((tmp_path / "whole" / "catalogue").iterdir())), key=lambda r: r["scenario"])
    assert _rows(merged_dir) == one  # --from orders by folder name, its time first
    print(f"\n3 shards as containers: {wall:.0f} s; {made.stdout.splitlines()[1]}")
