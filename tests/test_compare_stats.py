"""The comparison's statistics and bookkeeping on synthetic data with known answers (no processes)."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

import pytest

from harness.compare import junit, metrics
from harness.compare.stats import BETTER, SAME, UNSURE, WORSE, bootstrap_ci, decide, mann_whitney
from harness.compare.verdict import overall
from harness.scenario import Compare, ScenarioError, load


def test_clearly_lower_candidate_is_better_and_its_interval_excludes_zero():
    v = decide([0.08, 0.07, 0.075], [0.0, 0.004, -0.003], threshold=0.03)
    assert v.verdict == BETTER
    assert v.ci_high < 0 and v.ci_low <= v.diff <= v.ci_high
    assert v.diff == pytest.approx(0.0003333 - 0.075, abs=1e-4)


def test_clearly_higher_candidate_is_worse():
    assert decide([1, 0, 1], [30, 34, 37], threshold=3).verdict == WORSE


def test_identical_builds_are_no_difference():
    v = decide([0, 0, 0], [0, 0, 0], threshold=0.5)
    assert (v.verdict, v.ci_low, v.ci_high, v.p_value) == (SAME, 0.0, 0.0, 1.0)


def test_a_consistent_difference_below_the_threshold_is_no_difference():
    # statistically clear (all 3 above all 3) but a tenth of the threshold: nobody gates a release on it
    v = decide([10.0, 10.1, 10.2], [10.3, 10.4, 10.5], threshold=5)
    assert v.verdict == SAME and v.ci_low > 0


def test_trials_that_disagree_are_not_enough_evidence():
    v = decide([0, 0, 0], [0, 0.08, 0], threshold=0.03)
    assert v.verdict == UNSURE and "disagree" in v.why


def test_one_trial_a_side_never_claims_a_difference():
    assert decide([5.0], [50.0], threshold=3).verdict == UNSURE
    assert decide([5.0], [6.0], threshold=3).verdict == SAME


def test_missing_values_are_not_enough_evidence():
    v = decide([None, None], [1.0, 2.0], threshold=1)
    assert v.verdict == UNSURE and "baseline" in v.why


def test_bootstrap_interval_covers_the_true_difference_most_of_the_time():
    rng = random.Random(7)
    covered = 0
    for i in range(200):
        a = [rng.gauss(10, 2) for _ in range(20)]
        b = [rng.gauss(13, 2) for _ in range(20)]  # true difference 3
        lo, hi = bootstrap_ci(a, b, seed=i, resamples=2000)
        covered += lo <= 3 <= hi
    assert 0.88 <= covered / 200 <= 0.99  # nominal 95%; the percentile bootstrap runs a little narrow


def test_same_distribution_rarely_yields_a_verdict_of_difference():
    """False alarms under the null: same build, noise a third of the threshold, 3 trials a side."""
    rng = random.Random(11)
    alarms = sum(decide([rng.gauss(0, 0.01) for _ in range(3)], [rng.gauss(0, 0.01) for _ in range(3)],
                        threshold=0.03, seed=i).verdict in (BETTER, WORSE) for i in range(500))
    assert alarms <= 5  # at most 1%: a difference must be both clear and larger than the threshold


def test_mann_whitney_exact_p_for_fully_separated_samples():
    assert mann_whitney([1, 2, 3], [4, 5, 6]) == pytest.approx(0.1)
    assert mann_whitney([1, 2, 3, 4], [5, 6, 7, 8]) == pytest.approx(2 / 70)
    assert mann_whitney([1], [2]) is None


def test_decisions_are_repeatable():
    assert decide([1, 2, 3], [2, 3, 9], 1, seed=3) == decide([1, 2, 3], [2, 3, 9], 1, seed=3)


def _summary(requests=1000, status=None, p99=60.0, slope=0.0, waiters=0.0, episodes=0, bypass=0.0):
    return {"client": {"requests": requests, "status": status or {"200": requests}, "p99_ms": p99, "rate_5xx": 0},
            "replicas": {"a": {"goroutine_trend": slope, "pool_waiters_peak": waiters}, "b": {}},
            "gateway": {"ejection_episodes": episodes}, "bypass": {"figure": bypass}}


def test_metrics_cover_every_5xx_code_seen_on_either_side():
    s1 = _summary(status={"200": 990, "502": 10})
    s2 = _summary(status={"200": 995, "504": 5})
    keys = [m.key for m in metrics.metrics_for(["a"], [s1, s2])]
    assert keys == ["replicas.a.goroutine_trend", "replicas.a.pool_waiters_peak", "client.rate_5xx",
                    "client.rate_5xx.502", "client.rate_5xx.504", "client.p99_ms", "gateway.ejection_episodes",
                    "bypass.figure"]
    assert metrics.value(s1, "client.rate_5xx.502") == pytest.approx(0.01)
    assert metrics.value(s1, "client.rate_5xx.504") == 0.0


def test_pool_waiters_are_left_out_when_a_service_has_no_pool_metrics():
    s = _summary()
    s["replicas"]["a"]["pool_waiters_peak"] = None
    assert "replicas.a.pool_waiters_peak" not in [m.key for m in metrics.metrics_for(["a"], [s])]


def test_thresholds_path_beats_kind_beats_default_and_p99_is_relative():
    m = metrics.Metric("client.p99_ms", "p99_ms", "")
    assert metrics.threshold(m, [1000.0, 1000.0], {}) == pytest.approx(300.0)
    assert metrics.threshold(m, [10.0], {}) == metrics.P99_FLOOR_MS
    assert metrics.threshold(m, [10.0], {"p99_ms": 7}) == 7
    assert metrics.threshold(m, [10.0], {"p99_ms": 7, "client.p99_ms": 9}) == 9


def test_scenario_rejects_unknown_threshold_names():
    with pytest.raises(ValueError):
        Compare(thresholds={"latency": 3})
    assert Compare(thresholds={"replicas.a.goroutine_slope": 0.1}).thresholds


def test_regress_variants_come_from_the_scenario_or_the_usual_names():
    assert load("unclosed-body").regress_variants() == ("fixed", "buggy")
    assert load("timeout-mismatch").regress_variants() == ("deadline", "slow-get")
    assert load("single-upstream").regress_variants() == (None, None)


def test_overall_worse_wins_then_incomplete_then_better():
    rows = [{"verdict": BETTER}, {"verdict": SAME}]
    assert overall(rows, True) == "candidate better"
    assert overall(rows + [{"verdict": WORSE}], True) == "candidate worse"
    assert overall(rows, False) == "incomplete"
    assert overall([{"verdict": SAME}], True) == "no difference"
    assert overall([{"verdict": SAME}, {"verdict": UNSURE}], True) == "not enough evidence"


def test_junit_names_scenario_and_metric_with_the_numbers(tmp_path):
    verdict = {"metrics": [
        {"metric": "replicas.a.pool_waiters_peak", "verdict": WORSE, "baseline": [0, 1], "candidate": [35, 34],
         "diff": 34.0, "ci_low": 33.0, "ci_high": 35.0, "threshold": 3.0, "why": "higher"},
        {"metric": "client.p99_ms", "verdict": SAME, "baseline": [60, 61], "candidate": [60, 62],
         "diff": 0.5, "ci_low": -1.0, "ci_high": 2.0, "threshold": 25.0, "why": "within"},
    ]}
    cases = junit.from_verdict("unclosed-body", "fixed vs baseline", verdict)
    cases.append(junit.Case("single-upstream", "hang still reproduces", "pass", "all 2 trial(s) met every expectation"))
    root = ET.parse(junit.write(cases, tmp_path / "j.xml")).getroot()
    suites = {s.get("name"): s for s in root}
    assert suites["unclosed-body"].get("failures") == "1" and suites["single-upstream"].get("failures") == "0"
    failed = suites["unclosed-body"].find("testcase/failure/..")
    assert failed.get("name") == "fixed vs baseline: replicas.a.pool_waiters_peak"
    assert "[35, 34]" in failed.find("failure").get("message")


def test_a_scenario_that_is_not_there_is_bad_input():
    with pytest.raises(ScenarioError):
        load("no-such-scenario")


def test_a_falling_goroutine_count_counts_as_no_growth():
    s = _summary(slope=-0.11)
    assert metrics.value(s, "replicas.a.goroutine_trend") == 0.0
    assert metrics.value(_summary(slope=0.07), "replicas.a.goroutine_trend") == pytest.approx(0.07)


def test_trend_ignores_a_step_up_and_down_but_follows_a_staircase():
    import pandas as pd

    from harness.analysis.replica import slope, trend

    t = pd.Series(range(40), dtype=float)
    bump = pd.Series([15.0] * 3 + [25.0] * 30 + [15.0] * 7)  # a fault's latency raises in-flight work, then lifts
    assert trend(t, bump) == 0.0 and abs(slope(t, bump)) > 0.05
    stairs = pd.Series([10.0 + (i // 10) * 3 for i in range(40)])  # +3 every 10 s: a leak in steps
    assert trend(t, stairs) == pytest.approx(0.3, abs=0.05)
    assert trend(t, 2 * t + 1) == pytest.approx(2.0)


def test_an_off_centre_interval_asks_for_no_trial_count():
    # narrow enough to fit +-1 at 3 trials, but centred near the threshold: "need N trials" would name
    # the 3 already run (seen live); the spread is not what is missing
    v = decide([0.0, 0.1, 0.2], [0.9, 1.0, 1.1], 1.0)
    assert v.verdict == UNSURE and "run more trials" in v.why
    assert v.as_dict()["trials_needed"] is None
