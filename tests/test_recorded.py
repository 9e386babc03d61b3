"""Analysis, report, expectations and compare on recorded run folders: seconds, no process started.

tests/fixtures/runs/e2e-short: `gatewaylab run tests/scenarios/e2e-short.yaml` (buggy, then fixed;
18 s of load each), recorded 3 December 2026 on 2 cores with other runs alongside.
tests/fixtures/compare/e2e-short: `gatewaylab compare tests/scenarios/e2e-short.yaml --baseline buggy
--candidate fixed --trials 2`, recorded right after. Toxiproxy's log and nginx's temp folders are left
out (nothing reads them); every page and summary is rebuilt by the tests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.analysis import stacks
from harness.analysis.figures import RunSummary
from harness.analysis.summary import load_variant, summarize, variant_summary
from harness.compare import verdict
from harness.compare.stats import BETTER
from harness.report import build
from harness.scenario import Expectation, load

FIXTURES = Path(__file__).parent / "fixtures"
RUN = FIXTURES / "runs" / "e2e-short"
COMPARISON = FIXTURES / "compare" / "e2e-short"


@pytest.fixture(scope="module")
def summary() -> dict:
    return summarize(RUN)[0]


def test_the_buggy_run_reproduces_and_the_fixed_one_does_not(summary):
    RunSummary.model_validate(summary)
    assert summary["complete"] and summary["verdict"] == "pass"
    buggy, fixed = summary["variants"]["buggy"], summary["variants"]["fixed"]
    assert buggy["replicas"]["a"]["pool_waiters_peak"] >= 5 > fixed["replicas"]["a"]["pool_waiters_peak"]
    assert buggy["replicas"]["a"]["ejection_episodes"] >= 1 and fixed["replicas"]["a"]["ejection_episodes"] == 0
    assert buggy["replicas"]["a"]["top_stack"]["own_frame"].startswith("goservices/patterns/unclosedbody/buggy.go:")
    # every request Locust sent is in nginx's access log, and nginx logged no request of its own
    for v in (buggy, fixed):
        assert v["crosscheck"]["missing_in_access_log"] == 0 and v["crosscheck"]["unexpected_in_access_log"] == 0
        assert v["client"]["requests"] > 400


def test_expectations_are_judged_by_the_scenario_and_a_moved_threshold_fails(summary):
    s = load(str(Path(__file__).parent / "scenarios" / "e2e-short.yaml"))
    tighter = s.model_copy(deep=True)
    tighter.variants["buggy"].expect.append(Expectation(metric="replicas.a.pool_waiters_peak", op=">=", value=1000))
    judged = variant_summary(load_variant(RUN, "buggy", tighter), tighter)
    failed = [e for e in judged["expectations"] if not e["holds"]]
    assert [e["metric"] for e in failed] == ["replicas.a.pool_waiters_peak"]
    assert summary["variants"]["buggy"]["verdict"] == "pass"


def test_the_report_rebuilds_from_the_folder_alone(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    first, page = build.write(run)
    again, _ = build.write(run)
    assert json.loads((run / "summary.json").read_text()) == json.loads(json.dumps(again, default=str))
    assert first == again  # rebuilt, not re-measured: the same figures every time
    html = page.read_text()
    assert "buggy" in html and "fixed" in html and "data:image/png;base64," in html
    assert "Verdict" in (run / "summary.md").read_text()


def test_the_comparison_rebuilds_and_finds_the_fix_better(tmp_path):
    folder = tmp_path / "cmp"
    shutil.copytree(COMPARISON, folder)
    v, page = verdict.write(folder)
    assert v["complete"] and v["trials_complete"] == {"baseline": 2, "candidate": 2}
    by = {r["metric"]: r for r in v["metrics"]}
    assert by["replicas.a.pool_waiters_peak"]["verdict"] == BETTER
    assert by["gateway.ejection_episodes"]["verdict"] == BETTER
    assert v["overall"] == "candidate better"
    assert page.exists() and (folder / "verdict.json").exists() and (folder / "comparison.md").exists()


def test_a_replica_name_with_a_dash_keeps_its_dumps_apart(tmp_path):
    # dumps are <replica>-<label>.txt: a replica called api-1 must not read as api + 1-baseline
    src = RUN / "variants" / "buggy" / "goroutines"
    dst = tmp_path / "goroutines"
    dst.mkdir()
    for f in src.glob("a-*"):
        shutil.copy(f, dst / f.name.replace("a-", "api-1-", 1))
    got = stacks.growth(dst, "api-1")
    want = stacks.growth(src, "a")
    assert got["from"] == "baseline" and got["to"] == "after"
    assert got["total_before"] == want["total_before"] and got["stacks_grown"] == want["stacks_grown"] >= 1
