"""False alarms of `compare`: a build against itself, on synthetic trials with known answers (no processes).

The Holm correction over one comparison's metrics, "need at least N trials",
and the `false-alarm` command (refusal below 40 trials, its figures and exit
status) on re-paired synthetic or copied fixture trials.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from harness.cli.main import main
from harness.compare import falsealarm
from harness.compare.stats import BETTER, SAME, UNSURE, WORSE, decide, holm_levels
from harness.compare.verdict import judge

FIXTURE = Path(__file__).parent / "fixtures" / "runs" / "unclosed-body-fixed-step"
# per metric: (summary path, typical value, threshold); thresholds passed by kind, as --threshold would
METRICS = {
    "goroutine_slope": ("replicas.a.goroutine_trend", 1.0, 0.1),
    "pool_waiters_peak": ("replicas.a.pool_waiters_peak", 10.0, 3.0),
    "rate_5xx": ("client.rate_5xx", 0.05, 0.01),
    "p99_ms": ("client.p99_ms", 100.0, 20.0),
    "ejection_episodes": ("gateway.ejection_episodes", 3.0, 1.0),
    "bypass": ("bypass.figure", 0.5, 0.1),
}
THRESHOLDS = {kind: thr for kind, (_, _, thr) in METRICS.items()}


def trial(rng, noise: float, shift: dict[str, float] | None = None, run: str = "") -> dict:
    """One trial's summary: every metric at its typical value plus normal noise of `noise` thresholds."""
    s = {"run": run, "client": {"requests": 1000, "status": {"200": 1000}}, "replicas": {"a": {}, "b": {}},
         "gateway": {}, "bypass": {}}
    for kind, (path, center, thr) in METRICS.items():
        node = s
        *parents, leaf = path.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = center + (shift or {}).get(kind, 0.0) + rng.normal(0, noise * thr)
    return s


def claims(rows: list[dict]) -> list[str]:
    return [r["metric"] for r in rows if r["verdict"] in (BETTER, WORSE)]


def test_holm_levels_step_down_and_stop_at_the_first_test_that_fails():
    levels = holm_levels([0.001, 0.02, None, 0.04, 0.5])
    assert levels[0] == pytest.approx(0.05 / 4)  # four tests; the smallest p is judged at alpha/4
    assert levels[1] == pytest.approx(0.05 / 3)  # then alpha/3, where 0.02 fails ...
    assert levels[3] == levels[4] == pytest.approx(0.05 / 3)  # ... and nothing after it may pass
    assert levels[2] == 0.05  # not a test (no interval), untouched
    assert holm_levels([0.001, 0.002]) == pytest.approx([0.025, 0.05])


def test_a_build_against_itself_rarely_claims_any_difference_with_the_correction():
    """1000 synthetic comparisons, 3 vs 3, six metrics each as noisy as 0.7 of its threshold."""
    rng = np.random.default_rng(5)
    corrected = bootstrap_alone = 0
    for i in range(1000):
        base, cand = [trial(rng, 0.7) for _ in range(3)], [trial(rng, 0.7) for _ in range(3)]
        corrected += bool(claims(judge(["a"], base, cand, THRESHOLDS)))
        if i < 300:
            bootstrap_alone += bool(claims(judge(["a"], base, cand, THRESHOLDS, correct=False, use_t=False)))
    assert corrected <= 50, corrected  # at most 5%
    # the verdict before the correction claimed far more on the same comparisons: the test tells them apart
    assert bootstrap_alone / 300 >= 3 * max(corrected / 1000, 0.03), (bootstrap_alone, corrected)


def test_a_real_large_difference_is_still_found_after_the_correction():
    rng = np.random.default_rng(6)
    base = [trial(rng, 0.3) for _ in range(3)]
    cand = [trial(rng, 0.3, {"pool_waiters_peak": 30.0, "goroutine_slope": -0.7}) for _ in range(3)]
    rows = {r["metric"]: r for r in judge(["a"], base, cand, THRESHOLDS)}
    assert rows["replicas.a.pool_waiters_peak"]["verdict"] == WORSE
    assert rows["replicas.a.goroutine_trend"]["verdict"] == BETTER
    assert sorted(claims(rows.values())) == ["replicas.a.goroutine_trend", "replicas.a.pool_waiters_peak"]
    assert all(r["confidence"] > 0.95 for r in rows.values())  # every interval at its Holm level, above 95%


def test_two_trials_a_side_that_do_not_overlap_are_not_a_difference_when_they_are_this_noisy():
    # the bootstrap alone can never include 0 here (its support is the range of the data)
    v = decide([0.0, 1.0], [1.5, 2.5], threshold=0.5, use_t=False)
    assert v.verdict == WORSE
    assert decide([0.0, 1.0], [1.5, 2.5], threshold=0.5).verdict == UNSURE


def test_a_spread_too_wide_for_the_threshold_says_how_many_trials_it_needs():
    v = decide([0.0, 0.08, 0.01], [0.05, 0.0, 0.07], threshold=0.03)
    assert v.verdict == UNSURE and v.trials_needed and v.trials_needed > 3
    assert f"need at least {v.trials_needed} trials" in v.why and "disagree" in v.why
    # the estimate is about right: trials with that same spread and no difference
    sd = np.sqrt((np.var([0.0, 0.08, 0.01], ddof=1) + np.var([0.05, 0.0, 0.07], ddof=1)) / 2)

    def side(n: int, sign: float) -> list[float]:
        z = np.linspace(-1, 1, n)
        return list(sign * z / z.std(ddof=1) * sd)  # sample sd exactly `sd`, mean 0

    n = v.trials_needed
    assert decide(side(n, 1), side(n, -1), threshold=0.03).verdict == SAME
    assert decide(side(n // 2, 1), side(n // 2, -1), threshold=0.03).verdict == UNSURE


def test_a_narrow_interval_off_centre_asks_for_more_trials_but_no_number():
    v = decide([0.0, 0.001, 0.002], [0.025, 0.026, 0.027], threshold=0.026)
    assert v.verdict == UNSURE and "need at least" not in v.why and "run more trials" in v.why


def _copies(reports: Path, n: int) -> None:
    for i in range(n):
        shutil.copytree(FIXTURE, reports / "runs" / f"20260101-00000{i}-unclosed-body")


def test_the_command_refuses_with_fewer_than_40_trials(tmp_path, capsys):
    _copies(tmp_path, 2)
    assert main(["false-alarm", "unclosed-body", "--reports", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Only 2 complete recorded trial(s)" in err and "at least 40" in err
    assert "gatewaylab run unclosed-body --variant fixed" in err
    assert not (tmp_path / "false-alarm").exists()


def test_the_command_measures_re_pairings_and_fails_past_5_percent(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(8)
    quiet = [trial(rng, 0.3, run=f"r{i}") for i in range(40)]
    monkeypatch.setattr(falsealarm, "collect", lambda s, v, dirs: (quiet, ["x/fixed: incomplete run"]))
    args = ["false-alarm", "unclosed-body", "--comparisons", "100", "--reports", str(tmp_path)]
    for kind, thr in THRESHOLDS.items():
        args += ["--threshold", f"{kind}={thr}"]
    assert main(args) == 0
    out = json.loads(next((tmp_path / "false-alarm").glob("*-unclosed-body/false-alarm.json")).read_text())
    assert out["trials_found"] == 40 and out["comparisons"] == 100 and out["skipped"] == ["x/fixed: incomplete run"]
    assert out["corrected"]["any_claim_rate"] <= 0.05 and out["ok"]
    assert set(out["corrected"]["metrics"]) == {p for p, _, _ in METRICS.values()}
    assert sum(out["corrected"]["overall"].values()) == 100
    # metrics whose trials take one of two values, never between: 3 all-low against 3 all-high have no spread
    # to doubt, so each such metric claims in ~3% of re-pairings, and together they pass 5%
    for i, t in enumerate(quiet):
        t["replicas"]["a"]["pool_waiters_peak"] = 10.0 * (i % 2)
        t["gateway"]["ejection_episodes"] = 10.0 * (i // 2 % 2)
        t["bypass"]["figure"] = float(i // 4 % 2)
        t["client"]["p99_ms"] = 100.0 + 50 * (i // 8 % 2)
    assert main(args) == 1
    assert "claimed any difference" in capsys.readouterr().out


def test_re_pairings_are_disjoint_and_reproducible():
    a = falsealarm.repairings(40, 3, 500, seed=1)
    assert a.shape == (500, 6) and all(len(set(row)) == 6 for row in a)
    assert (a == falsealarm.repairings(40, 3, 500, seed=1)).all()
    assert not (a == falsealarm.repairings(40, 3, 500, seed=2)).all()
