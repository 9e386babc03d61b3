"""Every threshold sits on measured runs: each scenario's expectations hold on the figures committed beside it.

scenarios/calibration/NAME.json is written by `gatewaylab calibrate NAME --recorded --save`
(see README, "Verdicts"). A threshold moved, or an expectation added, without new
calibration figures fails here, naming the scenario, variant and metric.
"""

from __future__ import annotations

import json

import pytest

from harness import scenario as scenarios
from harness.analysis.expect import expectations
from harness.scenario import Expectation

CALIBRATION = scenarios.SCENARIO_DIR / "calibration"
MIN_RUNS = 5


def measured(name: str) -> dict:
    path = CALIBRATION / f"{name}.json"
    assert path.exists(), f"{name}: no calibration figures; run `gatewaylab calibrate {name} --recorded --save`"
    return json.loads(path.read_text())


@pytest.mark.parametrize("name", scenarios.available())
def test_default_variants_were_calibrated_on_enough_runs(name):
    s, res = scenarios.load(name), measured(name)
    for v in s.default_variants:
        n = len(res["runs"].get(v, []))
        assert n >= MIN_RUNS, f"{name}/{v}: calibrated on {n} runs, at least {MIN_RUNS} needed"


@pytest.mark.parametrize("name", scenarios.available())
def test_every_expectation_holds_on_every_calibration_run(name):
    s, res = scenarios.load(name), measured(name)
    values = {(r["variant"], r["metric"]): r["values"] for r in res["expectations"]}
    for v, runs in res["runs"].items():
        if not runs or v not in s.variants:
            continue
        stand_in = {"replicas": {r.name: {"has_pprof": True, "has_leakwatch": True} for r in s.replicas}}
        for e in expectations(s.resolve(v), v, stand_in):
            got = values.get((v, e.metric))
            assert got is not None, f"{name}/{v}: {e.metric} has no calibration figures; re-run the calibration"
            failed = [x for x in got if not Expectation.holds(e, x)]
            assert not failed, f"{name}/{v}: {e.describe()} fails on calibration values {failed} (all: {got})"


GATEWAY_FILES = sorted(CALIBRATION.glob("*@*.json"))
MIN_GATEWAY_RUNS = 3  # the gateway matrix: each cell passes in 3 runs out of 3


@pytest.mark.parametrize("path", GATEWAY_FILES, ids=[p.stem for p in GATEWAY_FILES])
def test_behind_another_gateway_every_expectation_holds_on_every_run(path):
    name, kind = path.stem.split("@")
    s, res = scenarios.on_gateway(scenarios.load(name), kind), json.loads(path.read_text())
    values = {(r["variant"], r["metric"]): r["values"] for r in res["expectations"]}
    for v, runs in res["runs"].items():
        if v not in s.variants:
            continue
        assert len(runs) >= MIN_GATEWAY_RUNS, f"{name}@{kind}/{v}: {len(runs)} runs, at least {MIN_GATEWAY_RUNS} needed"
        stand_in = {"replicas": {r.name: {"has_pprof": True, "has_leakwatch": True} for r in s.replicas}}
        for e in expectations(s.resolve(v), v, stand_in):
            got = values.get((v, e.metric))
            assert got is not None, f"{name}@{kind}/{v}: {e.metric} has no calibration figures; re-run the calibration"
            failed = [x for x in got if not Expectation.holds(e, x)]
            assert not failed, f"{name}@{kind}/{v}: {e.describe()} fails on calibration values {failed} (all: {got})"
