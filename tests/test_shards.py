"""Sharded suites: `catalogue --shard I/N` slices are deterministic and disjoint, and `gatewaylab merge`
joins them into the table one unsharded run gives (on recorded run folders: no load runs here)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import scenario as scenarios
from harness.errors import ScenarioError
from harness.scenario import shards

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "tests" / "fixtures" / "runs"
LONG = ("unclosed-body-closed", "unclosed-body-open")  # 50 s runs: seconds each to rebuild, and test_load_models reads them


def test_the_spec_is_checked():
    assert shards.parse("2/3") == (2, 3) and shards.parse(None) is None
    for bad in ("0/3", "4/3", "a/b", "3", "1/0", "1/65"):
        with pytest.raises(ScenarioError, match="--shard"):
            shards.parse(bad)


def test_every_unit_lands_in_exactly_one_shard_and_the_loads_are_balanced():
    costs = {f"u{k}": float(c) for k, c in enumerate([90, 60, 50, 50, 40, 30, 30, 20, 10, 10])}
    for n in (1, 2, 3, 4, 10, 12):
        got = shards.assign(costs, n)
        units = [u for s in got for u in s]
        assert sorted(units) == sorted(costs) and len(units) == len(set(units))
        loads = [sum(costs[u] for u in s) for s in got]
        assert max(loads) - min(loads) <= max(costs.values())
        assert got == shards.assign(dict(reversed(list(costs.items()))), n), "the order given does not matter"


def test_the_catalogue_of_the_scenario_files_splits_into_disjoint_slices():
    loaded = {n: scenarios.load(n) for n in scenarios.available()}
    costs = {n: sum(shards.variant_cost(s, v) for v in s.default_variants) for n, s in loaded.items()}
    slices = [shards.pick(costs, (i, 3)) for i in (1, 2, 3)]
    assert sorted(u for s in slices for u in s) == sorted(loaded)
    loads = [sum(costs[u] for u in s) for s in slices]
    assert max(loads) <= sum(loads) / 3 + max(costs.values())


def gl(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def _folder(out: str, label: str) -> Path:
    line = next(x for x in out.splitlines() if x.startswith(label))
    return Path(line.split(": ", 1)[1]).parent


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, list[Path]]:
    base = tmp_path_factory.mktemp("shards")
    runs = []
    for src in sorted(RUNS.iterdir()):
        if src.name in LONG:
            continue
        shutil.copytree(src, base / "runs" / src.name)
        runs.append(base / "runs" / src.name)
    return base, runs


@pytest.fixture(scope="module")
def sliced(recorded):
    base, runs = recorded
    whole = gl("catalogue", "--from", *runs, "--reports", base / "whole")
    parts = [gl("catalogue", "--from", *runs, "--shard", f"{i}/3", "--reports", base / f"slice{i}") for i in (1, 2, 3)]
    return whole, parts


def test_merged_slices_give_the_table_of_one_unsharded_run(recorded, sliced, tmp_path):
    whole, parts = sliced
    assert whole.returncode in (0, 1), whole.stderr
    folders = [_folder(p.stdout, "Catalogue:") for p in parts]
    units = [json.loads((f / "shard.json").read_text())["units"] for f in folders]
    assert all(units) and sorted(u for s in units for u in s) == sorted(r.name for r in recorded[1])
    merged = gl("merge", *reversed(folders), "--reports", tmp_path)
    assert merged.returncode == whole.returncode, merged.stdout + merged.stderr
    out = _folder(merged.stdout, "Merged")
    one = json.loads((_folder(whole.stdout, "Catalogue:") / "catalogue.json").read_text())
    assert json.loads((out / "catalogue.json").read_text()) == one
    suites = ET.parse(out / "junit.xml").getroot()
    assert len(suites.findall(".//testcase")) == len(one)
    assert len(suites.findall(".//failure")) == sum(r["verdict"] != "pass" for r in one)


def test_a_missing_overlapping_or_foreign_slice_is_refused(recorded, sliced, tmp_path):
    base, runs = recorded
    folders = [_folder(p.stdout, "Catalogue:") for p in sliced[1]]
    missing = gl("merge", folders[0], folders[2], "--reports", tmp_path)
    assert missing.returncode == 2 and "slice 2/3 missing" in missing.stderr
    twice = gl("merge", folders[0], folders[0], folders[1], "--reports", tmp_path)
    assert twice.returncode == 2 and "both slice 1/3" in twice.stderr
    other = gl("catalogue", "--from", *runs[:2], "--shard", "2/2", "--reports", base / "other")
    foreign = gl("merge", folders[0], _folder(other.stdout, "Catalogue:"), folders[2], "--reports", tmp_path)
    assert foreign.returncode == 2 and "another suite" in foreign.stderr
    nothing = gl("merge", tmp_path, "--reports", tmp_path)
    assert nothing.returncode == 2 and "is not a catalogue or regress folder" in nothing.stderr


def test_a_bad_shard_exits_2_before_anything_runs(tmp_path):
    bad = gl("catalogue", "--shard", "4/3", "--reports", tmp_path)
    assert bad.returncode == 2 and "--shard '4/3'" in bad.stderr
    matrix = gl("catalogue", "--gateway", "all", "--shard", "1/2", "--reports", tmp_path)
    assert matrix.returncode == 2 and "not sharded yet" in matrix.stderr
    assert not (tmp_path / "runs").exists()


def test_a_calibration_slice_is_refused_with_save_and_says_how_to_join_the_slices(tmp_path):
    out = gl("calibrate", "unclosed-body", "--runs", "6", "--shard", "1/3", "--save", "--reports", tmp_path)
    assert out.returncode == 2 and "--from DIR ... --save" in out.stderr
    assert not (tmp_path / "runs").exists()


def test_a_named_catalogue_is_checked_before_anything_runs(tmp_path):
    twice = tmp_path / "again.yaml"
    twice.write_text((ROOT / "tests" / "scenarios" / "tiny.yaml").read_text())  # also called `tiny`
    out = gl("catalogue", ROOT / "tests" / "scenarios" / "tiny.yaml", twice, "--shard", "1/2", "--reports", tmp_path)
    assert out.returncode == 2 and "Two scenarios are called 'tiny'" in out.stderr
    both = gl("catalogue", "unclosed-body", "--from", tmp_path, "--reports", tmp_path)
    assert both.returncode == 2 and "not both" in both.stderr
    assert not (tmp_path / "runs").exists()


REGRESS = ROOT / "tests" / "fixtures" / "regress"


def test_merged_regress_slices_give_the_checks_of_one_unsharded_regress(tmp_path):
    """tests/fixtures/regress: `gatewaylab regress tiny-0.yaml tiny-1.yaml tiny-2.yaml --trials 1 --shard I/3`
    for I = 1, 2, 3, then the same unsharded (tests/scenarios/tiny.yaml under three names), recorded
    5 December 2026 on 2 cores; shard.json and regress.json of each (the comparisons' folders are not kept)."""
    slices = [REGRESS / f"slice-{i}" for i in (3, 1, 2)]  # any order
    got = gl("merge", *map(str, slices), "--reports", str(tmp_path), "--junit", str(tmp_path / "j.xml"))
    assert got.returncode == 0, got.stdout + got.stderr
    (merged,) = (tmp_path / "regress").iterdir()
    cases = [(c["suite"], c["name"], c["outcome"]) for c in json.loads((merged / "regress.json").read_text())["cases"]]
    whole = json.loads((REGRESS / "unsharded" / "regress.json").read_text())["cases"]
    assert cases == [(c["suite"], c["name"], c["outcome"]) for c in whole] and len(cases) == 24
    assert json.loads((merged / "shard.json").read_text())["units"] == ["tiny-0", "tiny-1", "tiny-2"]
    assert ET.parse(tmp_path / "j.xml").getroot().get("name") == "gatewaylab regress"
    # a regress slice does not join a catalogue slice, nor its own double
    for folders, says in (([slices[0], slices[0], slices[2]], "both slice 3/3"),
                          ([slices[0], slices[1]], "slice 2/3 missing")):
        bad = gl("merge", *map(str, folders), "--reports", str(tmp_path / "x"))
        assert bad.returncode == 2 and says in bad.stderr, bad.stderr


@pytest.mark.e2e
def test_a_regress_slice_with_no_scenario_runs_nothing_and_says_so(tmp_path):
    """Three scenarios in five slices: slice 5 holds none (the heaviest go first onto the lightest)."""
    names = [str(ROOT / "tests" / "scenarios" / n) for n in ("tiny.yaml", "e2e-short.yaml", "containers-short.yaml")]
    got = gl("regress", *names, "--shard", "5/5", "--reports", str(tmp_path))
    assert got.returncode == 0 and "slice 5/5 holds no scenario" in got.stderr, got.stderr
    (folder,) = (tmp_path / "regress").iterdir()
    assert json.loads((folder / "shard.json").read_text())["units"] == []
    assert json.loads((folder / "regress.json").read_text())["cases"] == []
    assert not (tmp_path / "compare").exists()
